"""The transport's races, one test (or two) per race, without a broker (app/transport/races.py).

Each test drives Faust's own classes where it can: the consumer that the app's transport builds
(app/transport/drivers.py), its delivery callback, its ``force_commit``, Faust's offset
bookkeeping. Where a race needs the broker's answer (race 3's seek, race 7's transactions) the
test drives the race's unit with stand-ins that keep aiokafka's real transaction state machine.
Every test here fails when its race's fix is taken away: tests/mutants/barrier.py takes each
away in turn, and tests/test_integrity.py proves the tests notice. The crash test
(tests/test_crash_exactly_once.py) proves the whole against a real broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import faust
import pytest
from aiokafka.errors import IllegalOperation
from aiokafka.producer.transaction_manager import TransactionManager, TransactionState
from faust.sensors import Sensor
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, ConsumerT, Message

from app.transport import private, transport_url
from app.transport.drivers import Consumer, Producer
from app.transport.races import (
    Race3StableSeek,
    Race7CommitTimerTransactions,
    Race8RecoveryHighwater,
    TakeoverSeek,
)
from app.transport.watchdog import COMMIT_TIMEOUT_S, LEFT_BEHIND, Watchdog

READINGS = TP("t-sensor-readings", 0)


def new_app(guarantee: str = "exactly_once") -> faust.App:
    """An app on this project's transport; never started, no broker is contacted."""
    app = faust.App(
        f"barrier-{guarantee}",
        broker=transport_url("kafka://127.0.0.1:1"),
        processing_guarantee=guarantee,
        autodiscover=False,
    )
    app.in_worker = True  # as faust.Worker sets it: only a worker runs transactions
    app.Table("counts", default=int)  # a changelog topic: t-counts-changelog
    app.finalize()
    return app


def changelog(app: faust.App) -> str:
    return next(iter(app.tables.changelog_topics))


def message(topic: str, partition: int, offset: int) -> Message:
    return Message(topic, partition, offset, 0.0, 0, [], None, b"", None, tp=TP(topic, partition))


async def nothing(*args: Any) -> None:
    return None


def transport_consumer(
    app: faust.App,
    *,
    callback: Callable[[Message], Awaitable[None]] = nothing,
    on_revoked: Callable[[set[TP]], Awaitable[None]] = nothing,
) -> Consumer:
    """The consumer the app's transport builds (ours, drivers.Consumer), with these callbacks."""
    consumer = app.transport.create_consumer(
        callback=callback, on_partitions_revoked=on_revoked, on_partitions_assigned=nothing
    )
    assert isinstance(consumer, Consumer), f"the transport built {type(consumer)}"
    return consumer


def consumer_of(app: faust.App, delivered: list[Message]) -> Consumer:
    """The app's transport's consumer, with a callback that records what reaches the streams."""

    async def deliver(record: Message) -> None:
        delivered.append(record)

    return transport_consumer(app, callback=deliver)


def after_a_rebalance(app: faust.App) -> faust.App:
    app.on_rebalance_start()
    app.on_rebalance_end()
    return app


class Streams:
    """The app's consumer, and what it handed on to the streams."""

    def __init__(self, app: faust.App) -> None:
        self.records: list[Message] = []
        self.consumer = consumer_of(app, self.records)

    async def offsets(self, offsets: list[int]) -> list[int]:
        """Which of ``offsets`` (partition 0 of the readings) reach the streams, in order."""
        before = len(self.records)
        for offset in offsets:
            await self.consumer.deliver(message(READINGS.topic, 0, offset))
        return [record.offset for record in self.records[before:]]


# --- race 1: an event's outputs committed without its offset -----------------------------------


async def test_race1_a_commit_waits_until_every_delivered_record_is_acknowledged() -> None:
    app = after_a_rebalance(new_app())
    streams = Streams(app)
    consumer = streams.consumer
    record = message(READINGS.topic, 0, 7)
    consumer.track_message(record)  # delivered to a stream, its agent still at work
    commit = asyncio.create_task(consumer.force_commit())
    await asyncio.sleep(0.2)
    assert not commit.done(), (
        "force_commit() finished while a delivered record was unacknowledged; expected it to "
        "wait (race 1): its outputs would commit in the open transaction without its offset"
    )
    consumer.ack(record)
    await asyncio.wait_for(commit, timeout=2)


