"""Task 4.2: fold readings into per-window statistics (reference solution)."""

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
    if stats is None:
        return WindowStats(
            start=window.start,
            end=window.end,
            count=1,
            minimum=temperature,
            maximum=temperature,
            total=temperature,
        )
    return WindowStats(
        start=stats.start,
        end=stats.end,
        count=stats.count + 1,
        minimum=min(stats.minimum, temperature),
        maximum=max(stats.maximum, temperature),
        total=stats.total + temperature,
    )


def to_aggregate(sensor_id: str, stats: WindowStats) -> WindowAggregate:
    """The WindowAggregate of a closed window."""
    return WindowAggregate(
        sensor_id=sensor_id,
        window_start=stats.start,
        window_end=stats.end,
        count=stats.count,
        min_temperature=stats.minimum,
        max_temperature=stats.maximum,
        avg_temperature=stats.total / stats.count,  # sum / count: never an average of averages
    )
