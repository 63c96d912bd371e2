"""A rebalance while the worker runs: transactions and revoked partitions, without a broker.

The fixes of app/transport/transactions.py and app/transport/rebalance.py, found by
tests/test_cluster_faults.py (workers scaled 1 -> 3 -> 1 on 12 partitions). Each test drives the
consumer and the transaction manager that the app's transport builds, with stand-ins only where
the broker would answer; tests/mutants/barrier.py takes the revocation's two fixes away in turn
and tests/test_integrity.py proves the tests here notice. The cluster test proves the whole.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import faust
import pytest
from faust.events import Event
from faust.streams import _current_event
from faust.types import TP

from app.transport import private
from app.transport.drivers import Consumer
from app.transport.rebalance import DrainBeforeRevoke
from app.transport.transactions import TransactionManager, outputs_of
from tests.test_commit_barrier import after_a_rebalance, message, new_app, transport_consumer

READINGS = TP("t-sensor-readings", 3)
STATUS = TP("t-status-repartition", 9)  # a group_by's destination: another worker's partition


def consumer_with(app: faust.App, on_revoked: Callable[[set[TP]], Awaitable[None]]) -> Consumer:
    """The app's transport's consumer, ``on_revoked`` standing in for the app's handler."""
    return transport_consumer(app, on_revoked=on_revoked)


def manager_of(app: faust.App, monkeypatch: pytest.MonkeyPatch) -> TransactionManager:
    async def nothing(*args: Any) -> None:
        return None

    consumer = consumer_with(app, nothing)
    manager = consumer.transactions
    assert isinstance(manager, TransactionManager), f"the transport built {type(manager)}"
    monkeypatch.setattr(app.assignor, "group_for_topic", lambda topic: 0)  # one copartitioned group
    return manager


# --- sends go into the transaction of their source's partition ---------------------------------


Sent = list[tuple[str, int | None, str | None]]  # (topic, partition, transactional id)


