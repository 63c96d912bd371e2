"""Task 3.1: count readings per sensor in a changelog-backed table.

``sensor_counts`` (below, provided) is a Faust Table: a dict whose every change is also written
to the compacted changelog topic ``<app id>-sensor-counts-changelog``. Write the agent: for each
EnrichedReading on ``enriched-readings``, add one to ``sensor_counts[reading.sensor_id]`` (a
lifetime count: it never resets), then ``yield (sensor_id, new count)``.

Only valid readings count: that is why the agent consumes ``enriched-readings`` (dead letters
never get there), not ``sensor-readings``. ``enriched-readings`` is keyed by ``sensor_id``, so
each event already arrives in the partition that owns its sensor's count: no ``group_by`` here.
A table may only be changed inside the agent's ``async for`` loop.

Run: ``uv run pytest katas/phase3/test_counting.py``
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from faust.types import StreamT

from app.faust_app import app, topics
from app.models import EnrichedReading

# Changelog topic: "<app id>-sensor-counts-changelog" (compacted; Faust creates it).
sensor_counts = app.Table("sensor-counts", default=int, key_type=str, value_type=int)


@app.agent(topics.enriched, name="count_by_sensor")
async def count_by_sensor(stream: StreamT[EnrichedReading]) -> AsyncIterator[tuple[str, int]]:
    """Add one to the sensor's lifetime count per enriched reading; yield (sensor_id, count)."""
    async for _reading in stream:
        raise NotImplementedError(
            "task 3.1: count readings per sensor — run `uv run kata hint 3.1`"
        )
        yield  # unreachable until you write the body; it makes this function an async generator
