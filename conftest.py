"""Root pytest configuration: everything lives in the kata engine's plugin."""

pytest_plugins = ["katas.engine.pytest_plugin"]