async def test_race1_no_record_reaches_a_stream_while_a_commit_is_prepared() -> None:
    app = after_a_rebalance(new_app())
    streams = Streams(app)
    consumer = streams.consumer
    with consumer.race1.closed():
        held = asyncio.create_task(consumer.deliver(message(READINGS.topic, 0, 3)))
        await asyncio.sleep(0.05)
        assert streams.records == [], (
            "a record reached a stream while the commit was being prepared (race 1)"
        )
    await asyncio.wait_for(held, timeout=1)
    assert [r.offset for r in streams.records] == [3]


async def test_race1_changelog_records_pass_while_a_commit_is_prepared() -> None:
    app = new_app()
    app.on_rebalance_start()  # a recovery: the worker replays its changelogs
    streams = Streams(app)
    with streams.consumer.race1.closed():
        await asyncio.wait_for(streams.consumer.deliver(message(changelog(app), 0, 5)), 1)
    assert [r.offset for r in streams.records] == [5], (
        "a changelog record waited for a commit; expected it to pass: a recovery held by a "
        "commit times out and Faust recovers the tables empty"
    )


# --- race 2: table writes committed after their offsets ----------------------------------------


class CommitOrder(Sensor):
    """Records the moment Faust's own commit starts (a sensor: Faust's public hook)."""

    def __init__(self, steps: list[str]) -> None:
        super().__init__()
        self.steps = steps

    def on_commit_initiated(self, consumer: ConsumerT) -> Any:
        self.steps.append("faust commits")
        return None


async def test_race2_the_producer_is_flushed_before_faust_commits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = after_a_rebalance(new_app())
    streams = Streams(app)
    consumer = streams.consumer
    steps: list[str] = []
    app.sensors.add(CommitOrder(steps))

    async def flush() -> None:
        steps.append("flush")

    monkeypatch.setattr(app.producer, "flush", flush)  # what a flush is, is Faust's business
    await consumer.force_commit()
    assert steps[:2] == ["flush", "faust commits"], (
        f"the commit went {steps}; expected the producer flushed first (race 2): table writes "
        "still buffered would land in the next transaction, after their offsets committed"
    )


# --- race 3: a seek right after a commit reads the previous offset -----------------------------


async def test_race3_the_seek_asks_again_until_the_broker_has_our_commit() -> None:
    answers = [{READINGS: 1200}, {READINGS: 1200}, {READINGS: 1263}]
    asked: list[Mapping[TP, int | None]] = []

    async def fetch() -> Mapping[TP, int | None]:
        asked.append(answers[min(len(asked), len(answers) - 1)])
        return asked[-1]

    fetched = await Race3StableSeek().stable(fetch, {READINGS: 1263})
    assert fetched == {READINGS: 1263} and len(asked) == 3, (
        f"the seek returned {fetched} after {len(asked)} answers; expected it to ask until the "
        "broker returned 1263, what this worker committed (race 3): 1200 repeats 63 events"
    )


async def test_race3_records_below_the_sought_committed_offset_are_dropped() -> None:
    streams = Streams(after_a_rebalance(new_app()))
    consumer = streams.consumer
    consumer.race3.seek_base = {READINGS: 10}  # what the seek to the committed offsets found
    offsets = await streams.offsets([8, 9, 10, 11])
    assert offsets == [10, 11], (
        f"with committed offset 10 the consumer delivered {offsets}; expected [10, 11]: "
        "offsets below the committed one were processed and committed before (race 3)"
    )


# --- race 4: a record delivered again ----------------------------------------------------------


async def test_race4_a_record_already_delivered_is_not_delivered_twice() -> None:
    streams = Streams(after_a_rebalance(new_app()))
    offsets = await streams.offsets([3, 4, 4, 2, 5])
    assert offsets == [3, 4, 5], (
        f"the consumer delivered offsets {offsets} for [3, 4, 4, 2, 5]; expected [3, 4, 5]: "
        "an offset at or below the last one delivered is a repeat (race 4)"
    )


async def test_race4_a_seek_back_delivers_again() -> None:
    streams = Streams(after_a_rebalance(new_app()))
    consumer = streams.consumer
    await streams.offsets([4])
    await consumer.on_partitions_revoked(set())  # the partition comes back from offset 3
    offsets = await streams.offsets([3])
    assert offsets == [3], (
        f"after a rebalance the partition restarts at its committed offset 3; the consumer "
        f"delivered {offsets}, expected [3]"
    )


