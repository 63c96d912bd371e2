"""The commit barrier's delivery rules (app/commit_barrier.py), without a broker.

The barrier sits between Faust's fetch loop and the streams: ``gate(deliver, is_changelog)``
wraps the callback that hands each fetched record on. These tests call the wrapped callback
with plain records and look at what reaches ``deliver``. The crash test
(tests/test_crash_exactly_once.py) proves the whole against a real broker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import faust
import pytest
from faust.types import TP as FaustTP

from app.commit_barrier import COMMIT_TIMEOUT_S, CommitBarrier, exclusive_gap


class TP(NamedTuple):
    topic: str
    partition: int


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)


READINGS = TP("sensor-readings", 0)
CHANGELOG = "app-sensor-counts-changelog"


def gated(barrier: CommitBarrier, delivered: list[Record]) -> Any:
    async def deliver(record: Record) -> None:
        delivered.append(record)

    return barrier.gate(deliver, lambda topic: topic.endswith("-changelog"))


async def test_stream_records_wait_until_the_rebalance_has_ended() -> None:
    barrier, delivered = CommitBarrier(), list[Record]()
    deliver = gated(barrier, delivered)
    barrier.rebalance_started()
    held = asyncio.create_task(deliver(Record("sensor-readings", 0, 5)))
    await deliver(Record(CHANGELOG, 0, 7))  # the recovery's records pass meanwhile
    await asyncio.sleep(0.05)
    assert delivered == [Record(CHANGELOG, 0, 7)], (
        f"during a rebalance the barrier delivered {delivered}; expected only the changelog "
        "record: a stream record delivered now lands in a queue Faust is about to clear"
    )
    barrier.rebalance_ended()
    await asyncio.wait_for(held, timeout=1)
    assert delivered[-1] == Record("sensor-readings", 0, 5), (
        f"after the rebalance ended the held record was not delivered: {delivered}"
    )


async def test_nothing_is_delivered_before_the_first_rebalance_has_ended() -> None:
    barrier, delivered = CommitBarrier(), list[Record]()
    held = asyncio.create_task(gated(barrier, delivered)(Record("sensor-readings", 0, 0)))
    await asyncio.sleep(0.05)
    assert delivered == [], f"a record was delivered before any rebalance ended: {delivered}"
    barrier.rebalance_ended()
    await asyncio.wait_for(held, timeout=1)
    assert delivered == [Record("sensor-readings", 0, 0)]


async def offsets_delivered(barrier: CommitBarrier, offsets: list[int]) -> list[int]:
    """Which of ``offsets`` (partition 0 of the readings) the barrier hands on, in order."""
    delivered = list[Record]()
    deliver = gated(barrier, delivered)
    barrier.rebalance_ended()
    for offset in offsets:
        await deliver(Record("sensor-readings", 0, offset))
    return [record.offset for record in delivered]


async def test_a_record_already_delivered_is_not_delivered_twice() -> None:
    offsets = await offsets_delivered(CommitBarrier(), [3, 4, 4, 2, 5])
    assert offsets == [3, 4, 5], (
        f"the barrier delivered offsets {offsets} for [3, 4, 4, 2, 5]; expected [3, 4, 5]: "
        "an offset at or below the last one delivered is a repeat"
    )


async def test_records_below_the_sought_committed_offset_are_dropped() -> None:
    barrier = CommitBarrier()
    barrier.seek_base = {READINGS: 10}  # what the seek to the committed offsets returned
    offsets = await offsets_delivered(barrier, [8, 9, 10, 11])
    assert offsets == [10, 11], (
        f"with committed offset 10 the barrier delivered {offsets}; expected [10, 11]: "
        "offsets below the committed one were processed and committed before"
    )


async def test_a_new_rebalance_forgets_what_was_delivered() -> None:
    barrier, delivered = CommitBarrier(), list[Record]()
    deliver = gated(barrier, delivered)
    barrier.rebalance_ended()
    await deliver(Record("sensor-readings", 0, 4))
    barrier.rebalance_started()  # the partition comes back from its committed offset, 3
    barrier.rebalance_ended()
    await deliver(Record("sensor-readings", 0, 3))
    assert [record.offset for record in delivered] == [4, 3], (
        "after a rebalance the partition restarts at its committed offset; the barrier still "
        f"dropped it as a repeat: {delivered}"
    )


@dataclass
class ConsumerState:
    """The parts of Faust's consumer that the watchdog reads."""

    _acked: dict[TP, list[int]] = field(default_factory=dict)
    _committed_offset: dict[TP, int | None] = field(default_factory=dict)
    _read_offset: dict[TP, int | None] = field(default_factory=dict)
    _gap: dict[TP, Any] = field(default_factory=dict)
    _unacked_messages: set[Any] = field(default_factory=set)

    def assignment(self) -> set[TP]:
        return {READINGS}


def test_the_watchdog_names_a_partition_whose_commits_stand_still(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    barrier = CommitBarrier()
    # The hole of race 5: 1405..1525 never acknowledged, so 1526.. can never be committed.
    consumer = ConsumerState(
        _acked={READINGS: list(range(1526, 1600))},
        _committed_offset={READINGS: 1405},
        _read_offset={READINGS: 1599},
    )
    clock = [1000.0]
    monkeypatch.setattr("app.commit_barrier.time.monotonic", lambda: clock[0])
    assert barrier._stuck_partitions(consumer) == []  # first sight: the clock starts
    clock[0] += COMMIT_TIMEOUT_S + 1
    stuck = barrier._stuck_partitions(consumer)
    assert len(stuck) == 1 and "sensor-readings[0] committed 1405" in stuck[0], (
        f"after {COMMIT_TIMEOUT_S + 1:g} s without a commit the watchdog reported {stuck}; "
        "expected sensor-readings[0] with its committed offset 1405"
    )
    consumer._committed_offset[READINGS] = 1600  # a commit moved it: no longer stuck
    assert barrier._stuck_partitions(consumer) == []


async def test_a_gap_in_the_offsets_does_not_hold_back_the_commit() -> None:
    """Race 6, on Faust's own consumer bookkeeping (no broker is contacted)."""
    app = faust.App("commit-barrier-gap", broker="kafka://127.0.0.1:1")
    app.finalize()
    consumer: Any = app.consumer
    tp = FaustTP("t-enriched-readings", 1)
    # Offsets 0..1260 are committed and 1261 is a transaction marker; Faust's fetch loop read
    # 1262 after 1260 and reports the gap as (1261, 1262); then 1262..1522 are acknowledged.
    consumer._committed_offset[tp] = 1261
    await exclusive_gap(consumer._add_gap)(tp, 1261, 1262)
    for offset in range(1262, 1523):
        consumer._acked[tp].append(offset)
        consumer._acked_index[tp].add(offset)
    offset = consumer._new_offset(tp)
    assert offset == 1523, (
        f"with 1262..1522 acknowledged Faust would commit offset {offset}; expected 1523. "
        "Faust 0.15.3 alone commits 1263: the gap it records includes 1262, the duplicate "
        "ends its run of consecutive offsets, and a crash before the next commit processes "
        "1263..1522 again although their table writes are committed"
    )
