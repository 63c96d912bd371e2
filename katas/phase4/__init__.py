"""Phase 4: tumbling windows on event time (yours to edit; see README.md)."""
