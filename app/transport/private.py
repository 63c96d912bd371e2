"""Every private name of faust-streaming and aiokafka that the transport reads, in one place.

The transport (app/transport/drivers.py) extends Faust through subclasses and public methods
where it can. Where it cannot, it reads private state through the functions below and nowhere
else; ``PRIVATE_NAMES`` lists each name with the class that holds it, and
tests/test_transport_wiring.py asserts that every one exists on the pinned versions
(faust-streaming 0.15.3, aiokafka 0.14.0), so an upgrade that renames one fails a test instead of
switching a fix off in silence. app/transport/versions.py refuses exactly_once on other versions.

| Name | Where | Read for |
|---|---|---|
| ``_add_gap`` | faust Consumer (method) | race 6: overridden, the gap without the record after it |
| ``_acked`` | faust Consumer | the watchdog, revoked books: acknowledged offsets per partition |
| ``_acked_index`` | faust Consumer | revoked books: the same offsets as a set |
| ``_committed_offset`` | faust Consumer | race 3 (what this worker committed) and the watchdog |
| ``_read_offset`` | faust Consumer | the watchdog's log line; fastpath.py's loop keeps it |
| ``_gap`` | faust Consumer | the watchdog's log line, revoked books |
| ``_transaction_producers`` | faust aiokafka Producer | race 7, final commit, commits.py |
| ``_trn_locks`` | faust aiokafka Producer | race 7, commits.py: Faust's lock per transactional id |
| ``_txn_manager`` | aiokafka AIOKafkaProducer | the final commit: is a transaction open? |
| ``_new_consumer_thread`` | faust aiokafka Consumer (method) | overridden: race 8's thread |
| ``_commit_handler`` | faust Consumer (a task) | overridden: the paced commit timer (commits.py) |
| ``_ensure_consumer`` | faust AIOKafkaConsumerThread | race 8: aiokafka's ``end_offsets`` |
| ``_drain_messages`` | faust Consumer (method) | overridden: fastpath.py's delivery loop |
| ``_commit_every`` | faust Consumer | fastpath.py: ``broker_commit_every`` |
| ``_n_acked`` | faust Consumer | fastpath.py: acknowledgements since the last ``commit_every`` |
| ``_ensure_producer`` | faust aiokafka Producer | metadata.py: the client that creates topics |
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, MutableMapping
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.producer.transaction_manager import TransactionManager
from faust.transport.consumer import Consumer as FaustConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as FaustAIOKafkaConsumer
from faust.transport.drivers.aiokafka import Producer as FaustProducer
from faust.types import TP

# (the class that holds it, the name): tests/test_transport_wiring.py checks each one.
PRIVATE_NAMES: tuple[tuple[type, str], ...] = (
    (FaustProducer, "_ensure_producer"),
    (FaustConsumer, "_add_gap"),
    (FaustConsumer, "_acked"),
    (FaustConsumer, "_acked_index"),
    (FaustConsumer, "_committed_offset"),
    (FaustConsumer, "_read_offset"),
    (FaustConsumer, "_gap"),
    (FaustProducer, "_transaction_producers"),
    (FaustProducer, "_trn_locks"),
    (AIOKafkaProducer, "_txn_manager"),
    (FaustAIOKafkaConsumer, "_new_consumer_thread"),
    (FaustConsumer, "_commit_handler"),
    (AIOKafkaConsumerThread, "_ensure_consumer"),
    (TransactionManager, "is_in_transaction"),  # public, on the private object above
    (FaustConsumer, "_drain_messages"),
    (FaustConsumer, "_commit_every"),
    (FaustConsumer, "_n_acked"),
)


class TransactionalProducer(Protocol):
    """The part of an aiokafka transactional producer that the transport uses."""

    async def commit_transaction(self) -> None: ...

    async def begin_transaction(self) -> None: ...


def committed_offsets(consumer: FaustConsumer) -> MutableMapping[TP, int | None]:
    """What this worker has committed, per partition (Faust's own bookkeeping)."""
    offsets: MutableMapping[TP, int | None] = consumer._committed_offset
    return offsets


def acked_offsets(consumer: FaustConsumer) -> MutableMapping[TP, list[int]]:
    """Acknowledged offsets not committed yet, per partition."""
    acked: MutableMapping[TP, list[int]] = consumer._acked
    return acked


def acked_index(consumer: FaustConsumer) -> MutableMapping[TP, set[int]]:
    """The same offsets as ``acked_offsets``, as a set per partition (Faust keeps both)."""
    index: MutableMapping[TP, set[int]] = consumer._acked_index
    return index


def gap_trees(consumer: FaustConsumer) -> MutableMapping[TP, Any]:
    """Faust's gaps per partition, as its interval trees."""
    trees: MutableMapping[TP, Any] = consumer._gap
    return trees


def read_offsets(consumer: FaustConsumer) -> MutableMapping[TP, int | None]:
    """The last offset Faust's fetch loop read, per partition (a defaultdict: None if unread)."""
    offsets: MutableMapping[TP, int | None] = consumer._read_offset
    return offsets


def commit_every(consumer: FaustConsumer) -> int | None:
    """``broker_commit_every`` as Faust's fetch loop reads it: commit after that many acks."""
    every: int | None = consumer._commit_every
    return every


def acked_since_commit(consumer: FaustConsumer) -> int:
    """Acknowledgements counted since the fetch loop last committed for ``commit_every``."""
    count: int = consumer._n_acked
    return count


def reset_acked_since_commit(consumer: FaustConsumer) -> None:
    """The fetch loop commits for ``commit_every``: count again from zero (as Faust does)."""
    consumer._n_acked = 0


def gaps(consumer: FaustConsumer, tp: TP) -> list[tuple[int, int]]:
    """The gaps (first, last offset) Faust has recorded on ``tp``."""
    tree: Any = consumer._gap.get(tp) or ()
    return sorted((gap.begin, gap.end - 1) for gap in tree)


def transaction_producers(producer: FaustProducer) -> Mapping[str, AIOKafkaProducer]:
    """Faust's transactional producers by transactional id (a class-level dict in Faust)."""
    producers: Mapping[str, AIOKafkaProducer] = producer._transaction_producers
    return producers


def transaction_lock(producer: FaustProducer, transactional_id: str) -> asyncio.Lock:
    """Faust's lock around every use of one transactional producer."""
    lock: asyncio.Lock = producer._trn_locks[transactional_id]
    return lock


def in_transaction(producer: object) -> bool:
    """Has ``producer`` (an aiokafka transactional producer) a transaction open right now?

    aiokafka raises ``AssertionError('Invalid state transition ...')`` when a transaction is
    committed that was never begun; this is how the final commit avoids it.
    """
    manager: Any = getattr(producer, "_txn_manager", None)
    return manager is not None and bool(manager.is_in_transaction())


def kafka_consumer(thread: AIOKafkaConsumerThread) -> AIOKafkaConsumer:
    """The aiokafka consumer a Faust consumer thread runs (raises if it has not started)."""
    return thread._ensure_consumer()


def producer_client(producer: FaustProducer) -> Any:
    """The aiokafka client of Faust's producer (the one Faust creates topics with)."""
    return producer._ensure_producer().client
