"""A plain Faust app whose agent raises on one event (for tests/test_faust_acks_on_failure.py).

No pipeline code: it shows what Faust itself does with an event whose agent body raised.
Run: ``faust -A tests.demo_apps.raises_once worker`` with KATA_APP_ID, KATA_TOPIC_PREFIX,
KAFKA_BOOTSTRAP_SERVERS and KATA_WEB_PORT set.
"""

from __future__ import annotations

import os

import faust

from app.config import broker_url

PREFIX = os.environ.get("KATA_TOPIC_PREFIX", "")
BOOM = b"boom"
RAISED = "the agent raised on purpose"

app = faust.App(
    os.environ.get("KATA_APP_ID", "raises-once"),
    broker=broker_url(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")),
    store="memory://",
    web_bind="127.0.0.1",
    web_port=int(os.environ.get("KATA_WEB_PORT", "6066")),
    topic_replication_factor=1,
    autodiscover=False,
)
source = app.topic(
    f"{PREFIX}plain-source",
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
)
copies = app.topic(
    f"{PREFIX}plain-copies",
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
)


@app.agent(source)
async def copy_or_raise(stream: faust.StreamT[bytes]) -> None:
    """Copy every value to plain-copies, except ``boom``, on which the body raises."""
    async for value in stream:
        if value == BOOM:
            raise RuntimeError(f"{RAISED}: {value!r}")
        await (await copies.send(value=value))
