"""The worker's SASL settings against a real broker: a SASL_PLAINTEXT listener, user and password.

The local broker gets a second listener that only speaks SASL/PLAIN (one user, ``kata``). The
readings go in and the outcomes are read over the ordinary PLAINTEXT listener; the worker
connects only through the SASL one, with KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT. TLS is not
exercised here (it would need a certificate authority for the test): README says so.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from app.producer import KIND_HEADER, SEEDED_START_TIME, generate_events
from kata_engine.broker.common import BrokerUnavailable, check_answers, free_port
from kata_engine.broker.jars import MIN_JAVA, LocalBroker, java_major_version, local_broker
from kata_engine.worker import create_topics, read_records, running_worker

pytestmark = pytest.mark.kafka

READINGS = 200
PASSWORD = "kata-secret"


@pytest.fixture(scope="module")
def sasl_broker() -> Iterator[tuple[LocalBroker, str]]:
    """A local broker and the address of its SASL_PLAINTEXT listener."""
    version = java_major_version()
    if version is None or version < MIN_JAVA:
        pytest.skip(f"the local broker needs Java {MIN_JAVA}+ on PATH")
    sasl_port = free_port()
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="kata" password="{PASSWORD}" user_kata="{PASSWORD}";'
    )
    settings = {
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas,
    }
    with local_broker(
        extra_listeners={"SASL_PLAINTEXT": sasl_port}, extra_settings=settings
    ) as broker:
        yield broker, f"127.0.0.1:{sasl_port}"


def test_the_sasl_listener_refuses_a_client_without_credentials(
    sasl_broker: tuple[LocalBroker, str],
) -> None:
    _, sasl_address = sasl_broker

    with pytest.raises(BrokerUnavailable):
        check_answers(sasl_address, 5.0)


def test_the_worker_processes_readings_through_sasl_plain(
    sasl_broker: tuple[LocalBroker, str], tmp_path: Path
) -> None:
    broker, sasl_address = sasl_broker
    plain = broker.bootstrap_servers
    prefix = "sasl-"
    topics = [f"{prefix}{name}" for name in ("sensor-readings", "enriched-readings")]
    dead_letter = f"{prefix}sensor-dead-letter"
    asyncio.run(create_topics(plain, [*topics, dead_letter], partitions=4))
    asyncio.run(feed(plain, topics[0]))
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": sasl_address,  # the worker sees only the SASL listener
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "PLAIN",
        "KAFKA_SASL_USERNAME": "kata",
        "KAFKA_SASL_PASSWORD": PASSWORD,
        "KATA_APP_ID": "sasl-test",
        "KATA_TOPIC_PREFIX": prefix,
        "KATA_IMPL": "solutions",
    }
    with running_worker({**os.environ, **env}, tmp_path, phases="2") as worker:
        records = asyncio.run(
            read_records(plain, [topics[1], dead_letter], READINGS, worker=worker, timeout=60)
        )

    assert len(records) == READINGS, (
        f"{len(records)} outcomes for {READINGS} readings: the worker, connected through "
        "SASL/PLAIN only, should have enriched or dead-lettered every one"
    )
    assert PASSWORD not in worker.log.read_text(errors="replace"), "the worker logged the password"


async def feed(servers: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
    await producer.start()
    try:
        events = generate_events(
            READINGS, seed=3, sensors=3, include_bad=True, start_time=SEEDED_START_TIME, step=1.0
        )
        for event in events:
            await producer.send(
                topic, event.value, key=event.key, headers=[(KIND_HEADER, event.kind.encode())]
            )
        await producer.flush()
    finally:
        await producer.stop()
