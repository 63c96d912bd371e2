"""One class per race: what Faust 0.15.3 gets wrong, the evidence, and the fix (provided; read it).

The drivers (app/transport/drivers.py) call these from their overrides; each class holds one
fix and nothing else, so a test can prove it and a mutant can take it away
(tests/test_commit_barrier.py, tests/mutants/barrier.py). Races 1, 2, 7 and 8 concern Kafka
transactions and apply under exactly_once; races 3-6, 9, 10, the takeover and the clean shutdown are
about Faust's bookkeeping of offsets and apply under both guarantees.

Faust commits every ``broker_commit_interval`` (2.8 s) from a task of its own while the agents
keep running; every output lands in the partition of its source event (faust/transport/consumer.py
``_commit_tps``; faust/transport/drivers/aiokafka.py ``commit_transactions``). The crash test
(tests/test_crash_exactly_once.py) found the races below with SIGKILLs against a real broker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from faust.types import TP

from app.transport.commits import all_attempted
from app.transport.private import TransactionalProducer

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 30.0  # a stream stuck this long is a bug elsewhere: commit anyway, and say so
STABLE_SEEK_TIMEOUT_S = 30.0  # the commit markers of a transactional commit take milliseconds
REBALANCE_POLL_S = 0.01  # how often a held record looks whether the rebalance has ended


class Race1DrainBeforeCommit:
    """Race 1: an event's outputs committed without its offset (exactly_once).

    An event whose outputs are already in the open transaction, but which its agent has not
    acknowledged yet, is committed WITH its outputs and WITHOUT its offset: after a crash it is
    processed again, and its outputs appear twice. Evidence: the crash test, 8 duplicated
    enriched readings after 3 SIGKILLs with only the setting switched (phase 5 README).

    Fix: before Faust takes the offsets to commit, no new stream record reaches a stream
    (``admit`` waits while the gate is closed; changelog records pass, a recovery reads them)
    and the commit waits until nothing is being delivered, queued for a stream, or
    unacknowledged. A periodic commit that meets a stop or a rebalance gives way to the commit
    those make themselves. (With the gate closed for changelog records too, a commit during a
    worker's first recovery held the recovery until Faust took the changelog for aborted
    transactions and recovered the tables EMPTY: seen once the barrier was in force from the
    start, "Aborted tx until highwater", "recovered 0 sensors".)
    """

    def __init__(self) -> None:
        self._open: asyncio.Event | None = None  # made in the worker's event loop
        self.delivering = 0  # records past the gate, on their way into the streams' queues

    def _event(self) -> asyncio.Event:
        if self._open is None:
            self._open = asyncio.Event()
            self._open.set()
        return self._open

    def is_open(self) -> bool:
        return self._event().is_set()

    async def admit(self) -> None:
        """Wait while a commit is being prepared."""
        await self._event().wait()

    @contextmanager
    def closed(self) -> Iterator[None]:
        """No record passes ``admit`` inside this block."""
        gate = self._event()
        gate.clear()
        try:
            yield
        finally:
            gate.set()

    async def drain(
        self,
        pending: Callable[[], tuple[int, int]],
        stopping: Callable[[], bool],
        describe: Callable[[], str],
    ) -> bool:
        """Until ``pending()`` (queued, unacknowledged) is (0, 0) and nothing is delivering;
        False when it gave up: after DRAIN_TIMEOUT_S, or as soon as ``stopping()`` (a stop or
        a rebalance, whose own commit follows)."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while True:
            queued, unacked = pending()
            if not (self.delivering or queued or unacked):
                return True
            if stopping():
                return False
            if time.monotonic() > deadline:
                logger.warning(
                    "commit barrier: %d queued, %d unacknowledged after %g s (%s); committing "
                    "anyway",
                    queued,
                    unacked,
                    DRAIN_TIMEOUT_S,
                    describe(),
                )
                return False
            await asyncio.sleep(0.005)


