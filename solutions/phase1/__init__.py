"""Reference solutions of phase 1: setup and concepts."""
