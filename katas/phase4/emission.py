"""Task 4.3: when windows close.

A HORIZON is a promise: every window that ends at or before it is closed. A closed window is
emitted once and forgotten; nothing re-opens it. Each SENSOR has its own horizon, moved by its
own readings, so one sensor's clock cannot close another sensor's windows (README, "Blast
radius"); its partition's sensors together have a CONSENSUS, which closes the windows of a
sensor that went quiet. A sensor's windows close at the later of the two.

- ``advance_horizon(horizon, timestamp, grace)``: after a reading at event time ``timestamp``,
  the sensor's horizon is ``timestamp - grace``, but it never moves back. Event time, never
  ``time.time()``: replaying last week's readings must close last week's windows the same way.
  The grace is how long (in event time) a window waits for readings that arrive out of order.
- ``consensus_horizon(horizons, quorum)``: the horizon that at least ``quorum`` of the
  ``horizons`` (one per sensor, in any order) have reached: the ``quorum``-th largest. With
  fewer than ``quorum`` sensors there is no consensus yet: 0.0. With a quorum of 2, one sensor
  whose clock runs ahead moves it no further than the second-furthest sensor.
- ``split_closed(windows, horizon)``: ``(closed, still_open)``: the windows that end at or
  before the horizon, and the others; every window in exactly one list, each ordered by start.
- ``idle_horizon(horizon, windows)``: when a partition has gone quiet (no reading for the close
  delay), the horizon that closes every one of a sensor's open ``windows`` (never moving back).

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


def consensus_horizon(horizons: Iterable[float], quorum: int) -> float:
    """The horizon at least ``quorum`` sensors have reached; 0.0 while fewer sensors are known."""
    raise NotImplementedError(
        "task 4.3: the horizon a quorum of sensors agree on — run `uv run kata hint 4.3`"
    )
