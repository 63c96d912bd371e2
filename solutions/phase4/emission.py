"""Task 4.3: when windows close (reference solution)."""

from __future__ import annotations

from collections.abc import Iterable

from katas.phase4.aggregation import WindowStats


def advance_horizon(horizon: float, timestamp: float, grace: float) -> float:
    """The closing horizon after a reading at event time ``timestamp`` was seen."""
    # Event time, never the wall clock: replaying last week's readings closes last week's
    # windows exactly as they closed live. The horizon never moves back.
    return max(horizon, timestamp - grace)


def split_closed(
    windows: Iterable[WindowStats], horizon: float
) -> tuple[list[WindowStats], list[WindowStats]]:
    """(windows that close now, windows still open), each list ordered by start."""
    ordered = sorted(windows, key=lambda stats: stats.start)
    closed = [stats for stats in ordered if stats.end <= horizon]
    still_open = [stats for stats in ordered if stats.end > horizon]
    return closed, still_open


def idle_horizon(horizon: float, windows: Iterable[WindowStats]) -> float:
    """The horizon that closes every one of ``windows`` (a partition has gone quiet)."""
    return max([horizon, *(stats.end for stats in windows)])


def consensus_horizon(horizons: Iterable[float], quorum: int) -> float:
    """The horizon at least ``quorum`` sensors have reached; 0.0 while fewer sensors are known."""
    # The quorum-th largest: one sensor whose clock runs ahead cannot move it on its own.
    ordered = sorted(horizons, reverse=True)
    return ordered[quorum - 1] if len(ordered) >= quorum else 0.0