# --- race 5: records cleared while the rebalance ends ------------------------------------------


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
async def test_race5_stream_records_wait_until_the_rebalance_has_ended(guarantee: str) -> None:
    app = new_app(guarantee)
    streams = Streams(app)
    consumer = streams.consumer
    first = asyncio.create_task(consumer.deliver(message(READINGS.topic, 0, 0)))
    await asyncio.sleep(0.05)
    assert streams.records == [], "a record was delivered before any rebalance ended"
    app.on_rebalance_start()
    await consumer.deliver(message(changelog(app), 0, 7))  # the recovery's records pass
    assert [r.topic for r in streams.records] == [changelog(app)], (
        f"during a rebalance the consumer delivered {streams.records}; expected only the "
        "changelog record: a stream record delivered now lands in a queue Faust is about to "
        "clear, a hole in the acknowledged offsets (race 5)"
    )
    app.on_rebalance_end()
    await asyncio.wait_for(first, timeout=1)
    assert streams.records[-1].offset == 0, "the held record was not delivered after"


# --- race 6: a gap recorded with the record after it -------------------------------------------


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
async def test_race6_a_gap_in_the_offsets_does_not_hold_back_the_commit(guarantee: str) -> None:
    streams = Streams(new_app(guarantee))
    consumer: Any = streams.consumer
    tp = TP("t-enriched-readings", 1)
    # Offsets 0..1260 are committed and 1261 is a transaction marker; Faust's fetch loop read
    # 1262 after 1260 and reports the gap as (1261, 1262); then 1262..1522 are acknowledged.
    consumer._committed_offset[tp] = 1261
    await consumer._add_gap(tp, 1261, 1262)
    for offset in range(1262, 1523):
        consumer._acked[tp].append(offset)
        consumer._acked_index[tp].add(offset)
    offset = consumer._new_offset(tp)
    assert offset == 1523, (
        f"with 1262..1522 acknowledged Faust would commit offset {offset}; expected 1523. "
        "Faust 0.15.3 alone commits 1263: the gap it records includes 1262, the duplicate "
        "ends its run of consecutive offsets, and a crash before the next commit processes "
        "1263..1522 again although their table writes are committed (race 6)"
    )


