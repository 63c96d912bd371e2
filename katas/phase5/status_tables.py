"""Task 5.2: tables fed from the dead-letter and window-aggregates topics.

/status/ (task 5.3) reports dead letters per error code and each sensor's latest closed window.
Both live in tables, and the tables are fed by agents that CONSUME sensor-dead-letter and
window-aggregates. That consuming matters twice: a table must be fed by a stream, and Faust
makes a send part of a transaction only when the app itself consumes the destination topic
(faust #177): without these agents, the dead letters and the window aggregates of phases 2 and
4 would be written outside the transactions, and duplicated after a crash (README).

Provided: the two tables. ``dead_letter_counts`` is keyed by the PARTITION (as text) the dead
letter arrived on, its value a dict ``{error_code: count}``: a key fed from one partition only
writes its changelog to that partition, in the same transaction as that partition's offsets. A
table keyed by error code would be fed from all four partitions at once.

You write:

- ``add_dead_letter(counts, error_code)``: a NEW dict, ``counts`` with one more ``error_code``
  (the table notices only a value you assign back; never change ``counts`` in place).
- ``newer_window(current, candidate)``: the one of a sensor's two windows that starts later;
  ``candidate`` when ``current`` is None or they start at the same time.
- ``count_dead_letters``: for every event of ``topics.dead_letter`` (use ``stream.events()``:
  you need ``event.message.partition``), store ``add_dead_letter(...)`` under the partition,
  and yield ``(error_code, its new count in that partition)``.
- ``track_latest_windows``: for every ``WindowAggregate``, store ``newer_window(...)`` under its
  sensor and yield what you stored.

Run: ``uv run pytest katas/phase5/test_status_tables.py``
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from faust.types import StreamT

from app.faust_app import app, topics
from app.models import DeadLetter, WindowAggregate

# partition number (as text) -> {error_code: count}
dead_letter_counts = app.Table("dead-letter-counts", default=dict, key_type=str)
# sensor_id -> its latest closed window
latest_windows = app.Table("latest-windows", default=None, key_type=str, value_type=WindowAggregate)


def add_dead_letter(counts: Mapping[str, int], error_code: str) -> dict[str, int]:
    """A new dict: ``counts`` with one more dead letter of ``error_code``."""
    raise NotImplementedError("task 5.2: count one dead letter — run `uv run kata hint 5.2`")


def newer_window(current: WindowAggregate | None, candidate: WindowAggregate) -> WindowAggregate:
    """The later of two windows of one sensor (by start); ``candidate`` when ``current`` is None."""
    raise NotImplementedError("task 5.2: pick the latest window — run `uv run kata hint 5.2`")


@app.agent(topics.dead_letter)
async def count_dead_letters(stream: StreamT[DeadLetter]) -> AsyncIterator[tuple[str, int]]:
    """Count every dead letter under its partition and error code; yield (code, new count)."""
    async for _event in stream.events():
        raise NotImplementedError(
            "task 5.2: count dead letters per partition — run `uv run kata hint 5.2`"
        )
        yield  # unreachable until you write the body; it makes this function an async generator


@app.agent(topics.window_aggregates)
async def track_latest_windows(stream: StreamT[WindowAggregate]) -> AsyncIterator[WindowAggregate]:
    """Keep each sensor's latest closed window; yield it."""
    async for _aggregate in stream:
        raise NotImplementedError(
            "task 5.2: keep each sensor's latest window — run `uv run kata hint 5.2`"
        )
        yield  # unreachable until you write the body
