"""Task 3.2: count readings per status, repartitioned by status (reference solution)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from faust.types import StreamT

from app.faust_app import app, topics
from app.models import EnrichedReading

status_counts = app.Table("status-counts", default=int, key_type=str, value_type=int)


@app.agent(topics.enriched, name="count_by_status")
async def count_by_status(stream: StreamT[EnrichedReading]) -> AsyncIterator[tuple[str, int]]:
    """Add one to the reading's status count; yield (status, count)."""
    # The events arrive keyed by sensor_id; the table is keyed by status. group_by re-sends each
    # reading to "<agent>-<enriched topic>-status-repartition" keyed by its status, so all the
    # readings of one status meet in the one partition that owns that status's count.
    by_status: Any = EnrichedReading.status  # a field descriptor (mypy sees a str)
    async for reading in stream.group_by(by_status, name="status"):
        status_counts[reading.status] += 1
        yield reading.status, status_counts[reading.status]
