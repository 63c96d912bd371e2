"""Task 1.2: talk to the broker from Python.

Before Faust does it for you, do it by hand with aiokafka (the Kafka client Faust is built on):
produce one reading to a topic, then read that same record back. Start a broker first:
``docker compose up -d`` (or ``uv run kata broker`` without Docker).

Run: ``uv run pytest katas/phase1/test_first_contact.py``
"""

from __future__ import annotations

from app.models import SensorReading


def to_kafka_record(reading: SensorReading) -> tuple[bytes, bytes]:
    """``(key, value)`` bytes for one reading.

    The key is the ``sensor_id`` (UTF-8): records with the same key go to the same partition,
    so one sensor's readings stay in order. The value is Faust's JSON for the reading.
    """
    raise NotImplementedError(
        "task 1.2: choose the key and value of a record — run `uv run kata hint 1.2`"
    )


async def produce_and_read_back(
    bootstrap_servers: str, topic: str, reading: SensorReading, timeout: float = 10.0
) -> SensorReading:
    """Produce ``reading`` to ``topic``, read that very record back, and decode it.

    Use ``aiokafka.AIOKafkaProducer`` (``send_and_wait`` tells you the partition and offset) and
    ``aiokafka.AIOKafkaConsumer`` (``assign`` + ``seek`` to that offset, then ``getone``). Stop
    both clients, and never wait longer than ``timeout`` seconds for any step.
    """
    raise NotImplementedError(
        "task 1.2: produce a reading and read it back — run `uv run kata hint 1.2`"
    )
