"""Faust's aiokafka driver with the races of app/transport/races.py fixed (provided; read it).

Faust builds its consumer and producer from its transport's class attributes
(``Transport.Consumer``, ``Transport.Producer``), and picks the transport by the scheme of the
broker URL (faust/transport/drivers/__init__.py reads the ``faust.transports`` entry points;
pyproject.toml registers ``katakafka`` for the Transport below, and app/faust_app.py asks for it).
So every fix is in force from the moment the consumer exists, before the first recovery, and
every override below is a method of Faust's own classes, marked ``@override``: mypy fails when a
release renames the method underneath.

What each override does, and under which guarantee:

| Override | Race | Guarantee (EOS: exactly_once) |
|---|---|---|
| ``Consumer.__init__``: the callback goes through ``deliver`` | 1, 3, 4, 5, 9, 10 | both (1: EOS) |
| ``Consumer.force_commit``: drain, flush, commit, commit the rest | 1, 2, 7 | exactly_once |
| ``Consumer.seek_to_committed``: stable offsets, rewind the uncommitted | 3, takeover | both |
| ``Consumer.seek``, ``on_partitions_revoked``: forget what was delivered | 3, 4 | both |
| ``Consumer.on_partitions_revoked``, ``commit_revoked``: drain, revoked books | revoke | both |
| ``Transport.TransactionManager``: the source's transaction, owned producers | revoke | EOS |
| ``Consumer._add_gap``: the gap without the record after it | 6 | both |
| ``ConsumerThread.highwaters``: unknown ones asked of the broker | 8 | exactly_once |
| ``ConsumerThread.topic_partitions``: 0 partitions is unknown yet | start-up | both |
| ``Consumer.wait_empty``: a bounded wait, the final commit | clean shutdown | both |
| ``Producer.commit_transactions``: the open ones, all at once | final commit | exactly_once |
| ``Producer.create_topic``: wait until every broker knows it | start-up | both |
| ``Consumer._commit_handler``: a paced timer (app/transport/commits.py) | commit pile-up | both |
| ``Consumer._watchdog`` (a task): halt when commits stopped | liveness | exactly_once |
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar, cast, override

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, ConsumerT, Message, ProducerT
from faust.types.transports import (
    ConsumerCallback,
    PartitionsAssignedCallback,
    PartitionsRevokedCallback,
    TPorTopicSet,
    TransactionManagerT,
    TransportT,
)
from mode import Service

from app.halt import halt
from app.transport import private
from app.transport.commits import commit_concurrently, paced_commits
from app.transport.fastpath import FastDrain
from app.transport.metadata import known_to_every_broker
from app.transport.races import (
    CleanShutdown,
    Race1DrainBeforeCommit,
    Race2FlushBeforeCommit,
    Race3StableSeek,
    Race4NoRedelivery,
    Race5HoldDuringRebalance,
    Race6GapWithoutNextRecord,
    Race7CommitTimerTransactions,
    Race8RecoveryHighwater,
    Race9GapAfterOffsetZero,
    Race10HeldAcrossTheSeek,
    TakeoverSeek,
)
from app.transport.rebalance import DrainBeforeRevoke, RevokedBooks
from app.transport.transactions import TransactionManager
from app.transport.watchdog import COMMIT_TIMEOUT_S, LEFT_BEHIND, STUCK_COMMIT, Watchdog

WATCHDOG_INTERVAL_S = 5.0
GC_EVERY_S = 1.0
logger = logging.getLogger(__name__)


class Consumer(FastDrain, faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, with the races fixed (and fastpath.py's loop under ALO)."""

    def __init__(
        self,
        transport: TransportT,
        callback: ConsumerCallback,
        on_partitions_revoked: PartitionsRevokedCallback,
        on_partitions_assigned: PartitionsAssignedCallback,
        **kwargs: Any,
    ) -> None:
        self.race1 = Race1DrainBeforeCommit()
        self.race2 = Race2FlushBeforeCommit()
        self.race3 = Race3StableSeek()
        self.race4 = Race4NoRedelivery()
        self.race5 = Race5HoldDuringRebalance()
        self.race6 = Race6GapWithoutNextRecord()
        self.race7 = Race7CommitTimerTransactions()
        self.race9 = Race9GapAfterOffsetZero()
        self.race10 = Race10HeldAcrossTheSeek()
        self.takeover = TakeoverSeek()
        self.shutdown = CleanShutdown()
        self.watchdog = Watchdog()
        self.revoked_books = RevokedBooks()
        self.drain_before_revoke = DrainBeforeRevoke()
        self._revoke_callback = on_partitions_revoked  # Faust's own: the app's handler
        self._collected = time.monotonic()  # the last garbage collection of ``pending``
        self._changelog: dict[str, bool] = {}  # topic -> is it a table's changelog?
        self._deliver = callback  # Faust's own: the conductor's on_message
        super().__init__(
            transport, self.deliver, self.commit_revoked, on_partitions_assigned, **kwargs
        )

    @override
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    # --- delivery: between Faust's fetch loop and the streams ----------------------------------

    def rebalancing(self) -> bool:
        """True from the start of a rebalance until Faust has ended it, and before the first."""
        return self.app.rebalancing or self.app.rebalancing_count == 0

    def is_changelog(self, tp: TP) -> bool:
        known = self._changelog.get(tp.topic)
        if known is None:  # Faust builds that set anew on every call: ask once per topic
            known = self._changelog[tp.topic] = tp.topic in self.app.tables.changelog_topics
        return known

    async def deliver(self, message: Message) -> None:
        """Hand ``message`` to the streams, unless a race says it must wait or not go at all."""
        tp = message.tp
        changelog = self.is_changelog(tp)
        if not changelog and self.rebalancing():  # (checked here first: no await per record)
            await self.race5.wait(self.rebalancing, changelog)
        if self.in_transaction and not changelog and not self.race1.is_open():
            # Changelog records are never part of a commit: a recovery must not wait for one.
            await self.race1.admit()
        first_since_seek = self.race4.first_since_seek(tp)
        if not (self.race3.admit(tp, message.offset) and self.race4.admit(tp, message.offset)):
            return
        # Both fetch loops call this before they note the record as read: the last read is here.
        missed = self.race9.missed_gap(private.read_offsets(self).get(tp), message.offset)
        if first_since_seek and missed is None:
            missed = self.race10.missed_gap(
                private.committed_offsets(self).get(tp),
                private.acked_index(self).get(tp) or (),
                message.offset,
            )
        if missed is not None and self.app.topics.acks_enabled_for(tp.topic):
            await self._add_gap(tp, *missed)
        self.race1.delivering += 1
        try:
            await self._deliver(message)
        finally:
            self.race1.delivering -= 1

    # --- commits ----------------------------------------------------------------------------------

    @override
    @Service.task
    async def _commit_handler(self) -> None:
        # Faust's timer waits the interval whatever the commit took: commits longer than the
        # interval would hold the streams behind the barrier most of the time.
        await paced_commits(self.commit, self.commit_interval, self.sleep, lambda: self.should_stop)

    @override
    async def wait_empty(self) -> None:
        """Faust's wait for the streams at a stop, bounded (see ``CleanShutdown``)."""
        self.shutdown.start_waiting()
        try:
            left = await self.shutdown.wait_for_streams(self.pending)
            if left and not self.shutdown.ended:
                logger.warning(
                    "%d records were never processed (their queues were cleared: %s); their "
                    "offsets are not committed, a worker reads them again",
                    left,
                    self.unacked_records(),
                )
            await self.commit_and_end_transactions()
        finally:
            self.shutdown.end_waiting()

    @override
    async def force_commit(
        self, topics: TPorTopicSet | None = None, start_new_transaction: bool = True
    ) -> bool:
        if not self.shutdown.may_commit():
            return False  # after the final commit: an ack now may lack its outcome
        if not start_new_transaction and self.app.should_stop:
            self.shutdown.ended = True  # the final commit of a stop (else: a rebalance's)
        if not self.in_transaction:
            committed: bool = await super().force_commit(
                topics, start_new_transaction=start_new_transaction
            )
            return committed
        with self.race1.closed():  # no new record reaches a stream from now on
            # asyncio.wait, not wait_for: wait_for would wait for the stuck commit to honour
            # its cancellation, and code under Faust's commit shields itself from it.
            commit = asyncio.ensure_future(self._commit_drained(topics, start_new_transaction))
            done, _ = await asyncio.wait({commit}, timeout=COMMIT_TIMEOUT_S)
            if not done:
                halt(
                    f"{STUCK_COMMIT} {COMMIT_TIMEOUT_S:g} s: stopping the worker; a restarted "
                    "worker aborts the open transactions and resumes from the last commit"
                )
            self.watchdog.committed()
            return commit.result()

    async def _commit_drained(
        self, topics: TPorTopicSet | None, start_new_transaction: bool
    ) -> bool:
        drained = False
        if start_new_transaction:
            drained = await self.race1.drain(self.pending, self.interrupted, self.unacked_records)
            if not drained and self.interrupted():
                return False  # a stop (its final commit decides) or a rebalance (it commits)
        else:  # a stop or a rebalance: the streams' queues were cleared (see CleanShutdown)
            waiting = self.shutdown.deadline is not None  # wait_empty's wait, else our own
            try:
                left = await self.shutdown.wait_for_streams(self.pending)
            finally:
                if not waiting:
                    self.shutdown.end_waiting()
            if left and self.shutdown.ended:
                await self._abort_open_transactions()
                return False
        await self.race2.before_commit(self.app.producer.flush)
        producer = self.app.producer
        committed: bool = await super().force_commit(
            topics, start_new_transaction=start_new_transaction
        )
        if isinstance(producer, Producer):
            await self.race7.commit_the_rest(
                private.transaction_producers(producer),
                producer.committed_ids,
                lambda transactional_id: private.transaction_lock(producer, transactional_id),
                private.in_transaction,
                start_new_transaction,
            )
            producer.committed_ids.clear()
        if drained:  # every delivered record was acknowledged: all of them are committed now
            behind = self.watchdog.left_behind(self)
            if behind:
                logger.warning("%s: %s", LEFT_BEHIND, "; ".join(behind))
        return committed

    async def _abort_open_transactions(self) -> None:
        """The final commit, when records were left unacknowledged (see ``CleanShutdown``)."""
        producer = self.app.producer
        if not isinstance(producer, Producer):
            return
        opened = [
            transactional_id
            for transactional_id, transactional in private.transaction_producers(producer).items()
            if private.in_transaction(transactional)
        ]
        logger.warning(
            "records left unacknowledged; aborting %d open transactions instead of committing "
            "them: the worker that gets their partitions resumes from the last commit",
            len(opened),
        )
        for transactional_id in opened:
            await producer.abort_transaction(transactional_id)

    def interrupted(self) -> bool:
        """A stop or a rebalance is under way: Faust commits as part of it, with the streams'
        queues cleared; a periodic commit waiting for the streams gives way."""
        return self.app.should_stop or self.app.rebalancing

    def pending(self) -> tuple[int, int]:
        """(records queued for a stream, records delivered and not acknowledged)."""
        queued = sum(channel.queue.qsize() for channel in list(self.app.topics))
        unacked = sum(1 for message in list(self.unacked) if not message.acked)
        now = time.monotonic()
        if unacked and not queued and now - self._collected > GC_EVERY_S:
            # Records cleared from the queues (a rebalance, a stop) leave the weak set only once
            # collected; Faust's own wait_empty collects too. At most once a second: a
            # collection costs tens of milliseconds.
            self._collected = now
            gc.collect()
            unacked = sum(1 for message in list(self.unacked) if not message.acked)
        return queued, unacked

    def unacked_records(self) -> str:
        """The records delivered and not acknowledged, for a log line."""
        records = sorted(
            (message.topic, message.partition, message.offset, message.refcount)
            for message in list(self.unacked)
            if not message.acked
        )
        return ", ".join(f"{t}[{p}]@{o} refcount {r}" for t, p, o, r in records[:5])

    # --- seeks ----------------------------------------------------------------------------------

    @override
    async def seek_to_committed(self) -> Mapping[TP, int]:
        self.race4.forget()  # every partition goes back to its committed offset
        fetched = await self.race3.stable(
            super().seek_to_committed,
            self.revoked_books.committed_with(private.committed_offsets(self)),
        )
        if self.app.conf.consumer_auto_offset_reset == "earliest":
            for tp in self.takeover.to_rewind(fetched, self.is_changelog):
                await self.seek(tp, 0)
        return cast(Mapping[TP, int], fetched)  # None where nothing is committed, as Faust has it

    @override
    async def seek(self, partition: TP, offset: int) -> None:
        self.race4.forget(partition)  # a seek back means: deliver again
        self.race3.forget(partition)
        await super().seek(partition, offset)

    @override
    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        if revoked and not self.app.should_stop:  # before the app clears the queues
            await self.drain_before_revoke.wait(self.pending, lambda: self.race1.delivering)
        self.race4.forget()  # partitions may come back, from their committed offsets
        self.race3.forget()
        self.revoked_books.save(self, revoked)  # Faust drops them before the app commits
        await super().on_partitions_revoked(revoked)

    async def commit_revoked(self, revoked: set[TP]) -> None:
        """The app's revocation handler (its commit), with the revoked partitions' books."""
        with self.revoked_books.restored(self):
            await self._revoke_callback(revoked)

    @override
    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        await super()._add_gap(tp, offset_from, self.race6.last_of_gap(offset_to))

    # --- liveness -------------------------------------------------------------------------------

    @Service.task
    async def _watchdog(self) -> None:
        if not self.in_transaction:
            return
        while not self.should_stop:
            await self.sleep(WATCHDOG_INTERVAL_S)
            if not self.should_stop:
                self.watchdog.check(self, self.app.rebalancing)


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread: highwaters the broker knows (race 8), and a topic the
    metadata does not know yet is unknown, not empty."""

    race8 = Race8RecoveryHighwater()

    @override
    def topic_partitions(self, topic: str) -> int | None:
        """Faust's answer, except None (unknown) where the metadata says 0 partitions.

        Kafka has no topic without partitions: 0 means the broker that answered did not know a
        topic created a moment before (in a cluster of several brokers). Faust's table check
        then refused to start an agent ("PartitionsMismatch: ... the changelog topic ... has 0
        partitions"); its records stayed unacknowledged, the next revocation waited for them,
        the group dropped the worker and fenced its producer (tests/test_cluster_faults.py,
        once). Faust skips the check where the answer is None, as it does for a topic missing.
        """
        return super().topic_partitions(topic) or None

    @override
    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
        found: dict[TP, int | None] = dict(await super().highwaters(*partitions))
        if self.consumer.in_transaction:
            unknown = self.race8.unknown(found, partitions)
            if unknown:
                consumer = private.kafka_consumer(self)
                ends: Mapping[TP, int] = await self.call_thread(consumer.end_offsets, unknown)
                found.update(ends)
        return cast(Mapping[TP, int], found)


class Producer(faust_aiokafka.Producer):
    """Faust's aiokafka producer: commits only open transactions, all at once, and says which it
    committed."""

    committed_ids: set[str]

    @override
    def __post_init__(self) -> None:
        super().__post_init__()
        self.committed_ids = set()

    @override
    async def create_topic(
        self, topic: str, partitions: int, replication: int, **options: Any
    ) -> None:
        """Faust's, then a wait until every broker knows the topic (app/transport/metadata.py)."""
        await super().create_topic(topic, partitions, replication, **options)
        if self.app.conf.topic_allow_declare:
            await known_to_every_broker(private.producer_client(self), topic)

    @override
    async def commit_transactions(
        self,
        tid_to_offset_map: Mapping[str, Mapping[TP, int]],
        group_id: str,
        start_new_transaction: bool = True,
    ) -> None:
        """Faust's commit, for the transactions that are open, concurrently (commits.py).

        After the final commit of a clean shutdown (``start_new_transaction=False``) the
        transactions are closed; a later commit (Faust's ``wait_empty`` commits again, so does
        the consumer's own stop) would make aiokafka raise ``Invalid state transition READY ->
        COMMITTING_TRANSACTION``. Their offsets stay uncommitted: the next worker goes on
        from the last commit, which is where they are.
        """
        producers = private.transaction_producers(self)
        open_map = {
            transactional_id: offsets
            for transactional_id, offsets in tid_to_offset_map.items()
            if transactional_id not in producers
            or private.in_transaction(producers[transactional_id])
        }
        self.committed_ids.update(open_map)
        await commit_concurrently(self, open_map, group_id, start_new_transaction)


class Transport(faust_aiokafka.Transport):
    """Faust's aiokafka transport, building the consumer and producer above."""

    Consumer: ClassVar[type[ConsumerT]] = Consumer
    Producer: ClassVar[type[ProducerT]] = Producer
    TransactionManager: ClassVar[type[TransactionManagerT]] = TransactionManager
