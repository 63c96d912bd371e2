"""Reference solutions of phase 5: exactly-once processing and GET /status/."""
