"""Task 4.1: window arithmetic.

A tumbling window is a fixed-size, non-overlapping slice of event time. Windows are aligned to
the epoch: with a size of 60 s they start at whole minutes (..., 1_700_000_040.0,
1_700_000_100.0, ...), so two workers, or a replay next week, cut time the same way.

A window holds ``start <= timestamp < end``: a reading exactly at ``end`` belongs to the NEXT
window, so every timestamp falls in exactly one window. Beware floating point right at a
boundary: ``timestamp / size`` can round to the next whole number.

Run: ``uv run pytest katas/phase4/test_windows.py``
"""

from __future__ import annotations

from typing import NamedTuple

from app.config import settings


class Window(NamedTuple):
    """One tumbling window: ``start <= timestamp < end``, ``end - start`` is the window size."""

    start: float  # epoch seconds, inclusive, a whole multiple of the size
    end: float  # epoch seconds, exclusive: the next window's start


def window_for(timestamp: float, size: float = settings.window_size) -> Window:
    """The one window of length ``size`` that holds ``timestamp`` (aligned to the epoch)."""
    raise NotImplementedError(
        "task 4.1: which window holds a timestamp — run `uv run kata hint 4.1`"
    )