def recording_sends(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> tuple[TransactionManager, Sent]:
    """The app's transaction manager, whose producer records each send (to partition 9)."""
    manager = manager_of(app, monkeypatch)
    monkeypatch.setattr(manager.consumer, "key_partition", lambda topic, key, partition: 9)
    sent: Sent = []

    async def send(topic: str, key: Any, value: Any, partition: int | None, *args: Any,
                   transactional_id: str | None = None) -> None:  # fmt: skip
        sent.append((topic, partition, transactional_id))

    monkeypatch.setattr(app.producer, "send", send)
    return manager, sent


async def test_a_send_while_an_event_is_processed_goes_into_its_source_partitions_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = new_app()
    manager, sent = recording_sends(app, monkeypatch)
    record = message(READINGS.topic, READINGS.partition, 41)
    event = Event(app, b"sensor-001", b"{}", {}, record)
    token = _current_event.set(weakref.ref(event))
    try:
        await manager.send(STATUS.topic, b"ok", b"1", None, None, None)
    finally:
        _current_event.reset(token)
    assert sent == [(STATUS.topic, 9, f"{app.conf.id}-0-3")], (
        f"a send to {STATUS} while processing {READINGS} went {sent}; expected partition 9 under "
        f"transactional id {app.conf.id}-0-3, the source's: Faust picks the destination's (-0-9), "
        "a partition another worker may own (ProducerFenced), and the output would not commit "
        "with its source's offset"
    )


async def test_a_send_inside_outputs_of_goes_into_that_events_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = new_app()
    manager, sent = recording_sends(app, monkeypatch)
    # A batch of two events: partition 3's, then partition 5's, which is Faust's current event.
    first = Event(app, b"sensor-001", b"{}", {}, message(READINGS.topic, 3, 41))
    last = Event(app, b"sensor-002", b"{}", {}, message(READINGS.topic, 5, 17))
    token = _current_event.set(weakref.ref(last))
    try:
        with outputs_of(first):
            await manager.send(STATUS.topic, b"ok", b"1", None, None, None)
        await manager.send(STATUS.topic, b"ok", b"2", None, None, None)
    finally:
        _current_event.reset(token)
    ids = [transactional_id for _, _, transactional_id in sent]
    assert ids == [f"{app.conf.id}-0-3", f"{app.conf.id}-0-5"], (
        f"a send inside outputs_of(partition 3's event) and one outside it, while partition 5's "
        f"event was current, went under {ids}; expected -0-3, then -0-5: a batch's outcome "
        "commits with its own event's offset only in its own event's transaction"
    )


# --- producers only for the partitions this worker owns ----------------------------------------


class Stoppable:
    """A transactional producer as far as stopping it goes."""

    def __init__(self) -> None:
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True


async def test_a_rebalance_stops_the_producers_of_partitions_not_owned_standbys_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = new_app()
    manager = manager_of(app, monkeypatch)
    changelog = TP(next(iter(app.tables.changelog_topics)), 1)  # kept here as a standby
    monkeypatch.setattr(app.assignor, "is_standby", lambda tp: tp == changelog)

    async def begin(transactional_id: str) -> None:
        return None  # Faust's start of the owned ones: a real producer, a broker

    monkeypatch.setattr(app.producer, "maybe_begin_transaction", begin)
    assert isinstance(app.producer, faust.transport.drivers.aiokafka.Producer)
    producers: Any = private.transaction_producers(app.producer)  # Faust's class-level dict
    ids = {p: f"{app.conf.id}-0-{p}" for p in (0, 1, 2)}
    stand_ins = {p: Stoppable() for p in ids}
    for partition, transactional_id in ids.items():
        producers[transactional_id] = stand_ins[partition]
    try:
        # Partition 0 stays ours, 1 stays only as a standby (its changelog), 2 went away earlier
        # without Faust stopping its producer.
        await manager.on_rebalance({READINGS._replace(partition=0), changelog}, set(), set())
        left = sorted(tid for tid in ids.values() if tid in producers)
    finally:
        for transactional_id in ids.values():
            producers.pop(transactional_id, None)
    stopped = sorted(p for p, stand_in in stand_ins.items() if stand_in.stopped)
    assert left == [ids[0]] and stopped == [1, 2], (
        f"after the rebalance the producers {left} were left and partitions {stopped} stopped; "
        "expected only partition 0's left: a producer kept for a standby (or a partition gone) "
        "fences the new owner's, or is fenced by it"
    )


# --- the revocation's commit includes the revoked partitions -----------------------------------


async def test_the_revocations_commit_includes_the_revoked_partitions_acknowledged_offsets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = after_a_rebalance(new_app("at_least_once"))
    committed: list[dict[TP, int]] = []

    async def the_apps_handler(revoked: set[TP]) -> None:
        await consumer.force_commit()  # Faust's app commits inside its revocation handler

    consumer = consumer_with(app, the_apps_handler)
    monkeypatch.setattr(consumer, "assignment", lambda: {READINGS})  # still ours while revoking

    async def commit(offsets: dict[TP, int]) -> bool:
        committed.append(dict(offsets))
        return True

    async def flush() -> None:
        return None

    monkeypatch.setattr(consumer, "_commit", commit)
    monkeypatch.setattr(app.producer, "flush", flush)
    for offset in (5, 6, 7):  # acknowledged since the last commit (at 5)
        private.acked_offsets(consumer)[READINGS].append(offset)
        private.acked_index(consumer)[READINGS].add(offset)
    private.committed_offsets(consumer)[READINGS] = 5
    await asyncio.wait_for(consumer.on_partitions_revoked({READINGS}), timeout=10)
    assert committed == [{READINGS: 8}], (
        f"the revocation committed {committed}; expected {READINGS} at 8: Faust drops the books "
        "of revoked partitions before its handler commits, and the events acknowledged since "
        "the last commit are processed again (under exactly_once: their outputs committed twice)"
    )
    assert READINGS not in private.acked_offsets(consumer), "the revoked books were kept after"
    seek_base = consumer.revoked_books.committed_with(private.committed_offsets(consumer))
    assert seek_base.get(READINGS) == 8, f"the seek would wait for {seek_base}, not for 8 (race 3)"


# --- a revocation waits for the events in flight -----------------------------------------------


async def test_a_revocation_waits_until_the_events_in_flight_are_acknowledged() -> None:
    app = after_a_rebalance(new_app("at_least_once"))
    handled: list[set[TP]] = []

    async def the_apps_handler(revoked: set[TP]) -> None:
        handled.append(revoked)  # Faust's handler clears the streams' queues first thing

    consumer = consumer_with(app, the_apps_handler)
    record = message(READINGS.topic, READINGS.partition, 7)
    consumer.track_message(record)  # an agent is at work on it
    revoking = asyncio.create_task(consumer.on_partitions_revoked({READINGS}))
    await asyncio.sleep(0.3)
    assert handled == [], (
        "the app's revocation handler ran while an event was unacknowledged; expected it to "
        "wait: it clears the queues under the event, and Faust's wait_empty waits for an event "
        "that may never be acknowledged (the at_least_once hang), or the commit stops before it"
    )
    consumer.ack(record)
    await asyncio.wait_for(revoking, timeout=10)
    assert handled == [{READINGS}]


async def test_the_drain_before_a_revocation_gives_up_at_its_timeout() -> None:
    drain = DrainBeforeRevoke()
    drain.timeout_s = 0.1
    drained = await asyncio.wait_for(drain.wait(lambda: (0, 1), lambda: 0), timeout=10)
    assert drained is False, "an event never acknowledged held the revocation for ever"
