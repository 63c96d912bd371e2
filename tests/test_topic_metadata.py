"""app/transport/metadata.py: a topic just created is known to every broker before Faust goes on.

On a real broker: the app's producer creates a topic through Faust and the wait sees it on every
broker; a topic nobody created is never known, and the wait gives up with one warning. The race
it closes (a broker that learns of the topic a moment late) needs a cluster just formed;
tests/test_cluster_faults.py runs there.
"""

from __future__ import annotations

import logging

import faust
import pytest

from app.transport import drivers, private, transport_url
from app.transport.metadata import known_to_every_broker
from kata_engine.pytest_plugin import KafkaIsolation

pytestmark = pytest.mark.kafka


async def test_a_topic_faust_creates_is_known_to_every_broker_and_a_missing_one_never(
    kafka_isolation: KafkaIsolation, caplog: pytest.LogCaptureFixture
) -> None:
    app = faust.App(
        kafka_isolation.app_id,
        broker=transport_url(f"kafka://{kafka_isolation.bootstrap_servers}"),
        autodiscover=False,
    )
    app.finalize()
    producer = app.producer
    assert isinstance(producer, drivers.Producer), f"the transport built {type(producer)}"
    await producer.start()
    try:
        created = kafka_isolation.topic("metadata-created")
        await producer.create_topic(created, 3, 1)  # the transport's: it waits
        client = private.producer_client(producer)
        assert await known_to_every_broker(client, created, timeout=1.0), (
            f"{created} was created, yet a broker does not list it with partitions"
        )
        missing = kafka_isolation.topic("metadata-never-created")
        known = await known_to_every_broker(client, missing, timeout=0.3)
    finally:
        await producer.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert not known and any(missing in w and "do not know it" in w for w in warnings), (
        f"a topic nobody created was reported known ({known}), warnings {warnings}; expected "
        "False and one warning naming it: the wait must be able to say no"
    )
