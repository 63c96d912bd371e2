"""A commit barrier: what Faust's exactly_once needs to be exact (provided; read it).

Faust commits its transactions every ``broker_commit_interval`` (2.8 s) from a task of its own,
while the agents keep running. tests/test_crash_exactly_once.py found four ways this duplicates
outputs or miscounts a table after a SIGKILL, although every output lands in the partition of
its source event (faust/transport/consumer.py ``_commit_tps``, ``_drain_messages``;
faust/transport/drivers/aiokafka.py ``commit_transactions``), a fifth way a restarted worker
stops committing, a sixth that commits table writes ahead of their offsets, and a seventh that
leaves a timer's output uncommitted:

1. An event whose outputs are already in the open transaction, but which its agent has not
   acknowledged yet, is committed WITH its outputs and WITHOUT its offset: after a crash it is
   processed again, and its outputs appear twice.
2. A table write (``table[key] = value``) goes to a buffer first (``send_soon``) and reaches the
   transaction later. Under at_least_once Faust flushes that buffer before committing, under
   exactly_once it does not: an offset can commit while its table write lands in the next
   transaction, which a crash aborts.
3. After a rebalance Faust seeks to the committed offsets. A transactional offset commit is
   readable only once the broker has written its commit markers, a moment after the commit
   returned: a seek in that moment reads the previous offset and repeats the events in between.
4. Faust's fetch loop lets a record through again when its offset EQUALS the last one delivered
   (``offset >= r_offset``): seen in the crash test as the last record of a partition processed
   twice within one transaction, without any crash.
5. After recovering its tables, Faust resumes the stream partitions, seeks them to the committed
   offsets, then resumes flow control, which CLEARS the streams' queues
   (faust/tables/recovery.py, the end of ``_restart_recovery``; mode's ``FlowControlEvent.resume``).
   Records fetched in between are thrown away unacknowledged and never fetched again, because
   Faust's read offset has moved past them: a hole in the acknowledged offsets, so that partition
   never commits again. Seen in the crash test as a restarted worker that worked on while its
   commits stood still (``sensor-readings[3] committed 1405``, 121 queued records 1405..1525
   cleared at "Worker ready"), until its open transaction timed out. Under at_least_once the
   window is shorter (12 ms against 50-100 ms measured) but it is there too.
6. In a read_committed topic every transaction leaves a marker, so the offsets a consumer sees
   have gaps. Faust records the gap INCLUDING the record after it (``_add_gap(tp, r + 1,
   offset)``), which is then acknowledged too: the duplicate ends ``_new_offset``'s run of
   consecutive offsets, and the commit stops right after the first gap. The table writes of the
   records after it are in the committed transaction all the same; a crash before the next
   commit catches up processes them again. Seen in the crash test: the group committed
   enriched-readings[1] at 1263 in the transaction that held the counts of 1262..1522, and the
   restarted worker counted those 260 readings twice (broker data: kafka.tools.DumpLogSegments
   on __consumer_offsets and the changelog). Under at_least_once it only adds replays.

7. Faust commits only the transactions of partitions with new offsets to commit. The window
   ticks (phase 4) are sent by a timer into the transaction of their partition and, read
   read_committed, are seen only once that transaction commits: when a commit finds no new tick
   on a partition (two commits within one tick interval), that partition's transaction never
   commits again, its ticks stay invisible, its last windows never close, and the broker fences
   the producer after 60 s. Seen in the crash test's final worker (window-ticks 0 and 3 last
   committed at offsets 40 and 41 while 1 and 2 went on).

The barrier closes all seven. Before Faust takes the offsets to commit, it stops handing records
to the streams, lets the streams finish what they hold (queues empty, every record acknowledged)
and flushes the producer's buffer into the transactions; a seek to the committed offsets waits
until the broker returns at least what this worker committed; a record at or below the last
offset delivered on its partition is not delivered again, unless a seek moved the position back;
and from the start of a rebalance until Faust calls ``on_rebalance_end`` (after it cleared the
queues) stream records are held back, changelog records (the recovery) pass; a gap is
recorded without the record after it; and every commit also commits the transactions that had no
offsets (what is in them came from timers, not from an event, so no offset belongs with it).
The cost: the pipeline pauses at every commit (phase 5 README, the latency figures).

A liveness watchdog, for what is left unknown: the worker halts with one log line when a commit
has not finished for COMMIT_TIMEOUT_S, when a rebalance has not ended for as long, or when a
partition holds acknowledged records whose committed offset has not moved for as long (the line
says where: committed offset, last read, acknowledged range, gaps). A restarted worker aborts
the open transactions and resumes from the last commit, so a halt costs time, never exactness;
a supervisor restarts it (the crash test does, and says so).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import faust

from app.halt import halt

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 30.0  # a stream stuck this long is a bug elsewhere: commit anyway, and say so
COMMIT_TIMEOUT_S = 60.0  # no commit finished for this long (a rebalance included): stuck, halt
STUCK_COMMIT = "commit did not finish within"  # the start of the halt line (tests look for it)


class CommitBarrier:
    """Holds back new records while a commit is being prepared."""

    def __init__(self) -> None:
        self._open: asyncio.Event | None = None  # made in the worker's event loop
        self.delivering = 0  # records past the gate, on their way into the streams' queues
        self.delivered: dict[Any, int] = {}  # partition -> offset of the last record delivered
        self.last_commit = time.monotonic()  # when the last commit finished (the watchdog's clock)
        self._waiting: dict[Any, tuple[int | None, float]] = {}  # partition -> (committed, since)
        self._ready: asyncio.Event | None = None  # set: the last rebalance has ended
        self._unready_since = time.monotonic()
        self.seek_base: dict[Any, int] = {}  # partition -> committed offset of the last seek

    def _event(self) -> asyncio.Event:
        if self._open is None:
            self._open = asyncio.Event()
            self._open.set()
        return self._open

    def watch(self, app: faust.App) -> None:
        """Halt the worker when its commits stopped moving for COMMIT_TIMEOUT_S (see above)."""
        # A rebalance counts too: one that has not finished within the bound is stuck as well.
        if time.monotonic() - self.last_commit > COMMIT_TIMEOUT_S:
            halt(
                f"{STUCK_COMMIT} {COMMIT_TIMEOUT_S:g} s: no commit finished, the worker is stuck; "
                "a restarted worker aborts the open transactions and resumes from the last commit"
            )
        ready = self._ready_event()
        if not ready.is_set() and time.monotonic() - self._unready_since > COMMIT_TIMEOUT_S:
            halt(
                f"{STUCK_COMMIT} {COMMIT_TIMEOUT_S:g} s: the rebalance has not ended, the worker "
                "is stuck; a restarted worker resumes from the last commit"
            )
        # A commit that finishes but never moves a partition's offset is stuck all the same.
        stuck = self._stuck_partitions(app.consumer)
        if stuck:
            halt(
                f"{STUCK_COMMIT} {COMMIT_TIMEOUT_S:g} s: acknowledged events are not committed "
                f"({'; '.join(stuck)}); a restarted worker resumes from the last commit"
            )

    def _stuck_partitions(self, consumer: Any) -> list[str]:
        """Partitions with acknowledged events whose committed offset has not moved for long."""
        now = time.monotonic()
        stuck: list[str] = []
        assigned = consumer.assignment()  # late acks of revoked partitions linger: not ours
        for tp, acked in list(consumer._acked.items()):
            committed = consumer._committed_offset.get(tp)
            if not acked or tp not in assigned:
                self._waiting.pop(tp, None)
                continue
            since = self._waiting.get(tp)
            if since is None or since[0] != committed:
                self._waiting[tp] = (committed, now)
            elif now - since[1] > COMMIT_TIMEOUT_S:
                stuck.append(self._describe(consumer, tp))
        return stuck

    def _describe(self, consumer: Any, tp: Any) -> str:
        acked = sorted(consumer._acked.get(tp) or ())
        gaps = sorted((gap.begin, gap.end - 1) for gap in consumer._gap.get(tp) or ())
        unacked = sorted(m.offset for m in list(consumer._unacked_messages) if m.tp == tp)
        return (
            f"{tp.topic}[{tp.partition}] committed {consumer._committed_offset.get(tp)}, "
            f"last read {consumer._read_offset.get(tp)}, last delivered {self.delivered.get(tp)}, "
            f"acknowledged {len(acked)} ({acked[:3]}..{acked[-1:]}), gaps {gaps[:5]}, "
            f"unacknowledged {unacked[:5]}"
        )

    def _ready_event(self) -> asyncio.Event:
        if self._ready is None:
            self._ready = asyncio.Event()  # clear: no rebalance has ended yet
        return self._ready

    def rebalance_started(self) -> None:
        """Partitions are revoked: hold stream records back; forget what was delivered."""
        self.delivered.clear()  # partitions may come back, from their committed offsets
        self.seek_base.clear()
        self._ready_event().clear()
        self._unready_since = time.monotonic()

    def rebalance_ended(self) -> None:
        """Faust has sought the committed offsets and cleared the streams' queues: deliver."""
        self._ready_event().set()

    def gate(
        self, deliver: Callable[[Any], Awaitable[None]], is_changelog: Callable[[str], bool]
    ) -> Callable[[Any], Awaitable[None]]:
        """``deliver`` (Faust's consumer callback) that waits while a commit is prepared, and
        holds stream records back until the rebalance has ended (race 5 above)."""

        async def gated(message: Any) -> None:
            ready = self._ready_event()
            if not ready.is_set() and not is_changelog(message.topic):
                await ready.wait()  # the recovery reads changelogs meanwhile: never hold those
            await self._event().wait()
            base = self.seek_base.get(message.tp)
            if base is not None and message.offset < base:
                return  # fetched before the seek, below the committed offset: done already
            last = self.delivered.get(message.tp)
            if last is not None and message.offset <= last:
                logger.info(
                    "commit barrier: %s offset %d again, not delivered twice",
                    message.tp,
                    message.offset,
                )
                return
            self.delivered[message.tp] = message.offset
            self.delivering += 1
            try:
                await deliver(message)
            finally:
                self.delivering -= 1

        return gated

    def around_commit(self, app: faust.App) -> None:
        """Make ``app``'s consumer drain the streams and the buffer before every commit."""
        consumer: Any = app.consumer
        force_commit = consumer.force_commit

        producer: Any = app.producer  # the one that owns the transactional producers
        commit_transactions = producer.commit_transactions
        committed_ids: set[str] = set()

        async def recording_commit_transactions(
            tid_to_offset_map: Any, group_id: str, start_new_transaction: bool = True
        ) -> None:
            committed_ids.update(tid_to_offset_map)
            await commit_transactions(
                tid_to_offset_map, group_id, start_new_transaction=start_new_transaction
            )

        producer.commit_transactions = recording_commit_transactions

        async def commit_the_rest() -> None:
            """Commit the transactions Faust left open for want of offsets (race 7 above)."""
            for tid, transactional in list(producer._transaction_producers.items()):
                if tid not in committed_ids:
                    async with producer._trn_locks[tid]:
                        await transactional.commit_transaction()
                        await transactional.begin_transaction()
            committed_ids.clear()

        async def drained_commit(*args: Any, **kwargs: Any) -> bool:
            await self._wait_until_drained(app, consumer)
            await app.producer.flush()  # table writes into the open transactions
            committed: bool = await force_commit(*args, **kwargs)
            await commit_the_rest()
            return committed

        async def quiesced_force_commit(*args: Any, **kwargs: Any) -> bool:
            gate = self._event()
            gate.clear()  # no new record reaches a stream from now on
            try:
                # asyncio.wait, not wait_for: wait_for would wait for the stuck commit to honour
                # its cancellation, and code under Faust's commit shields itself from it.
                commit = asyncio.ensure_future(drained_commit(*args, **kwargs))
                done, _ = await asyncio.wait({commit}, timeout=COMMIT_TIMEOUT_S)
                if not done:
                    halt(
                        f"{STUCK_COMMIT} {COMMIT_TIMEOUT_S:g} s: stopping the worker; a restarted "
                        "worker aborts the open transactions and resumes from the last commit"
                    )
                self.last_commit = time.monotonic()
                return commit.result()
            finally:
                gate.set()

        consumer.force_commit = quiesced_force_commit
        consumer.seek_to_committed = _stable(self, consumer, consumer.seek_to_committed)
        seek = consumer.seek

        async def forgetting_seek(partition: Any, offset: int) -> None:
            self.delivered.pop(partition, None)  # a seek back means: deliver again
            self.seek_base.pop(partition, None)
            await seek(partition, offset)

        consumer.seek = forgetting_seek
        consumer._add_gap = exclusive_gap(consumer._add_gap)

    async def _wait_until_drained(self, app: faust.App, consumer: Any) -> None:
        """Until no record is being delivered, queued for a stream, or unacknowledged."""
        channels: Any = app.topics._topics  # type: ignore[attr-defined]  # Faust's channels
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while True:
            consumer._clean_unacked_messages()  # Faust's own bookkeeping (a weak set)
            queued = sum(channel.queue.qsize() for channel in list(channels))
            unacked = len(consumer._unacked_messages)
            if not (self.delivering or queued or unacked):
                return
            if time.monotonic() > deadline:
                logger.warning(
                    "commit barrier: %d queued, %d unacknowledged after %g s; committing anyway",
                    queued,
                    unacked,
                    DRAIN_TIMEOUT_S,
                )
                return
            await asyncio.sleep(0.005)


