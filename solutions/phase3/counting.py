"""Task 3.1: count readings per sensor in a changelog-backed table (reference solution)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from faust.types import StreamT

from app.faust_app import app, topics
from app.models import EnrichedReading

# Changelog topic: "<app id>-sensor-counts-changelog" (compacted; created by Faust).
sensor_counts = app.Table("sensor-counts", default=int, key_type=str, value_type=int)


@app.agent(topics.enriched, name="count_by_sensor")
async def count_by_sensor(stream: StreamT[EnrichedReading]) -> AsyncIterator[tuple[str, int]]:
    """Add one to the sensor's lifetime count per enriched reading; yield (sensor_id, count)."""
    # No group_by: enriched-readings is keyed by sensor_id already, so every event arrives in the
    # partition that owns its sensor's count.
    async for reading in stream:
        sensor_counts[reading.sensor_id] += 1
        yield reading.sensor_id, sensor_counts[reading.sensor_id]
