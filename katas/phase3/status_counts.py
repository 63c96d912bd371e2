"""Task 3.2: count readings per status (normal, warning, critical): a different key.

``status_counts`` (below, provided) is keyed by status. But the events on ``enriched-readings``
are keyed (and so partitioned) by ``sensor_id``: the readings of one status are spread over
every partition, while the count of one status must live in ONE partition of the table.

Repartition first: ``stream.group_by(STATUS_FIELD, name="status")`` (``STATUS_FIELD``, below, is
``EnrichedReading.status`` typed for mypy) re-sends every reading to a repartition topic keyed by
its status, and gives you the stream of that topic. The name is part of the contract: the topic
is ``count_by_status-<enriched-readings>-status-repartition`` (README: Repartitioning); another
name is another topic. Then add one to ``status_counts[reading.status]`` and
``yield (status, new count)``.

Run: ``uv run pytest katas/phase3/test_status_counts.py``
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

from faust.types import FieldDescriptorT, StreamT

from app.faust_app import app, topics
from app.models import EnrichedReading

# Changelog topic: "<app id>-status-counts-changelog".
status_counts = app.Table("status-counts", default=int, key_type=str, value_type=int)

# What group_by re-keys by. At run time ``EnrichedReading.status`` is a field descriptor (what
# group_by takes); mypy reads the class's annotation (a str), so it is typed here for what it is.
STATUS_FIELD: FieldDescriptorT[str] = cast(Any, EnrichedReading.status)


@app.agent(topics.enriched, name="count_by_status")
async def count_by_status(stream: StreamT[EnrichedReading]) -> AsyncIterator[tuple[str, int]]:
    """Add one to the reading's status count; yield (status, count)."""
    async for _reading in stream:
        raise NotImplementedError(
            "task 3.2: count readings per status through group_by — run `uv run kata hint 3.2`"
        )
        yield  # unreachable until you write the body; it makes this function an async generator
