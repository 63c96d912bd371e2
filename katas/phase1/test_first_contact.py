"""Task 1.2: produce a reading to a real broker and read it back."""

from __future__ import annotations

import json

from app.models import SensorReading
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import create_topics
from katas.phase1.first_contact import produce_and_read_back, to_kafka_record

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


async def test_a_reading_comes_back_from_the_broker(kafka_isolation: KafkaIsolation) -> None:
    topic = kafka_isolation.topic("first-contact")
    servers = kafka_isolation.bootstrap_servers
    await create_topics(servers, [topic], partitions=3)
    got = await produce_and_read_back(servers, topic, READING, timeout=15.0)
    assert got == READING, (
        f"produce_and_read_back({servers!r}, {topic!r}, ...) returned {got!r}; expected {READING!r}"
    )
