"""Reference solutions of phase 2: consume-transform-produce with a dead-letter queue."""
