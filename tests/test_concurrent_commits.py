"""The transactions of one commit commit at once, each under its lock (app/transport/commits.py).

Against a real broker, through the transport's producer (app/transport/drivers.py
``Producer.commit_transactions``) and Faust's own transactional producers: several transactions
are in their commit together and all land (outputs visible read_committed, offsets committed);
a transaction whose lock is held (a send into it under way) waits for it while the others
commit; a failure in one is raised, and the others still land. The last test pins Faust's own
commit, one transaction after the other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import faust
import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from faust.transport.drivers.aiokafka import Producer as FaustProducer

from app.transport import private, transport_url
from app.transport.drivers import Producer
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import create_topics, group_offsets, read_records

pytestmark = pytest.mark.kafka

TRANSACTIONS = 4  # one per partition, as Faust's {app}-{group}-{partition} ids
GUARD_S = 30.0  # a guard against a hang, never a performance assertion


class Commits:
    """One producer with TRANSACTIONS open transactions, each holding one output record."""

    def __init__(self, isolation: KafkaIsolation, producer: Producer) -> None:
        self.isolation = isolation
        self.producer = producer
        self.group = isolation.app_id
        self.readings = isolation.topic("readings")
        self.outputs = isolation.topic("outputs")
        self.tids = [f"{isolation.app_id}-0-{p}" for p in range(TRANSACTIONS)]
        self.committing: list[str] = []  # transactional ids, as their commit starts
        self.committed: list[str] = []  # ... and as it ends

    def offsets(self) -> dict[str, dict[Any, int]]:
        """What each transaction commits: offset 10 + p of the readings' partition p (aiokafka's
        TopicPartition, as Faust's consumer hands them over)."""
        return {tid: {TopicPartition(self.readings, p): 10 + p} for p, tid in enumerate(self.tids)}

    def watch(self, tid: str, before: Callable[[], Awaitable[None]] | None = None) -> None:
        """Record the commit of ``tid``'s aiokafka producer; ``before`` runs as it starts."""
        transactional: Any = private.transaction_producers(self.producer)[tid]
        commit = transactional.commit_transaction

        async def watched() -> None:
            assert private.transaction_lock(self.producer, tid).locked(), (
                f"{tid} commits without Faust's lock for it: a send could be under way"
            )
            self.committing.append(tid)
            if before is not None:
                await before()
            await commit()
            self.committed.append(tid)

        transactional.commit_transaction = watched

    async def landed(self, expected: int) -> tuple[list[str], dict[int, int]]:
        """(output keys visible read_committed, readings partition -> committed offset)."""
        servers = self.isolation.bootstrap_servers
        records = await read_records(
            servers, [self.outputs], expected, timeout=GUARD_S, settle_ms=300
        )
        offsets = await group_offsets(servers, self.group)
        keys = sorted(record.key.decode() for record in records if record.key is not None)
        return keys, {tp.partition: o for tp, o in offsets.items() if tp.topic == self.readings}


@asynccontextmanager
async def open_transactions(isolation: KafkaIsolation) -> AsyncIterator[Commits]:
    servers = isolation.bootstrap_servers
    await create_topics(
        servers, [isolation.topic("readings"), isolation.topic("outputs")], TRANSACTIONS
    )
    app = faust.App(
        isolation.app_id,
        broker=transport_url(f"kafka://{servers}"),
        processing_guarantee="exactly_once",
        autodiscover=False,
    )
    app.finalize()
    producer = app.producer
    assert isinstance(producer, Producer), f"the transport built {type(producer)}"
    commits = Commits(isolation, producer)
    await producer.start()
    try:
        for p, tid in enumerate(commits.tids):
            await producer.begin_transaction(tid)
            sent = await producer.send(
                commits.outputs, tid.encode(), b"{}", p, None, None, transactional_id=tid
            )
            await sent
        yield commits
    finally:
        for tid in commits.tids:  # one left open by a failure: end it now
            transactional = private.transaction_producers(producer).get(tid)
            if transactional is not None and private.in_transaction(transactional):
                await producer.abort_transaction(tid)
        await producer.stop()


