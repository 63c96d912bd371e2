"""Reference solutions of phase 3: stateful counting with changelog-backed tables."""