class Race2FlushBeforeCommit:
    """Race 2: table writes committed after their offsets (exactly_once).

    A table write (``table[key] = value``) goes to a buffer first (``send_soon``) and reaches
    the transaction later. Under at_least_once Faust flushes that buffer before committing
    (``_commit_offsets``: ``await self.app.producer.flush()``), under exactly_once it does not:
    an offset can commit while its table write lands in the next transaction, which a crash
    aborts. Evidence: the crash test, per-sensor counts up to 4 too high.

    Fix: flush the producer (its buffer into the open transactions) before every commit.
    """

    async def before_commit(self, flush: Callable[[], Awaitable[None]]) -> None:
        await flush()


class Race3StableSeek:
    """Race 3: a seek right after a commit reads the previous committed offset.

    After a rebalance Faust seeks to the committed offsets. A transactional offset commit is
    readable only once the broker has written its commit markers, a moment after the commit
    returned: a seek in that moment reads the previous offset and repeats the events in
    between. Evidence: the crash test, duplicates charged to the after-commit kill.

    Fix: the seek asks again until the broker returns at least what this worker committed;
    records fetched before the seek, below the committed offset, are not delivered.
    """

    def __init__(self) -> None:
        self.seek_base: dict[TP, int] = {}  # partition -> committed offset of the last seek

    async def stable(
        self,
        fetch: Callable[[], Awaitable[Mapping[TP, int | None]]],
        ours: Mapping[TP, int | None],
    ) -> Mapping[TP, int | None]:
        """``fetch()`` (seek to the committed offsets) until none is below ``ours``."""
        deadline = time.monotonic() + STABLE_SEEK_TIMEOUT_S
        while True:
            fetched = await fetch()
            stale = [tp for tp, offset in fetched.items() if _below(offset, ours.get(tp))]
            if not stale or time.monotonic() > deadline:
                self.seek_base = {tp: offset for tp, offset in fetched.items() if offset}
                return fetched
            await asyncio.sleep(0.05)  # the commit markers are on their way

    def admit(self, tp: TP, offset: int) -> bool:
        """False for a record below the committed offset the last seek found."""
        base = self.seek_base.get(tp)
        return base is None or offset >= base

    def forget(self, tp: TP | None = None) -> None:
        if tp is None:
            self.seek_base.clear()
        else:
            self.seek_base.pop(tp, None)


def _below(fetched: int | None, ours: int | None) -> bool:
    return ours is not None and (fetched is None or fetched < ours)


class Race4NoRedelivery:
    """Race 4: Faust's fetch loop delivers a record again.

    Faust's ``_drain_messages`` lets a record through when its offset EQUALS the last one
    read (``offset >= r_offset``). Evidence: the crash test saw the last record of a partition
    processed twice within one transaction, without any crash.

    Fix: a record at or below the last offset delivered on its partition is not delivered
    again, unless a seek moved the position back (``forget``).
    """

    def __init__(self) -> None:
        self.delivered: dict[TP, int] = {}  # partition -> offset of the last record delivered

    def admit(self, tp: TP, offset: int) -> bool:
        last = self.delivered.get(tp)
        if last is not None and offset <= last:
            logger.info("commit barrier: %s offset %d again, not delivered twice", tp, offset)
            return False
        self.delivered[tp] = offset
        return True

    def first_since_seek(self, tp: TP) -> bool:
        """True until a record is delivered on ``tp`` after the last seek (race 10 asks)."""
        return tp not in self.delivered

    def forget(self, tp: TP | None = None) -> None:
        if tp is None:
            self.delivered.clear()
        else:
            self.delivered.pop(tp, None)