# --- race 9: no gap after offset 0 ---------------------------------------------------------------


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
async def test_race9_a_gap_right_after_offset_0_does_not_hold_back_the_commit(
    guarantee: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = after_a_rebalance(new_app(guarantee))
    # As once an agent subscribes to the topic (the conductor fills this in at start-up).
    monkeypatch.setattr(app.topics, "acks_enabled_for", lambda topic: True)
    streams = Streams(app)
    consumer: Any = streams.consumer
    # Offset 1 is a transaction marker: the fetch loop reads 0, then 2 and 3. Both loops (Faust's
    # and fastpath.py's) hand each record to ``deliver``, then note it as read.
    for offset in (0, 2, 3):
        record = message(READINGS.topic, 0, offset)
        await consumer.deliver(record)
        private.read_offsets(consumer)[READINGS] = offset
        consumer.track_message(record)
        consumer.ack(record)
    assert [record.offset for record in streams.records] == [0, 2, 3]
    offset = consumer._new_offset(READINGS)
    assert offset == 4, (
        f"with 0, 2 and 3 acknowledged and 1 a transaction marker, Faust would commit offset "
        f"{offset}; expected 4. Faust 0.15.3 records no gap after offset 0 (its fetch loop "
        "tests the last offset read for truth), so it commits 1 while the table writes of 2 "
        "and 3 commit with it: a crash before the next commit processes them again (race 9)"
    )


# --- race 10: a record held through the rebalance ------------------------------------------------


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
async def test_race10_a_record_held_through_the_rebalance_does_not_hold_back_the_commit(
    guarantee: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = new_app(guarantee)
    monkeypatch.setattr(app.topics, "acks_enabled_for", lambda topic: True)
    streams = Streams(app)
    consumer: Any = streams.consumer

    async def seek_to_committed(self: object) -> Mapping[TP, int]:
        return {READINGS: 556}  # the broker's answer: offsets 556 and 557 are markers

    monkeypatch.setattr(faust_aiokafka.Consumer, "seek_to_committed", seek_to_committed)
    app.on_rebalance_start()
    # During the recovery Faust's fetch loop hands over 558. The revocation dropped its books,
    # so it recorded no gap before 558; the consumer holds the record (race 5).
    held = asyncio.create_task(consumer.deliver(message(READINGS.topic, 0, 558)))
    await asyncio.sleep(0.05)
    await consumer.perform_seek()  # Faust's seek to the committed offsets ends the rebalance
    app.on_rebalance_end()
    await asyncio.wait_for(held, timeout=1)
    for offset in (558, 559):
        if offset != 558:
            await consumer.deliver(message(READINGS.topic, 0, offset))
        record = streams.records[-1]
        private.read_offsets(consumer)[READINGS] = offset  # as the fetch loop notes it
        consumer.track_message(record)
        consumer.ack(record)
    assert [record.offset for record in streams.records] == [558, 559]
    offset = consumer._new_offset(READINGS)
    assert offset == 560, (
        f"with 556 committed, 557 a marker and 558..559 acknowledged, Faust would commit offset "
        f"{offset}; expected 560. Faust 0.15.3 checked 558's gap before the seek, against the "
        "books the revocation had dropped, so the commit stays at 556 while the table writes "
        "of 558 and 559 commit: a crash before the next commit processes them again (race 10)"
    )


async def test_a_drained_commit_that_leaves_acknowledged_records_out_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = after_a_rebalance(new_app())
    consumer: Any = Streams(app).consumer
    monkeypatch.setattr(type(consumer), "assignment", lambda self: {READINGS})
    monkeypatch.setattr(app.assignor, "group_for_topic", lambda topic: 0)  # no rebalance ran
    committed: list[Mapping[str, Mapping[TP, int]]] = []

    async def commit_transactions(
        offsets: Mapping[str, Mapping[TP, int]], *args: Any, **kw: Any
    ) -> None:
        committed.append(offsets)  # the broker's part is not this test's business

    monkeypatch.setattr(app.producer, "commit_transactions", commit_transactions)
    # Race 9's hole: 0, 2 and 3 acknowledged, no gap for 1. Faust commits 1 and leaves 2 and 3.
    consumer._acked[READINGS] = [0, 2, 3]
    consumer._acked_index[READINGS] = {0, 2, 3}
    await consumer.force_commit()
    warnings = [r.getMessage() for r in caplog.records if LEFT_BEHIND in r.getMessage()]
    assert len(warnings) == 1 and "t-sensor-readings[0] committed 1" in warnings[0], (
        f"the commit left offsets 2 and 3 out and the worker logged {warnings}; expected one "
        f"warning starting {LEFT_BEHIND!r} that names t-sensor-readings[0] committed 1: the "
        "crash test fails on that line, so a hole in Faust's books shows without a crash"
    )
    assert committed == [{"barrier-exactly_once-0-0": {READINGS: 1}}], committed
    caplog.clear()
    await consumer.force_commit()  # the books are whole again: 2 and 3 commit now
    assert not [r for r in caplog.records if LEFT_BEHIND in r.getMessage()], (
        "a commit that committed every acknowledged record was reported as leaving some out"
    )


# --- race 8: a recovery that finds nothing to recover ------------------------------------------


def test_race8_highwaters_aiokafka_has_not_seen_are_asked_of_the_broker() -> None:
    log = TP("t-counts-changelog", 0)
    seen = {log: 128, TP(log.topic, 1): None}  # partition 1: no fetch response yet
    unknown = Race8RecoveryHighwater().unknown(seen, [log, TP(log.topic, 1), TP(log.topic, 2)])
    assert unknown == [TP(log.topic, 1), TP(log.topic, 2)], (
        f"the highwaters to ask the broker for are {unknown}; expected partitions 1 and 2: "
        "Faust reads an unknown highwater as -1 and recovers the table empty (race 8)"
    )


# --- race 7 and the final commit: transactions without offsets ---------------------------------


class Transactional:
    """A transactional producer's state, kept by aiokafka's own TransactionManager."""

    def __init__(self, transactional_id: str) -> None:
        self._txn_manager = TransactionManager(transactional_id, 60_000)
        self._txn_manager._transition_to(TransactionState.READY)  # the producer has its pid
        self.commits = 0
        self.aborts = 0

    async def begin_transaction(self) -> None:
        self._txn_manager.begin_transaction()

    async def commit_transaction(self) -> None:
        self._txn_manager.committing_transaction()  # AssertionError unless one is open
        self._txn_manager.complete_transaction()
        self.commits += 1

    async def flush(self) -> None:
        return None

    async def abort_transaction(self) -> None:
        self._txn_manager.aborting_transaction()
        self._txn_manager.complete_transaction()
        self.aborts += 1

    async def send_offsets_to_transaction(self, offsets: Any, group_id: str) -> None:
        if not self._txn_manager.is_in_transaction():  # as aiokafka does
            raise IllegalOperation("Not in the middle of a transaction")


async def opened(*transactional_ids: str) -> dict[str, Transactional]:
    producers = {tid: Transactional(tid) for tid in transactional_ids}
    for producer in producers.values():
        await producer.begin_transaction()
    return producers


def commit_rest(
    producers: Mapping[str, Transactional], committed: set[str], start_new: bool
) -> Awaitable[list[str]]:
    locks: dict[str, asyncio.Lock] = {tid: asyncio.Lock() for tid in producers}
    return Race7CommitTimerTransactions().commit_the_rest(
        producers, committed, locks.__getitem__, private.in_transaction, start_new
    )


async def test_race7_every_commit_commits_the_transactions_faust_left_out() -> None:
    producers = await opened("app-1-0", "app-1-1")
    done = await commit_rest(producers, {"app-1-0"}, True)  # Faust committed 1-0 (offsets)
    assert done == ["app-1-1"] and producers["app-1-1"].commits == 1, (
        f"the barrier committed {done}; expected app-1-1, whose transaction holds only timer "
        "output (window ticks): left open, its ticks stay invisible and its windows never close"
    )
    assert private.in_transaction(producers["app-1-1"]), "no new transaction began after it"


async def test_final_commit_begins_no_new_transaction_and_a_later_commit_leaves_it() -> None:
    producers = await opened("app-1-0", "app-1-1")
    await commit_rest(producers, set(), False)  # the final commit of a clean shutdown
    still_open = [tid for tid, p in producers.items() if private.in_transaction(p)]
    assert still_open == [], (
        f"after the final commit (start_new_transaction=False) {still_open} had a new "
        "transaction open; expected none: the worker is stopping"
    )
    # Faust's wait_empty and the consumer's stop commit again: nothing is open, nothing done.
    done = await commit_rest(producers, set(), True)
    assert done == [], f"a commit after the final one committed closed transactions {done}"


async def test_faust_commits_only_open_transactions() -> None:
    app = new_app()
    producer = app.producer
    assert isinstance(producer, Producer)
    closed = Transactional("barrier-exactly_once-1-0")  # ended by the final commit
    faust_producers: Any = private.transaction_producers(producer)  # Faust's class-level dict
    faust_producers[closed._txn_manager.transactional_id] = closed
    producer._trn_locks[closed._txn_manager.transactional_id] = asyncio.Lock()
    try:
        await producer.commit_transactions(
            {closed._txn_manager.transactional_id: {READINGS: 5}}, "barrier-exactly_once"
        )
    finally:
        faust_producers.pop(closed._txn_manager.transactional_id)
    assert closed.commits == 0 and producer.committed_ids == set()


# --- a clean shutdown (SIGTERM) ----------------------------------------------------------------


async def stopped(app: faust.App) -> faust.App:
    """``app`` stopped as a SIGTERM stops it (never started: no broker is contacted)."""
    await app.stop()
    assert app.should_stop
    return app


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
async def test_shutdown_a_record_cleared_from_its_queue_does_not_hold_the_stop(
    guarantee: str,
) -> None:
    consumer = Streams(after_a_rebalance(new_app(guarantee))).consumer
    consumer.shutdown.WAIT_S = 0.3
    # Delivered to two streams, taken by one: the other's queue was cleared at the stop, so
    # its reference count never reaches zero (seen: enriched-readings[1] offset 37).
    leaked = message(READINGS.topic, 0, 37)
    leaked.incref(2)
    consumer.track_message(leaked)
    leaked.ack(consumer)
    try:
        await asyncio.wait_for(consumer.wait_empty(), timeout=5)
    except TimeoutError:
        pytest.fail(
            "wait_empty() still waited 5 s after the stop for a record no stream will ever "
            "take; expected it to give up after WAIT_S (0.3 s): Faust alone waits for ever, "
            "and the worker does not exit on SIGTERM"
        )


async def test_shutdown_nothing_is_committed_after_the_final_commit() -> None:
    app = after_a_rebalance(new_app("at_least_once"))
    consumer = Streams(app).consumer
    steps: list[str] = []
    app.sensors.add(CommitOrder(steps))
    await stopped(app)
    await consumer.force_commit(start_new_transaction=False)  # Faust's final commit
    assert steps == ["faust commits"], f"the final commit itself did not reach Faust: {steps}"
    # An agent cancelled mid-send after it: its stream's finally acknowledges the event.
    cancelled = message(READINGS.topic, 0, 12)
    consumer.track_message(cancelled)
    consumer.ack(cancelled)
    committed = await consumer.force_commit()  # the consumer's own stop commits again
    assert committed is False and steps == ["faust commits"], (
        f"a commit after the final commit of a stop went ahead ({steps}); expected none: an "
        "event acknowledged now may have been cancelled mid-send, without its outcome"
    )


async def test_shutdown_with_records_left_unacknowledged_aborts_instead_of_committing() -> None:
    app = after_a_rebalance(new_app("exactly_once"))
    consumer = Streams(app).consumer
    consumer.shutdown.WAIT_S = 0.3
    producer = app.producer
    assert isinstance(producer, Producer)
    transactions = await opened("barrier-exactly_once-1-0")
    transactional = transactions["barrier-exactly_once-1-0"]
    faust_producers: Any = private.transaction_producers(producer)  # Faust's class-level dict
    faust_producers.update(transactions)
    locks: Any = producer._trn_locks
    locks["barrier-exactly_once-1-0"] = asyncio.Lock()
    left = message(READINGS.topic, 0, 40)
    consumer.track_message(left)  # cleared from its queue at the stop: never acknowledged
    try:
        await stopped(app)
        await asyncio.wait_for(consumer.wait_empty(), timeout=5)
    finally:
        faust_producers.pop("barrier-exactly_once-1-0")
    assert transactional.commits == 0 and transactional.aborts == 1, (
        f"the final commit with a record left unacknowledged committed {transactional.commits} "
        f"and aborted {transactional.aborts} transactions; expected the open one aborted: it "
        "may hold that record's outputs without its offset"
    )


# --- the takeover ------------------------------------------------------------------------------


def test_takeover_partitions_without_a_committed_offset_are_rewound() -> None:
    log = TP("t-counts-changelog", 0)
    fetched = {READINGS: None, TP(READINGS.topic, 1): 0, TP(READINGS.topic, 2): 12, log: None}
    rewound = TakeoverSeek().to_rewind(fetched, lambda tp: tp == log)
    assert rewound == [READINGS, TP(READINGS.topic, 1)], (
        f"the seek rewinds {rewound}; expected partitions 0 and 1 of the readings (no committed "
        "offset): aiokafka leaves them after the batch Faust dropped at the takeover, for good"
    )


# --- the watchdog ------------------------------------------------------------------------------


def test_the_watchdog_names_a_partition_whose_commits_stand_still(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    streams = Streams(new_app())
    consumer: Any = streams.consumer
    monkeypatch.setattr(type(consumer), "assignment", lambda self: {READINGS})
    # The hole of race 5: 1405..1525 never acknowledged, so 1526.. can never be committed.
    consumer._acked[READINGS] = list(range(1526, 1600))
    consumer._committed_offset[READINGS] = 1405
    consumer._read_offset[READINGS] = 1599
    clock = [1000.0]
    monkeypatch.setattr("app.transport.watchdog.time.monotonic", lambda: clock[0])
    watchdog = Watchdog()
    assert watchdog.stuck_partitions(consumer) == []  # first sight: the clock starts
    clock[0] += COMMIT_TIMEOUT_S + 1
    stuck = watchdog.stuck_partitions(consumer)
    assert len(stuck) == 1 and "t-sensor-readings[0] committed 1405" in stuck[0], (
        f"after {COMMIT_TIMEOUT_S + 1:g} s without a commit the watchdog reported {stuck}; "
        "expected t-sensor-readings[0] with its committed offset 1405"
    )
    consumer._committed_offset[READINGS] = 1600  # a commit moved it: no longer stuck
    assert watchdog.stuck_partitions(consumer) == []
