"""Task 5.2: tables fed from the dead-letter and window-aggregates topics (reference solution)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import cast

from faust.types import StreamT

from app.faust_app import app, topics
from app.models import DeadLetter, WindowAggregate

# partition number (as text) -> {error_code: count}. Keyed by the partition, not by the error
# code: every key lives in the partition of the events that change it, so its changelog write
# shares a transaction with those events' offsets (a key fed from four partitions could not).
dead_letter_counts = app.Table("dead-letter-counts", default=dict, key_type=str)
# sensor_id -> its latest closed window. window-aggregates is keyed by sensor like the readings.
latest_windows = app.Table("latest-windows", default=None, key_type=str, value_type=WindowAggregate)


def add_dead_letter(counts: Mapping[str, int], error_code: str) -> dict[str, int]:
    """A new dict: ``counts`` with one more dead letter of ``error_code``."""
    return {**counts, error_code: counts.get(error_code, 0) + 1}


def newer_window(current: WindowAggregate | None, candidate: WindowAggregate) -> WindowAggregate:
    """The later of two windows of one sensor (by start); ``candidate`` when ``current`` is None."""
    if current is not None and current.window_start > candidate.window_start:
        return current
    return candidate


@app.agent(topics.dead_letter)
async def count_dead_letters(stream: StreamT[DeadLetter]) -> AsyncIterator[tuple[str, int]]:
    """Count every dead letter under its partition and error code; yield (code, new count)."""
    # Consuming the topic is also what puts the dead letters under the transactions: Faust
    # only makes a send transactional when the app itself consumes the destination topic.
    async for event in stream.events():
        dead = cast(DeadLetter, event.value)
        partition = str(event.message.partition)
        counts = add_dead_letter(dead_letter_counts[partition], dead.error_code)
        dead_letter_counts[partition] = counts  # assign back: the table writes its changelog
        yield dead.error_code, counts[dead.error_code]


@app.agent(topics.window_aggregates)
async def track_latest_windows(stream: StreamT[WindowAggregate]) -> AsyncIterator[WindowAggregate]:
    """Keep each sensor's latest closed window; yield it."""
    async for aggregate in stream:
        latest = newer_window(latest_windows.get(aggregate.sensor_id), aggregate)
        latest_windows[aggregate.sensor_id] = latest
        yield latest
