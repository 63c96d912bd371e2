"""Root pytest configuration: everything lives in the kata engine's plugin."""

pytest_plugins = ["kata_engine.pytest_plugin"]
