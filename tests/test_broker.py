"""The broker the chain provides really behaves like Kafka: records, groups, transactions, topics.

Every wait is bounded (getmany timeouts inside asyncio.wait_for), so a broken broker fails a test
instead of hanging it. Each test uses its own topic and group names (``kafka_isolation``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import create_topics

WAIT_S = 30.0  # upper bound for any single wait on the broker


async def read(consumer: AIOKafkaConsumer, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    """Read exactly ``count`` records (or fail after WAIT_S)."""

    async def until_count() -> list[ConsumerRecord[bytes, bytes]]:
        records: list[ConsumerRecord[bytes, bytes]] = []
        while len(records) < count:
            batches = await consumer.getmany(timeout_ms=500)
            records.extend(record for batch in batches.values() for record in batch)
        return records

    return await asyncio.wait_for(until_count(), WAIT_S)


async def read_until(
    consumer: AIOKafkaConsumer, last_value: bytes
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read records until one with value ``last_value`` arrives (or fail after WAIT_S)."""

    async def until_last() -> list[ConsumerRecord[bytes, bytes]]:
        records: list[ConsumerRecord[bytes, bytes]] = []
        while not records or records[-1].value != last_value:
            batches = await consumer.getmany(timeout_ms=500)
            records.extend(record for batch in batches.values() for record in batch)
        return records

    return await asyncio.wait_for(until_last(), WAIT_S)


@asynccontextmanager
async def consumer_of(
    bootstrap: str, topic: str, **options: str | bool
) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", **options
    )
    await asyncio.wait_for(consumer.start(), WAIT_S)
    try:
        yield consumer
    finally:
        await consumer.stop()


@asynccontextmanager
async def producer_for(bootstrap: str, **options: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **options)
    await asyncio.wait_for(producer.start(), WAIT_S)
    try:
        yield producer
    finally:
        await producer.stop()


async def one_partition_topic(isolation: KafkaIsolation, name: str) -> tuple[str, str]:
    """``(bootstrap, topic)``: a new topic of this test with ONE partition, so order is total.

    Created explicitly: an auto-created topic gets the broker's default partition count.
    """
    bootstrap, topic = isolation.bootstrap_servers, isolation.topic(name)
    await asyncio.wait_for(create_topics(bootstrap, [topic], partitions=1), WAIT_S)
    return bootstrap, topic


async def test_records_come_back_in_order_with_their_keys(kafka_isolation: KafkaIsolation) -> None:
    bootstrap, topic = await one_partition_topic(kafka_isolation, "plain")
    sent = [(b"sensor-1", b"21.5"), (b"sensor-2", b"22.0"), (b"sensor-1", b"23.5")]
    async with producer_for(bootstrap) as producer:
        for key, value in sent:
            await asyncio.wait_for(producer.send_and_wait(topic, value, key=key), WAIT_S)

    async with consumer_of(bootstrap, topic) as consumer:
        records = await read(consumer, len(sent))

    assert [(r.key, r.value) for r in records] == sent


async def test_a_committed_group_offset_is_visible_to_the_admin(
    kafka_isolation: KafkaIsolation,
) -> None:
    bootstrap, topic = await one_partition_topic(kafka_isolation, "grouped")
    group = f"{kafka_isolation.app_id}-group"
    async with producer_for(bootstrap) as producer:
        for value in (b"a", b"b", b"c"):
            await asyncio.wait_for(producer.send_and_wait(topic, value), WAIT_S)

    async with consumer_of(bootstrap, topic, group_id=group, enable_auto_commit=False) as consumer:
        await read(consumer, 3)
        await asyncio.wait_for(consumer.commit(), WAIT_S)

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await asyncio.wait_for(admin.start(), WAIT_S)
    try:
        offsets = await asyncio.wait_for(admin.list_consumer_group_offsets(group), WAIT_S)
    finally:
        await admin.close()
    # The committed offset is the next record to read: 3 after reading offsets 0, 1, 2.
    assert {tp: meta.offset for tp, meta in offsets.items()} == {TopicPartition(topic, 0): 3}


async def test_read_committed_sees_a_transaction_only_after_commit(
    kafka_isolation: KafkaIsolation,
) -> None:
    bootstrap, topic = await one_partition_topic(kafka_isolation, "txn-commit")
    partition = TopicPartition(topic, 0)
    async with producer_for(bootstrap, transactional_id=f"{kafka_isolation.app_id}-c") as producer:
        await asyncio.wait_for(producer.begin_transaction(), WAIT_S)
        await asyncio.wait_for(producer.send_and_wait(topic, b"in-flight-1"), WAIT_S)
        await asyncio.wait_for(producer.send_and_wait(topic, b"in-flight-2"), WAIT_S)

        async with consumer_of(bootstrap, topic, isolation_level="read_committed") as committed:
            # The last stable offset stops before the open transaction: nothing to read yet.
            before = await asyncio.wait_for(committed.end_offsets([partition]), WAIT_S)
            assert before == {partition: 0}
            await asyncio.wait_for(producer.commit_transaction(), WAIT_S)
            records = await read(committed, 2)

    assert [r.value for r in records] == [b"in-flight-1", b"in-flight-2"]


async def test_an_aborted_transaction_is_gone_for_read_committed_only(
    kafka_isolation: KafkaIsolation,
) -> None:
    bootstrap, topic = await one_partition_topic(kafka_isolation, "txn-abort")
    async with producer_for(bootstrap, transactional_id=f"{kafka_isolation.app_id}-a") as producer:
        await asyncio.wait_for(producer.begin_transaction(), WAIT_S)
        await asyncio.wait_for(producer.send_and_wait(topic, b"aborted"), WAIT_S)
        await asyncio.wait_for(producer.abort_transaction(), WAIT_S)
        # A committed record after the aborted one: reading up to it proves what was skipped.
        await asyncio.wait_for(producer.begin_transaction(), WAIT_S)
        await asyncio.wait_for(producer.send_and_wait(topic, b"kept"), WAIT_S)
        await asyncio.wait_for(producer.commit_transaction(), WAIT_S)

    async with consumer_of(bootstrap, topic, isolation_level="read_committed") as committed:
        seen_committed = [r.value for r in await read_until(committed, b"kept")]
    async with consumer_of(bootstrap, topic, isolation_level="read_uncommitted") as everything:
        seen_uncommitted = [r.value for r in await read_until(everything, b"kept")]

    assert seen_committed == [b"kept"]
    assert seen_uncommitted == [b"aborted", b"kept"]  # the isolation level is what hides it


async def described_once_known(admin: AIOKafkaAdminClient, topic: str) -> dict[str, Any]:
    """The topic's metadata once the broker knows it (right after creation it may not yet)."""
    while True:
        [described] = await admin.describe_topics([topic])
        if described["error_code"] == 0:
            return cast(dict[str, Any], described)
        await asyncio.sleep(0.2)


async def test_the_admin_creates_a_topic_with_the_partitions_asked_for(
    kafka_isolation: KafkaIsolation,
) -> None:
    topic = kafka_isolation.topic(f"created-{uuid.uuid4().hex[:6]}")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_isolation.bootstrap_servers)
    await asyncio.wait_for(admin.start(), WAIT_S)
    try:
        await asyncio.wait_for(
            admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)]), WAIT_S
        )
        described = await asyncio.wait_for(described_once_known(admin, topic), WAIT_S)
    finally:
        await admin.close()

    assert sorted(p["partition"] for p in described["partitions"]) == [0, 1, 2]
