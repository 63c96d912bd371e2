"""Faust's transaction manager, with outputs in their source's transaction (provided; read it).

Under exactly_once Faust runs one transactional producer per partition it owns (transactional id
``{app id}-{group}-{partition}``) and commits a partition's offsets in that partition's
transaction. Two things went wrong once a second worker was alive (tests/test_cluster_faults.py,
workers scaled 1 -> 3 -> 1):

- Faust picks the transaction of a send by its DESTINATION partition. A send to another
  partition (phase 3's ``group_by`` to the status repartition topic) went into the transaction
  of a partition another worker owned: "No transaction producer found", or the other worker's
  producer fenced ours (ProducerFenced, then "Invalid state transition FATAL_ERROR ->
  COMMITTING_TRANSACTION") and the worker crashed; and an output outside its source's
  transaction is not committed together with its source's offset.
  Fix: a send made while an event is processed (``faust.current_event()``, or the event named
  by ``outputs_of``) goes under the transactional id of that event's partition, the one whose
  offset commits with it. A send
  outside an event (a timer) keeps Faust's choice: the phase 4 tick timer sends only to
  partitions this worker owns, and not while a rebalance is under way.
- At a rebalance Faust stops the producers of revoked partitions only; a partition that stays
  here as a STANDBY keeps its producer, which fences the new owner's (or is fenced by it).
  Fix: after Faust's own ``on_rebalance``, every producer of a partition this worker does not
  own actively any more is stopped and forgotten.

An agent that takes a batch of events (phase 2's ``take_events``) sends the batch's outcomes
while the batch's LAST event is current: under Faust's current event they all went under that
event's partition. The commit commits each partition's transaction on its own, so a SIGKILL
between two of them commits the outcomes of another partition's events without those events'
offsets: duplicates. tests/test_cluster_faults.py (workers scaled 1 -> 3 -> 1, two members
SIGKILLed) once counted 6 readings of one sensor twice, outputs included, with no audit warning:
this hole's pattern. Fix: a send inside ``with outputs_of(event):`` goes under ``event``'s
partition; the batched agent (task 2.5) wraps each outcome's send in it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, override

import faust
from faust.transport.consumer import TransactionManager as FaustTransactionManager
from faust.transport.drivers.aiokafka import Producer as FaustProducer
from faust.types import TP, EventT, RecordMetadata
from faust.types.core import HeadersArg

from app.transport import private

logger = logging.getLogger(__name__)

_outputs_of: ContextVar[TP | None] = ContextVar("outputs_of", default=None)


@contextmanager
def outputs_of(event: EventT[Any]) -> Iterator[None]:
    """Sends made inside the block are ``event``'s outputs: under exactly_once they go into the
    transaction of ``event``'s partition and commit together with its offset (a no-op for
    at_least_once). Needed where the event is not Faust's current one: a batch's outcomes."""
    token = _outputs_of.set(event.message.tp)
    try:
        yield
    finally:
        _outputs_of.reset(token)


def source_partition() -> TP | None:
    """The partition whose transaction a send made now goes under: the event named by
    ``outputs_of``, else the event being processed; None for a send outside any event."""
    named = _outputs_of.get()
    if named is not None:
        return named
    event = faust.current_event()
    return None if event is None else event.message.tp


class TransactionManager(FaustTransactionManager):
    """Faust's transaction manager: sends in their source's transaction, producers only for
    the partitions this worker owns."""

    def transactional_id(self, tp: TP) -> str:
        """The transactional id Faust commits ``tp``'s offsets under (its ``commit``)."""
        group = self.app.assignor.group_for_topic(tp.topic)
        return f"{self.app.conf.id}-{group}-{tp.partition}"

    @override
    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: HeadersArg | None,
        *,
        transactional_id: str | None = None,
    ) -> Awaitable[RecordMetadata]:
        source = source_partition()
        if source is None:  # a timer's send: Faust's choice, by the destination partition
            return await super().send(topic, key, value, partition, timestamp, headers)
        destination = self.consumer.key_partition(topic, key, partition)
        return await self.producer.send(
            topic,
            key,
            value,
            destination,
            timestamp,
            headers,
            transactional_id=self.transactional_id(source),
        )

    @override
    async def on_rebalance(
        self, assigned: set[TP], revoked: set[TP], newly_assigned: set[TP]
    ) -> None:
        await super().on_rebalance(assigned, revoked, newly_assigned)
        if not isinstance(self.producer, FaustProducer):
            return
        owned = self.owned_ids(assigned)
        producers = private.transaction_producers(self.producer)
        unowned = sorted(tid for tid in producers if tid not in owned)
        if unowned:
            logger.info(
                "stopping %d transactional producers of partitions this worker does not own "
                "(standbys included): %s",
                len(unowned),
                ", ".join(unowned),
            )
            for transactional_id in unowned:
                await self.producer.stop_transaction(transactional_id)

    def owned_ids(self, assigned: Iterable[TP]) -> set[str]:
        """The transactional ids of the partitions assigned here as actives (not standbys)."""
        assignor: Any = self.app.assignor
        return {self.transactional_id(tp) for tp in assigned if not assignor.is_standby(tp)}
