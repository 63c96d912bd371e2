"""Task 1.2: talk to the broker from Python (reference solution)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from app.models import SensorReading


def to_kafka_record(reading: SensorReading) -> tuple[bytes, bytes]:
    """Key and value bytes for one reading: keyed by sensor, valued as Faust's JSON."""
    # Same key, same partition: Kafka keeps one sensor's readings in order.
    return reading.sensor_id.encode("utf-8"), reading.dumps(serializer="json")


async def produce_and_read_back(
    bootstrap_servers: str, topic: str, reading: SensorReading, timeout: float = 10.0
) -> SensorReading:
    """Produce ``reading`` to ``topic``, read that very record back, and decode it."""
    key, value = to_kafka_record(reading)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await asyncio.wait_for(producer.start(), timeout)
    try:
        sent = await asyncio.wait_for(producer.send_and_wait(topic, value=value, key=key), timeout)
    finally:
        await producer.stop()

    # No consumer group: assign the one partition and seek to the offset the broker gave us.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await asyncio.wait_for(consumer.start(), timeout)
    try:
        partition = TopicPartition(topic, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        record = await asyncio.wait_for(consumer.getone(), timeout)
    finally:
        await consumer.stop()
    return SensorReading.loads(record.value, serializer="json")