class Race5HoldDuringRebalance:
    """Race 5: records fetched while a rebalance ends are cleared unacknowledged.

    After recovering its tables, Faust resumes the stream partitions, seeks them to the
    committed offsets, then resumes flow control, which CLEARS the streams' queues
    (faust/tables/recovery.py, the end of ``_restart_recovery``; mode's
    ``FlowControlEvent.resume``). Records fetched in between are thrown away unacknowledged and
    never fetched again: a hole in the acknowledged offsets, and that partition never commits
    again. Evidence: the crash test, ``sensor-readings[3] committed 1405``, 121 queued records
    1405..1525 cleared at "Worker ready"; 2 of 5 runs had a worker halt on it before the fix,
    none in 17 runs after.

    Fix: from the start of a rebalance (``app.rebalancing``) until Faust has ended it
    (``App.on_rebalance_end``, called right after the queues were cleared), and before the first
    rebalance has ended, stream records wait; changelog records (the recovery) pass.
    """

    async def wait(self, rebalancing: Callable[[], bool], is_changelog: bool) -> None:
        if is_changelog:
            return
        while rebalancing():
            await asyncio.sleep(REBALANCE_POLL_S)


class Race6GapWithoutNextRecord:
    """Race 6: a read_committed gap recorded together with the record after it.

    In a read_committed topic every transaction leaves a marker, so the offsets a consumer sees
    have gaps. Faust records the gap INCLUDING the record after it (``_add_gap(tp, r + 1,
    offset)``), which is then acknowledged too: the duplicate ends ``_new_offset``'s run of
    consecutive offsets, and the commit stops right after the first gap, while the table writes
    of the records behind it commit. Evidence: the group committed enriched-readings[1] at 1263
    in the transaction that held the counts of 1262..1522; the restarted worker counted those
    260 readings twice (kafka.tools.DumpLogSegments on __consumer_offsets and the changelog).

    Fix: the gap ends at the offset before the record that revealed it.
    """

    def last_of_gap(self, offset_to: int) -> int:
        """Faust passes the offset of the record just read; the gap ends before it."""
        return offset_to - 1


class Race7CommitTimerTransactions:
    """Race 7: transactions without offsets never commit (exactly_once).

    Faust commits only the transactions of partitions with new offsets to commit. The window
    ticks (phase 4) are sent by a timer into the transaction of their partition and, read
    read_committed, are seen only once that transaction commits: when a commit finds no new
    tick on a partition, that partition's transaction never commits again, its ticks stay
    invisible, its last windows never close, and the broker fences the producer after 60 s.
    Evidence: the crash test's final worker, window-ticks 0 and 3 last committed at offsets 40
    and 41 while 1 and 2 went on.

    Fix: every commit also commits the open transactions Faust left out; a new one begins only
    when Faust's commit asks for it (``start_new_transaction``; False for the final commit of a
    clean shutdown). A transaction that is not open (ended by the final commit) is left alone:
    committing it is aiokafka's ``Invalid state transition READY -> COMMITTING_TRANSACTION``.
    """

    async def commit_the_rest(
        self,
        producers: Mapping[str, TransactionalProducer],
        committed: set[str],
        lock: Callable[[str], asyncio.Lock],
        is_open: Callable[[TransactionalProducer], bool],
        start_new_transaction: bool,
    ) -> list[str]:
        """Commit the open transactions not in ``committed``, all at once (each under its own
        lock, as app/transport/commits.py commits Faust's); return their ids. Every one is
        attempted; the first failure is raised once all have ended."""

        async def commit_one(transactional_id: str, producer: TransactionalProducer) -> bool:
            async with lock(transactional_id):
                if not is_open(producer):
                    return False
                await producer.commit_transaction()
                if start_new_transaction:
                    await producer.begin_transaction()
            return True

        rest = [
            (tid, producer) for tid, producer in list(producers.items()) if tid not in committed
        ]
        outcomes = await all_attempted(commit_one(tid, producer) for tid, producer in rest)
        return [tid for (tid, _), outcome in zip(rest, outcomes, strict=True) if outcome is True]