def _stable(
    barrier: CommitBarrier, consumer: Any, seek_to_committed: Callable[[], Awaitable[Any]]
) -> Any:
    async def stable_seek_to_committed() -> Any:
        barrier.delivered.clear()  # every partition goes back to its committed offset
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while True:
            fetched = await seek_to_committed()
            ours = consumer._committed_offset  # what this worker has committed, per partition
            stale = [
                tp
                for tp, offset in fetched.items()
                if ours.get(tp) is not None and (offset is None or offset < ours[tp])
            ]
            if not stale or time.monotonic() > deadline:
                barrier.seek_base = {tp: offset for tp, offset in fetched.items() if offset}
                return fetched
            await asyncio.sleep(0.05)  # the commit markers are on their way

    return stable_seek_to_committed


def exclusive_gap(
    add_gap: Callable[[Any, int, int], Awaitable[None]],
) -> Callable[[Any, int, int], Awaitable[None]]:
    """Faust's ``_add_gap`` without the record that revealed the gap (race 6 above)."""

    async def add_gap_before(tp: Any, offset_from: int, offset_to: int) -> None:
        # Faust passes the offset of the record just read as offset_to; that record is
        # delivered and acknowledged like any other, so it is no gap.
        await add_gap(tp, offset_from, offset_to - 1)

    return add_gap_before


def install_commit_barrier(app: faust.App) -> CommitBarrier:
    """Install the barrier on ``app``: call it at import, before the worker starts."""
    barrier = CommitBarrier()
    conductor: Any = app.topics
    # The worker builds its consumer with this callback, so it must be replaced before.
    conductor.on_message = barrier.gate(
        conductor.on_message, lambda topic: topic in app.tables.changelog_topics
    )

    async def rebalance_started(sender: Any, *args: Any, **kwargs: Any) -> None:
        barrier.rebalance_started()

    app.on_partitions_revoked.connect(rebalance_started)  # type: ignore[arg-type]
    on_rebalance_end = app.on_rebalance_end

    def rebalance_ended() -> None:
        on_rebalance_end()
        barrier.rebalance_ended()

    # Faust calls it as ``app.on_rebalance_end()`` right after ``flow_control.resume()``.
    app.on_rebalance_end = rebalance_ended  # type: ignore[method-assign]

    async def wrap_commit() -> None:
        barrier.around_commit(app)  # the consumer exists once the app's tasks run
        barrier.last_commit = time.monotonic()

    async def watchdog() -> None:
        barrier.watch(app)

    app.task(wrap_commit)
    app.timer(interval=5.0)(watchdog)
    return barrier
