"""Task 4.2: fold readings into per-window statistics.

While a window is open, the agent keeps one ``WindowStats`` per sensor and window (provided
below): count, minimum, maximum and the SUM of the temperatures. Implement:

- ``add_reading(stats, window, temperature)``: a new WindowStats with one more temperature
  folded in; ``stats`` is None for the window's first reading (take start/end from ``window``).
- ``to_aggregate(sensor_id, stats)``: the ``WindowAggregate`` (app/models.py) of a closed window,
  with ``avg_temperature = total / count``.

Keep the sum, not a running average: the average of 10, 20 and 60 is 30, but "average the old
average with the new value" gives 37.5. An average of averages is only right by accident.

Run: ``uv run pytest katas/phase4/test_aggregation.py``
"""

from __future__ import annotations

import faust

from app.models import WindowAggregate
from katas.phase4.windows import Window


class WindowStats(faust.Record, serializer="json"):
    """What one sensor's open window remembers: enough to answer min, max and avg exactly."""

    start: float
    end: float
    count: int
    minimum: float
    maximum: float
    total: float  # the sum of the temperatures; the average is derived from it at the end


def add_reading(stats: WindowStats | None, window: Window, temperature: float) -> WindowStats:
    """``stats`` (None: the window's first reading) with one more temperature folded in."""
    raise NotImplementedError("task 4.2: fold a reading into a window — run `uv run kata hint 4.2`")


def to_aggregate(sensor_id: str, stats: WindowStats) -> WindowAggregate:
    """The WindowAggregate of a closed window."""
    raise NotImplementedError("task 4.2: build the WindowAggregate — run `uv run kata hint 4.2`")
