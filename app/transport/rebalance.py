"""What the consumer does when a rebalance takes partitions away (provided; read it).

Both were found by tests/test_cluster_faults.py, workers scaled 1 -> 3 -> 1 on 12 partitions
while readings flow: the single-worker crash test never revokes a partition from a live worker.
The drivers (app/transport/drivers.py, ``Consumer.on_partitions_revoked`` and
``Consumer.commit_revoked``) call them; tests/test_transactions.py proves each, and
tests/mutants/barrier.py takes each away.

The order of a revocation in Faust 0.15.3: aiokafka calls the consumer's
``on_partitions_revoked`` with every partition it holds (its rebalances are eager); Faust's
consumer drops its bookkeeping of those partitions, then calls the app, which stops the flow,
CLEARS the streams' queues, waits for the records in flight (``wait_empty``) and commits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from faust.transport.consumer import Consumer as FaustConsumer
from faust.types import TP

from app.transport import private

logger = logging.getLogger(__name__)

DRAIN_BEFORE_REVOKE_S = 8.0  # in-flight events take milliseconds; a rebalance allows minutes


@dataclass
class Books:
    """Faust's bookkeeping of one partition: what is acknowledged, committed, and the gaps."""

    acked: list[int]
    acked_index: set[int]
    gaps: Any  # an IntervalTree
    committed: int | None


class RevokedBooks:
    """The commit of a rebalance left out the revoked partitions.

    Faust's consumer drops the bookkeeping of revoked partitions (acknowledged offsets, gaps,
    committed offset) BEFORE the app's revocation handler commits; with eager rebalances that
    is every partition, so the rebalance's commit commits nothing. Under at_least_once the events
    acknowledged since the last periodic commit are processed again; under exactly_once the
    rebalance commits the open transactions (their outputs) without those offsets: duplicates.

    Fix: the books of the revoked partitions are saved before Faust drops them, put back for the
    app's handler (its commit includes them), and dropped again after it, as Faust would. The
    offsets committed then are remembered for the seek that follows (race 3 waits until the
    broker returns them).
    """

    def __init__(self) -> None:
        self.saved: dict[TP, Books] = {}
        self.committed: dict[TP, int] = {}  # partition -> offset committed at a revocation

    def save(self, consumer: FaustConsumer, revoked: Iterable[TP]) -> None:
        acked = private.acked_offsets(consumer)
        index = private.acked_index(consumer)
        gaps = private.gap_trees(consumer)
        committed = private.committed_offsets(consumer)
        # Kept under Faust's own keys: aiokafka's TopicPartition (equal to a TP, but aiokafka's
        # commit accepts only its own type), not the TPs of ``revoked``.
        keys = {tp: tp for books_of in (committed, gaps, index, acked) for tp in books_of}
        self.saved = {
            keys.get(tp, tp): Books(
                list(acked.get(tp) or ()),
                set(index.get(tp) or ()),
                gaps[tp].copy() if tp in gaps else None,
                committed.get(tp),
            )
            for tp in revoked
        }

    @contextmanager
    def restored(self, consumer: FaustConsumer) -> Iterator[None]:
        """The saved books back in Faust's consumer inside the block; dropped again after it."""
        acked = private.acked_offsets(consumer)
        index = private.acked_index(consumer)
        gaps = private.gap_trees(consumer)
        committed = private.committed_offsets(consumer)
        saved, self.saved = self.saved, {}
        for tp, books in saved.items():
            acked[tp] = books.acked
            index[tp] = books.acked_index
            if books.gaps is not None:
                gaps[tp] = books.gaps
            committed[tp] = books.committed
        try:
            yield
        finally:
            for tp in saved:
                offset = committed.get(tp)
                if offset is not None:
                    self.committed[tp] = offset
                for books_of in (acked, index, gaps, committed):
                    books_of.pop(tp, None)

    def committed_with(self, ours: MutableMapping[TP, int | None]) -> dict[TP, int | None]:
        """``ours`` (Faust's committed offsets) with the offsets committed at revocations."""
        merged: dict[TP, int | None] = dict(self.committed)
        merged.update({tp: offset for tp, offset in ours.items() if offset is not None})
        return merged


class DrainBeforeRevoke:
    """A revocation threw away events in flight, and waited for ever for them.

    The app's revocation handler clears the streams' queues while agents are still at work on
    events fetched before. A record that feeds several agents (enriched-readings feeds four) is
    acknowledged only once every agent has it; cleared from one queue, it never is: under
    at_least_once Faust's ``wait_empty`` then waited for minutes for an event held in phase 3's
    ``group_by`` ("wait_empty: Waiting for tasks [... enriched-readings ...]"), and the commit
    stops at the first event left unacknowledged while the outputs of the later ones (under
    exactly_once: in the transactions this commit commits) are already out.

    Fix: before Faust goes on with the revocation, wait until nothing is queued for a stream,
    being delivered or unacknowledged, at most DRAIN_BEFORE_REVOKE_S. New records wait meanwhile
    (race 5 holds them from the start of the rebalance).
    """

    timeout_s = DRAIN_BEFORE_REVOKE_S

    async def wait(
        self, pending: Callable[[], tuple[int, int]], delivering: Callable[[], int]
    ) -> bool:
        """True once (queued, unacknowledged) is (0, 0) and nothing is delivering; False after
        ``timeout_s`` (Faust goes on and clears what is left)."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            queued, unacked = pending()
            if not (queued or unacked or delivering()):
                return True
            if time.monotonic() > deadline:
                logger.warning(
                    "revocation: %d records queued, %d unacknowledged after %g s; the "
                    "rebalance goes on without them (they are processed again)",
                    queued,
                    unacked,
                    self.timeout_s,
                )
                return False
            await asyncio.sleep(0.01)