class CleanShutdown:
    """SIGTERM: a bounded wait for the streams, one final commit, nothing after it.

    On SIGTERM Faust stops the flow, clears the streams' queues, waits for every delivered
    record to be acknowledged (``Consumer.wait_empty``), makes its final commit
    (``commit(start_new_transaction=False)``), and then, as the consumer itself stops, waits and
    commits again; at a rebalance it waits and commits the same way (without stopping). Three
    things went wrong:

    - A record delivered to several streams (enriched-readings feeds four agents) gets its
      reference count raised for all of them at once; when a queue is cleared before that
      stream took it, the count never reaches zero and ``wait_empty`` waits for ever. Seen with
      tests/benchmarks/bench_sigterm.py: an at_least_once worker still alive 60 s after SIGTERM,
      ``wait_empty: Waiting for tasks [(1, <ConsumerMessage: ...enriched-readings[1] offset=37>)]``
      with every agent idle.
    - Under exactly_once the commit after the final one committed transactions the final one
      had closed: ``AssertionError('Invalid state transition TransactionState.READY ->
      TransactionState.COMMITTING_TRANSACTION')`` (issue 18; race 7 now honours
      ``start_new_transaction``, and Faust's commit skips closed transactions).
    - An agent cancelled mid-send after the final commit (the agents stop after the consumer's
      final commit) is acknowledged by its stream's ``finally`` without its outcome; the
      consumer's own stop would then commit that offset.

    Fix: the wait for the streams (at a stop or a rebalance) ends after ``WAIT_S``; what is
    still unacknowledged then was cleared from a queue and will never be (its offset is not
    committed: the next worker reads it again). Under exactly_once, when such records remain at
    a stop, the final commit aborts the open transactions instead of committing them (they may
    hold outputs of those records without their offsets): the next worker resumes from the last
    commit. (At a rebalance the worker goes on, and Faust's bookkeeping of acknowledged offsets
    would not survive an abort: there the commit proceeds as Faust's would.) After the final
    commit of a stop (``app.should_stop``), nothing is committed any more.
    """

    WAIT_S = 4.0  # in-flight events finish in milliseconds; a supervisor waits 10 s or more

    def __init__(self) -> None:
        self.ended = False  # the final commit of a stop has been made
        self.deadline: float | None = None  # the current wait for the streams ends then

    def start_waiting(self) -> None:
        self.deadline = time.monotonic() + self.WAIT_S

    def end_waiting(self) -> None:
        self.deadline = None

    async def wait_for_streams(self, pending: Callable[[], tuple[int, int]]) -> int:
        """Wait until nothing is unacknowledged, at most until the deadline of the current
        wait (``start_waiting``; one is started if none is); return how many are left."""
        if self.deadline is None:
            self.start_waiting()
        deadline = self.deadline or 0.0
        while True:
            _, unacked = pending()
            if not unacked or time.monotonic() > deadline:
                return unacked
            await asyncio.sleep(0.02)

    def may_commit(self) -> bool:
        return not self.ended


class Race8RecoveryHighwater:
    """Race 8: a restarted worker recovers its tables EMPTY (exactly_once).

    Before replaying a changelog, Faust's recovery asks how far to read: its highwater. Under
    exactly_once that is the partition's last stable offset as aiokafka saw it in the last
    fetch response (faust/transport/drivers/aiokafka.py ``_highwaters``:
    ``last_stable_offset``), unknown until the first fetch of that partition has come back;
    Faust reads unknown as -1, "nothing to recover", and the worker starts counting from zero.
    Evidence: the crash test (6 restarts) saw the sensor-counts changelog go from 1913 to 1
    for one sensor, the recovery log said ``Highwater ... -1`` for every changelog partition,
    and /status/ counted 10,271 of 17,980 readings; a reproduction (1,200 readings committed,
    SIGKILL, restart) recovered 0 sensors in 1 of 2 runs with the previous barrier.

    Fix: a highwater that is unknown is asked of the broker: ``end_offsets`` (ListOffsets at the
    consumer's read_committed isolation level answers with the last stable offset).
    """

    def unknown(self, highwaters: Mapping[TP, int | None], partitions: Iterable[TP]) -> list[TP]:
        return [tp for tp in partitions if highwaters.get(tp) is None]