async def test_the_transactions_of_a_commit_are_in_their_commit_together_and_all_land(
    kafka_isolation: KafkaIsolation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="faust.transport.drivers.aiokafka")
    async with open_transactions(kafka_isolation) as commits:
        # Each commit waits until every one has started: a sequential loop never gets past
        # the first (the guard below ends it).
        together = asyncio.Barrier(TRANSACTIONS)

        async def meet() -> None:
            await together.wait()

        for tid in commits.tids:
            commits.watch(tid, meet)
        await asyncio.wait_for(
            commits.producer.commit_transactions(commits.offsets(), commits.group), GUARD_S
        )

        assert sorted(commits.committed) == sorted(commits.tids)
        keys, offsets = await commits.landed(TRANSACTIONS)
    logged = sorted(
        record.getMessage().removeprefix("Done committing transaction ")
        for record in caplog.records
        if record.getMessage().startswith("Done committing transaction ")
    )
    assert logged == sorted(commits.tids), (
        f"the concurrent commit logged 'Done committing transaction' for {logged}; expected "
        f"Faust's line for each of {sorted(commits.tids)} (task 5.1 teaches learners to find it)"
    )
    assert keys == sorted(commits.tids), "an output of a committed transaction is not visible"
    assert offsets == {p: 10 + p for p in range(TRANSACTIONS)}


async def test_a_transaction_whose_lock_is_held_waits_while_the_others_commit(
    kafka_isolation: KafkaIsolation,
) -> None:
    async with open_transactions(kafka_isolation) as commits:
        for tid in commits.tids:
            commits.watch(tid)
        busy = commits.tids[0]
        others = set(commits.tids[1:])
        lock = private.transaction_lock(commits.producer, busy)
        async with lock:  # as a send into that transaction holds it
            commit = asyncio.ensure_future(
                commits.producer.commit_transactions(commits.offsets(), commits.group)
            )
            async with asyncio.timeout(GUARD_S):
                while set(commits.committed) != others:
                    await asyncio.sleep(0.01)
            assert busy not in commits.committing, f"{busy} committed while its lock was held"
        await asyncio.wait_for(commit, GUARD_S)

        assert commits.committed[-1] == busy
        keys, offsets = await commits.landed(TRANSACTIONS)
    assert keys == sorted(commits.tids)
    assert offsets == {p: 10 + p for p in range(TRANSACTIONS)}


async def test_a_failed_transaction_is_raised_and_the_others_still_land(
    kafka_isolation: KafkaIsolation,
) -> None:
    async with open_transactions(kafka_isolation) as commits:
        failing = commits.tids[1]

        async def refuse() -> None:
            raise KafkaError("the broker refused this commit")

        for tid in commits.tids:
            commits.watch(tid, refuse if tid == failing else None)
        with pytest.raises(KafkaError, match="refused this commit"):
            await asyncio.wait_for(
                commits.producer.commit_transactions(commits.offsets(), commits.group), GUARD_S
            )

        assert sorted(commits.committed) == sorted(set(commits.tids) - {failing})
        keys, offsets = await commits.landed(TRANSACTIONS - 1)
    assert keys == sorted(set(commits.tids) - {failing})
    assert offsets == {p: 10 + p for p, tid in enumerate(commits.tids) if tid != failing}


async def test_fausts_own_commit_commits_one_transaction_at_a_time(
    kafka_isolation: KafkaIsolation,
) -> None:
    """Why the transport commits them at once: Faust's ``commit_transactions`` awaits each
    transaction's commit before it starts the next. A Faust release that commits them together
    fails this test: the override may go then."""
    async with open_transactions(kafka_isolation) as commits:
        in_commit = 0
        most = 0

        async def count() -> None:
            nonlocal in_commit, most
            in_commit += 1
            most = max(most, in_commit)
            await asyncio.sleep(0.05)  # a slow commit: another one would start meanwhile
            in_commit -= 1

        for tid in commits.tids:
            commits.watch(tid, count)
        await asyncio.wait_for(
            FaustProducer.commit_transactions(commits.producer, commits.offsets(), commits.group),
            GUARD_S,
        )

        assert sorted(commits.committed) == sorted(commits.tids)
    assert most == 1, f"Faust's own commit had {most} transactions in their commit at once"
