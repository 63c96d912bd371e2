"""``uv run kata demo``: the whole pipeline on a real broker in one command (see run.py)."""

from kata_engine.demo.run import DemoError, Options, demo

__all__ = ["DemoError", "Options", "demo"]
