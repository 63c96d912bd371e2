"""Phase 1: setup and concepts (yours to edit; see README.md)."""
