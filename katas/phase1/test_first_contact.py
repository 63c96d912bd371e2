"""Task 1.2: produce a reading to a real broker and read it back."""

from __future__ import annotations

import json
import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.partitioner import murmur2

from app.models import SensorReading
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import create_topics
from katas.phase1.first_contact import produce_and_read_back, to_kafka_record

PARTITIONS = 3
READING = SensorReading(
    reading_id="r-00000042",
    sensor_id="sensor-007",
    temperature=33.25,
    humidity=51.5,
    timestamp=1_700_000_042.0,
)


def test_the_record_is_keyed_by_sensor() -> None:
    key, value = to_kafka_record(READING)
    assert key == b"sensor-007", (
        f"to_kafka_record(...) chose the key {key!r}; expected b'sensor-007' (the sensor_id), "
        "so one sensor's readings share a partition and stay in order"
    )
    document = json.loads(value)
    assert document.get("reading_id") == "r-00000042" and "__faust" in document, (
        f"to_kafka_record(...) chose the value {value!r}; expected Faust's JSON for the reading"
    )


def test_same_sensor_same_key() -> None:
    later = READING.derive(reading_id="r-00000043", temperature=35.0)
    first, second = to_kafka_record(READING)[0], to_kafka_record(later)[0]
    assert first == second, (
        f"two readings of sensor-007 got the keys {first!r} and {second!r}; expected the same key"
    )


async def read_the_topic(servers: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` (created with PARTITIONS partitions), read by the test on its
    own: no group, from the beginning, until a second passes without a new record."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + 10.0  # a guard against a hang, not a time assertion
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            records += [record for batch in batches.values() for record in batch]
            if records and not batches:
                break  # a quiet second after the first record: nothing else is coming
        return records
    finally:
        await consumer.stop()


async def test_a_reading_comes_back_from_the_broker(kafka_isolation: KafkaIsolation) -> None:
    topic = kafka_isolation.topic("first-contact")
    servers = kafka_isolation.bootstrap_servers
    await create_topics(servers, [topic], partitions=PARTITIONS)
    got = await produce_and_read_back(servers, topic, READING, timeout=15.0)
    call = f"produce_and_read_back({servers!r}, {topic!r}, <sensor-007 reading>)"

    # What is on the topic, read independently: exactly the record to_kafka_record describes.
    records = await read_the_topic(servers, topic)
    assert len(records) == 1, (
        f"after {call} the topic holds {len(records)} records; expected exactly 1, the reading "
        "you produced (nothing produced means the reading never went through Kafka)"
    )
    [record] = records
    key, value = to_kafka_record(READING)
    assert (record.key, record.value) == (key, value), (
        f"the record on the topic has key {record.key!r} and value {record.value!r}; expected "
        f"the key and value to_kafka_record gives: {key!r}, {value!r}"
    )
    partition = (murmur2(key) & 0x7FFFFFFF) % PARTITIONS  # Kafka's default partitioner
    assert (record.partition, record.offset) == (partition, 0), (
        f"the record landed at partition {record.partition}, offset {record.offset}; expected "
        f"partition {partition} (the key's partition: Kafka hashes the key) at offset 0"
    )
    assert got == READING, (
        f"{call} returned {got!r}; expected the reading decoded from the record it read back, "
        f"{READING!r}"
    )
