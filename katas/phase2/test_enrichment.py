"""Task 2.4: the enrich_readings agent sends every event to exactly one place.

These tests need no broker: kata_engine.testing runs the agent in Faust's test context and records
what it sends (see the docstring of kata_engine/testing.py).
"""

from __future__ import annotations

import json
import random

import faust
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.catalogue import MALFORMED_KINDS, MalformedKind, SensorFleet, to_bytes, valid_reading
from app.config import Status, settings
from app.faust_app import topics
from app.models import DeadLetter, EnrichedReading
from kata_engine.testing import AgentRun, SentMessage, run_agent
from katas.phase2.enrichment import enrich_readings

FLEET = SensorFleet.create(5, random.Random(2))
FIELDS = ("reading_id", "sensor_id", "temperature", "humidity", "timestamp")


def sample(sequence: int = 1, **changes: object) -> dict[str, object]:
    """A valid reading as a dict, with ``changes`` applied."""
    reading = valid_reading(random.Random(sequence), FLEET, sequence, 1_700_000_000.0 + sequence)
    return {**reading, **changes}


def expected_status(temperature: float) -> str:
    if temperature >= settings.critical_temperature:
        return Status.CRITICAL.value
    return (
        Status.WARNING.value if temperature >= settings.warning_temperature else Status.NORMAL.value
    )


def only_message(run: AgentRun, put: str) -> SentMessage:
    """The one message the agent sent for one event; fails with a sentence otherwise."""
    sent = [(m.topic, m.key) for m in run.sent]
    assert len(run.sent) == 1, (
        f"after {put} the agent sent {len(run.sent)} message(s) {sent}; expected exactly one"
    )
    return run.sent[0]


@pytest.mark.parametrize("temperature", [21.5, 30.0, 39.9, 40.0, 55.0])
async def test_a_valid_reading_becomes_one_enriched_reading(
    faust_app: faust.App, temperature: float
) -> None:
    reading = sample(temperature=temperature)
    raw = to_bytes(reading)
    async with run_agent(enrich_readings) as run:
        await run.put(raw, key=str(reading["sensor_id"]).encode())
    put = f"put({raw!r})"
    message = only_message(run, put)

    assert message.topic == topics.enriched.get_topic_name(), (
        f"after {put} the agent sent to {message.topic!r}; expected {topics.enriched!s}"
    )
    assert message.key == reading["sensor_id"], (
        f"after {put} the enriched reading's key is {message.key!r}; "
        f"expected the sensor_id {reading['sensor_id']!r}"
    )
    enriched = message.value
    assert isinstance(enriched, EnrichedReading), (
        f"after {put} the agent sent {enriched!r}; expected an EnrichedReading"
    )
    copied = {name: getattr(enriched, name) for name in FIELDS}
    assert copied == reading, f"the enriched reading carries {copied}; expected {reading}"
    assert enriched.status == expected_status(temperature), (
        f"a reading of {temperature} °C was enriched with status {enriched.status!r}; expected "
        f"{expected_status(temperature)!r} (warning >= {settings.warning_temperature}, "
        f"critical >= {settings.critical_temperature})"
    )
    assert enriched.processed_at > 0, f"processed_at is {enriched.processed_at}; expected now"
    assert run.results == [enriched], (
        f"the agent yielded {run.results}; expected the one message it sent"
    )


@pytest.mark.parametrize("kind", MALFORMED_KINDS, ids=[kind.name for kind in MALFORMED_KINDS])
async def test_each_malformed_kind_lands_in_the_dead_letter_topic(
    faust_app: faust.App, kind: MalformedKind
) -> None:
    raw = kind.build(sample())
    key = b"sensor-042"
    async with run_agent(enrich_readings) as run:
        await run.put(raw, key=key, partition=2, offset=1234)
    put = f"put({raw!r}, key={key!r}, partition=2, offset=1234) ({kind.name})"
    message = only_message(run, put)

    assert message.topic == topics.dead_letter.get_topic_name(), (
        f"after {put} the agent sent to {message.topic!r}; expected {topics.dead_letter!s}"
    )
    dead = message.value
    assert isinstance(dead, DeadLetter), (
        f"after {put} the agent sent {dead!r}; expected a DeadLetter"
    )
    assert dead.error_code == kind.expected, (
        f"after {put} the dead letter says {dead.error_code!r}; expected {kind.expected.value!r}"
    )
    assert (dead.payload(), dead.key()) == (raw, key), (
        f"after {put} the dead letter holds payload {dead.payload()!r} and key {dead.key()!r}; "
        "expected the original bytes, exactly"
    )
    where = (dead.source_topic, dead.source_partition, dead.source_offset)
    expected_where = (topics.readings.get_topic_name(), 2, 1234)
    assert where == expected_where, (
        f"after {put} the dead letter points at (topic, partition, offset) {where}; "
        f"expected {expected_where}"
    )
    assert message.key == key, (
        f"after {put} the dead letter was sent with key {message.key!r}; "
        f"expected the original {key!r}"
    )
    headers = dict(message.headers or {})
    assert headers.get("error_code") == kind.expected.value.encode(), (
        f"after {put} the dead letter's headers are {headers!r}; "
        f"expected error_code={kind.expected.value.encode()!r}"
    )
    assert run.results == [dead], f"the agent yielded {run.results}; expected the dead letter"


async def test_order_per_sensor_is_preserved(faust_app: faust.App) -> None:
    readings = [
        sample(sequence, sensor_id=("sensor-a" if sequence % 3 else "sensor-b"))
        for sequence in range(1, 13)
    ]
    async with run_agent(enrich_readings) as run:
        for reading in readings:
            await run.put(to_bytes(reading), key=str(reading["sensor_id"]).encode())
    for sensor in ("sensor-a", "sensor-b"):
        got = [m.value.reading_id for m in run.sent_to(topics.enriched) if m.key == sensor]
        expected = [r["reading_id"] for r in readings if r["sensor_id"] == sensor]
        assert got == expected, f"{sensor}'s readings came out as {got}; expected {expected}"


async def test_the_agent_keeps_going_after_a_bad_event(faust_app: faust.App) -> None:
    good = to_bytes(sample())
    async with run_agent(enrich_readings) as run:
        await run.put(b"\x00garbage", key=b"k")
        await run.put(good, key=b"k")
    got = [m.topic for m in run.sent]
    expected = [topics.dead_letter.get_topic_name(), topics.enriched.get_topic_name()]
    assert got == expected, f"a bad then a good event were sent to {got}; expected {expected}"


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    # The fixture only prepares the app; nothing in it changes between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=st.none() | st.binary(max_size=120) | st.just(to_bytes(sample())))
async def test_any_bytes_give_exactly_one_message_on_one_topic(
    faust_app: faust.App, raw: bytes | None
) -> None:
    async with run_agent(enrich_readings) as run:
        await run.put(raw, key=b"k")
    message = only_message(run, f"put({raw!r})")
    allowed = {topics.enriched.get_topic_name(), topics.dead_letter.get_topic_name()}
    assert message.topic in allowed, f"put({raw!r}) sent to {message.topic!r}; expected {allowed}"
    # json.dumps of the value must work: the real worker serializes it as JSON.
    json.dumps(message.value.asdict())
