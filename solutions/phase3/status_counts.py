"""Task 3.2: count readings per status, repartitioned by status (reference solution)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

from faust.types import FieldDescriptorT, StreamT

from app.faust_app import app, topics
from app.models import EnrichedReading

status_counts = app.Table("status-counts", default=int, key_type=str, value_type=int)

# What group_by re-keys by. At run time ``EnrichedReading.status`` is a field descriptor (what
# group_by takes); mypy reads the class's annotation (a str), so it is typed here for what it is.
STATUS_FIELD: FieldDescriptorT[str] = cast(Any, EnrichedReading.status)


@app.agent(topics.enriched, name="count_by_status")
async def count_by_status(stream: StreamT[EnrichedReading]) -> AsyncIterator[tuple[str, int]]:
    """Add one to the reading's status count; yield (status, count)."""
    # The events arrive keyed by sensor_id; the table is keyed by status. group_by re-sends each
    # reading to "<agent>-<enriched topic>-status-repartition" keyed by its status, so all the
    # readings of one status meet in the one partition that owns that status's count.
    async for reading in stream.group_by(STATUS_FIELD, name="status"):
        status_counts[reading.status] += 1
        yield reading.status, status_counts[reading.status]