class Race9GapAfterOffsetZero:
    """Race 9: no gap is recorded after the record at offset 0 (both guarantees).

    Faust's fetch loop records a gap only when the last offset read is truthy (``if gap > 1 and
    r_offset``): after the record at offset 0, a transaction marker at offset 1 is no gap, so
    the acknowledged offsets read 0, 2, 3, ... and the commit stops at 1 while the table writes
    of 2, 3, ... are in the transaction it commits. A crash before the next commit processes
    them again. Evidence: the crash test's debug log, ``window-aggregates[1]`` acknowledged
    ``[0, 2]``, committed 1 after a drained commit; under a 0.1 s commit interval the first
    transaction of a partition often holds a single record.

    Fix: the consumer's delivery records the gap Faust left out, before the record reaches a
    stream (race 6 then ends it before that record).
    """

    def missed_gap(self, last_read: int | None, offset: int) -> tuple[int, int] | None:
        """The gap (from, to) Faust skips between ``last_read`` and ``offset``, if any."""
        if last_read == 0 and offset > 1:
            return 1, offset  # _add_gap's arguments: the first missing offset, the record read
        return None


class Race10HeldAcrossTheSeek:
    """Race 10: a record held through a rebalance is delivered without the gap before it.

    During a rebalance's recovery Faust's fetch loop already hands stream records to the
    consumer, which holds them until the rebalance has ended (race 5). The loop checked the
    record's gap against the books of before the seek: the revocation had dropped them, so no
    gap was recorded. The rebalance then ends with Faust's seek to the committed offset, and the
    held record goes on. When transaction markers lie between the committed offset and the held
    record, the acknowledged offsets start above it, and Faust's commit stays where it is while
    the table writes of the records after it commit. Evidence: tests/test_cluster_faults.py,
    workers scaled 1 -> 3 -> 1 under exactly_once, the joining worker's first commit after its
    recovery: ``status-repartition[6] committed 556``, acknowledged 558..562, no gap; in 3 of 6
    runs; the commit audit said so 30-50 times per run.

    Fix: the first record delivered on a partition after a seek (race 4 forgets what was
    delivered at every seek) records the gap from the committed offset to it, unless an
    acknowledged record lies in between (then Faust's books are right). The records in between
    are invisible to a read_committed fetch (markers, aborted records): the held record was
    the first one the fetch found there, and a fetch starts at most at the committed offset.
    """

    def missed_gap(
        self, committed: int | None, acknowledged: Iterable[int], offset: int
    ) -> tuple[int, int] | None:
        """The gap (from, to) between the committed offset and the first record after a seek."""
        if committed is None or offset <= committed + 1:
            return None  # Faust tolerates the committed offset itself missing (``_new_offset``)
        if any(committed <= acked < offset for acked in acknowledged):
            return None
        return committed + 1, offset  # _add_gap's arguments: the first missing, the record read


class TakeoverSeek:
    """The takeover: a partition without a committed offset loses its first fetched batch.

    At a takeover the fetcher already has a fetch waiting for the live set of active
    partitions; the new assignment enters it, aiokafka hands over the first batch, and Faust,
    seeing the flow stopped for the rebalance, drops it (faust/transport/consumer.py,
    ``getmany``: "getmany called while flow not active. Seek back to committed offsets.").
    The seek puts nothing back: aiokafka's ``seek_to_committed`` seeks only where a committed
    offset above 0 exists. Evidence: phase 3 README, "Scale out", reproduced in 3 of 8 runs
    (a member stopped before its first commit, then killed); under either guarantee.

    Fix: a stream partition whose committed offset is missing or 0 is sought to offset 0 (the
    broker's earliest record, as ``auto_offset_reset="earliest"`` would), like one with an
    offset is sought to it.
    """

    def to_rewind(
        self, committed: Mapping[TP, int | None], is_changelog: Callable[[TP], bool]
    ) -> list[TP]:
        return [
            tp
            for tp, offset in committed.items()
            if (offset is None or offset <= 0) and not is_changelog(tp)
        ]
