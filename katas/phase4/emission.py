"""Task 4.3: when windows close.

Each partition has a HORIZON: every window that ends at or before it is closed, for every
sensor of that partition. A closed window is emitted once and forgotten; nothing re-opens it.

- ``advance_horizon(horizon, timestamp, grace)``: after a reading at event time ``timestamp``,
  the horizon is ``timestamp - grace``, but it never moves back. Event time, never
  ``time.time()``: replaying last week's readings must close last week's windows the same way.
  The grace is how long (in event time) a window waits for readings that arrive out of order.
- ``split_closed(windows, horizon)``: ``(closed, still_open)``: the windows that end at or
  before the horizon, and the others; every window in exactly one list, each ordered by start.
- ``idle_horizon(horizon, windows)``: when a partition has gone quiet (no reading for the close
  delay), the horizon that closes every one of its open ``windows`` (never moving back).

Run: ``uv run pytest katas/phase4/test_emission.py``
"""

from __future__ import annotations

from collections.abc import Iterable

from katas.phase4.aggregation import WindowStats


def advance_horizon(horizon: float, timestamp: float, grace: float) -> float:
    """The closing horizon after a reading at event time ``timestamp`` was seen."""
    raise NotImplementedError(
        "task 4.3: move the horizon on event time — run `uv run kata hint 4.3`"
    )


def split_closed(
    windows: Iterable[WindowStats], horizon: float
) -> tuple[list[WindowStats], list[WindowStats]]:
    """(windows that close now, windows still open), each list ordered by start."""
    raise NotImplementedError(
        "task 4.3: split closed from open windows — run `uv run kata hint 4.3`"
    )


def idle_horizon(horizon: float, windows: Iterable[WindowStats]) -> float:
    """The horizon that closes every one of ``windows`` (a partition has gone quiet)."""
    raise NotImplementedError("task 4.3: close a quiet partition — run `uv run kata hint 4.3`")
