"""Phase 3: stateful counting with changelog-backed tables (yours to edit; see README.md)."""
