"""app/topic.py: PipelineTopic's sends reach the producer without yielding to the event loop.

Why it exists: Faust's ``Topic.send`` asks ``app.maybe_start_producer()`` for the producer, a
mode ``@stampede`` method that yields to the event loop three times per call, so the producer's
sender ships one record per produce request. These tests pin both halves on a real broker: the
plain Faust topic yields (if an upgrade stops that, PipelineTopic can go), PipelineTopic does not,
and the private hook it overrides still exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import faust
import pytest

from app.topic import PipelineTopic
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import create_topics

SENDS = 200


def test_the_private_hook_pipeline_topic_overrides_still_exists() -> None:
    assert "_get_producer" in vars(faust.Topic), (
        "faust.Topic no longer defines _get_producer: PipelineTopic overrides nothing now; "
        "check how Topic.send finds its producer in this Faust version"
    )


async def loop_trips_while_sending(isolation: KafkaIsolation, topic_class: type[Any]) -> int:
    """How often the event loop ran something else during SENDS sends of one topic."""
    name = isolation.topic(f"yields-{topic_class.__name__}")
    await create_topics(isolation.bootstrap_servers, [name], 1)
    app = faust.App(
        f"{isolation.app_id}-{topic_class.__name__}",
        broker=f"kafka://{isolation.bootstrap_servers}",
        store="memory://",
        web_enabled=False,
        Topic=topic_class,
    )
    topic = app.topic(name, key_type=bytes, value_type=bytes, value_serializer="raw")
    app.loop = asyncio.get_running_loop()
    app.finalize()
    await app.producer.start()
    trips = 0
    sending = True

    async def count_trips() -> None:
        nonlocal trips
        while sending:
            trips += 1
            await asyncio.sleep(0)

    try:
        await (await topic.send(key=b"warm-up", value=b"x"))  # the producer is started now
        counter = asyncio.create_task(count_trips())
        await asyncio.sleep(0)
        before = trips
        deliveries: list[Awaitable[Any]] = [
            await topic.send(key=b"k", value=b"x") for _ in range(SENDS)
        ]
        during = trips - before
        sending = False
        await counter
        await asyncio.gather(*deliveries)
        return during
    finally:
        await app.producer.stop()


@pytest.mark.kafka
async def test_pipeline_topic_sends_without_yielding_and_faust_topic_yields(
    kafka_isolation: KafkaIsolation,
) -> None:
    plain = await loop_trips_while_sending(kafka_isolation, faust.Topic)
    ours = await loop_trips_while_sending(kafka_isolation, PipelineTopic)
    assert plain >= SENDS, (
        f"{SENDS} sends through faust.Topic let the event loop run {plain} times; expected at "
        "least once per send (mode's stampede yields three times): if Faust stopped yielding, "
        "app/topic.py is no longer needed"
    )
    assert ours <= 2, (
        f"{SENDS} sends through PipelineTopic let the event loop run {ours} times; expected "
        "(almost) none once the producer runs: every trip lets the sender ship a one-record request"
    )
