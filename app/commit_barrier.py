"""A commit barrier: what Faust's exactly_once needs to be exact (provided; read it).

Faust commits its transactions every ``broker_commit_interval`` (2.8 s) from a task of its own,
while the agents keep running. tests/test_crash_exactly_once.py found four ways this duplicates
outputs or miscounts a table after a SIGKILL, although every output lands in the partition of
its source event (faust/transport/consumer.py ``_commit_tps``, ``_drain_messages``;
faust/transport/drivers/aiokafka.py ``commit_transactions``):

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

The barrier closes all four. Before Faust takes the offsets to commit, it stops handing records
to the streams, lets the streams finish what they hold (queues empty, every record acknowledged)
and flushes the producer's buffer into the transactions; a seek to the committed offsets waits
until the broker returns at least what this worker committed; and a record at or below the last
offset delivered on its partition is not delivered again, unless a seek moved the position back.
The cost: the pipeline pauses at every commit (phase 5 README, the latency figures).

A liveness watchdog: when no commit has finished for COMMIT_TIMEOUT_S, the worker halts with one
log line. Seen in the crash test, about one restarted worker in two: after a few seconds of work
the worker sits silent, both event loops idle, no commit running, most likely stuck in the second
rebalance that follows when the killed member's session expires (the exact await that never
completes is not found yet). Its open transactions
are aborted when a new worker starts, which resumes from the last commit, so a stuck worker costs
time, never exactness. A supervisor restarts it (the crash test does, and says so).
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

    def _event(self) -> asyncio.Event:
        if self._open is None:
            self._open = asyncio.Event()
            self._open.set()
        return self._open

    def watch(self, app: faust.App) -> None:
        """Halt the worker when no commit has finished for COMMIT_TIMEOUT_S (see above)."""
        # A rebalance counts too: one that has not finished within the bound is stuck as well.
        if time.monotonic() - self.last_commit > COMMIT_TIMEOUT_S:
            halt(
                f"{STUCK_COMMIT} {COMMIT_TIMEOUT_S:g} s: no commit finished, the worker is stuck; "
                "a restarted worker aborts the open transactions and resumes from the last commit"
            )

    def gate(self, deliver: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        """``deliver`` (Faust's consumer callback) that waits while a commit is prepared."""

        async def gated(message: Any) -> None:
            await self._event().wait()
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

        async def drained_commit(*args: Any, **kwargs: Any) -> bool:
            await self._wait_until_drained(app, consumer)
            await app.producer.flush()  # table writes into the open transactions
            committed: bool = await force_commit(*args, **kwargs)
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
            await seek(partition, offset)

        consumer.seek = forgetting_seek

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
                return fetched
            await asyncio.sleep(0.05)  # the commit markers are on their way

    return stable_seek_to_committed


def install_commit_barrier(app: faust.App) -> CommitBarrier:
    """Install the barrier on ``app``: call it at import, before the worker starts."""
    barrier = CommitBarrier()
    conductor: Any = app.topics
    # The worker builds its consumer with this callback, so it must be replaced before.
    conductor.on_message = barrier.gate(conductor.on_message)

    async def forget_deliveries(sender: Any, *args: Any, **kwargs: Any) -> None:
        barrier.delivered.clear()  # partitions may come back, from their committed offsets

    app.on_partitions_revoked.connect(forget_deliveries)  # type: ignore[arg-type]

    async def wrap_commit() -> None:
        barrier.around_commit(app)  # the consumer exists once the app's tasks run
        barrier.last_commit = time.monotonic()

    async def watchdog() -> None:
        barrier.watch(app)

    app.task(wrap_commit)
    app.timer(interval=5.0)(watchdog)
    return barrier
