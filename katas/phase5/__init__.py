"""Phase 5: exactly-once processing and GET /status/."""
