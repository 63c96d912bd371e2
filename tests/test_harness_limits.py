"""The harness behaves like the real producer: sizes, delivery futures, refusals, halts.

On an app of its own (no broker is ever contacted). The pipeline-level proofs are in
katas/phase2/test_enrichment.py; these pin the harness itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import faust
import pytest
from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError
from faust.types import StreamT

from app.halt import halt_worker
from kata_engine.testing import WorkerHalted, prepared_app, run_agent

app = faust.App(
    "harness-limits-test",
    broker="kafka://127.0.0.1:1",  # never contacted
    store="memory://",
    autodiscover=False,
    web_bind="127.0.0.1",
)
source = app.topic("limits-source", key_type=bytes, value_type=bytes, value_serializer="raw")
out = app.topic(
    "limits-out", key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
)
CAPTURED = [source, out]
LIMIT = app.conf.producer_max_request_size


@app.agent(source)
async def copy_n_bytes(stream: StreamT[bytes]) -> AsyncIterator[str]:
    """Sends a value of int(value) bytes and yields what the delivery said (or the error)."""
    async for value in stream:
        try:
            metadata = await (await out.send(key=b"k", value=b"v" * int(value)))
        except Exception as error:
            yield f"{type(error).__name__}: {error}"
        else:
            yield f"offset {metadata.offset}"


@app.agent(source)
async def halts(stream: StreamT[bytes]) -> AsyncIterator[None]:
    async for value in stream:
        halt_worker(f"cannot handle {value!r}")
        yield None


@app.agent(source)
async def never_yields(stream: StreamT[bytes]) -> AsyncIterator[None]:
    async for _value in stream:
        continue
        yield None


@pytest.fixture
async def limits_app() -> AsyncIterator[faust.App]:
    async with prepared_app(app) as prepared:
        yield prepared


async def test_a_record_over_the_producer_limit_is_refused_like_the_real_producer(
    limits_app: faust.App,
) -> None:
    fits = LIMIT - 200
    async with run_agent(copy_n_bytes, capture=CAPTURED) as run:
        await run.put(str(fits).encode())
        await run.put(str(LIMIT).encode())
    assert run.results[0] == "offset 0", f"a {fits}-byte value was refused: {run.results[0]}"
    assert run.results[1].startswith(ProducerSendError.__name__), (
        f"a value of {LIMIT} bytes (plus key and framing) gave {run.results[1]!r}; expected "
        "ProducerSendError(MessageSizeTooLargeError), as Faust's producer raises"
    )
    assert "MessageSizeTooLargeError" in run.results[1]
    assert [len(m.value) for m in run.sent] == [fits], "a refused record must not be recorded"


async def test_a_refused_topic_fails_the_delivery_future(limits_app: faust.App) -> None:
    async with run_agent(
        copy_n_bytes, capture=CAPTURED, refused={out: KafkaError("broker says no")}
    ) as run:
        await run.put(b"10")
    assert run.results == ["KafkaError: KafkaError: broker says no"], run.results
    assert run.sent == []


async def test_a_halt_is_an_exception_in_the_test_not_the_end_of_the_run(
    limits_app: faust.App,
) -> None:
    async with run_agent(halts, capture=CAPTURED) as run:
        with pytest.raises(WorkerHalted, match="without acknowledging the event: cannot handle"):
            await run.put(b"x")


async def test_after_one_timeout_later_puts_to_the_same_agent_fail_at_once(
    limits_app: faust.App,
) -> None:
    async with run_agent(never_yields, capture=CAPTURED) as run:
        with pytest.raises(AssertionError, match="does it yield for every event"):
            await run.put(b"1", timeout=0.2)
        # A long timeout: if the harness waited again, this test would take a minute, not fail.
        with pytest.raises(AssertionError, match="failed at once"):
            await run.put(b"2", timeout=60.0)
