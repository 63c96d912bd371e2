"""Phase 2: consume-transform-produce with a dead-letter queue (yours to edit; see README.md)."""
