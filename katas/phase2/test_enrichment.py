"""Task 2.4: the enrich_readings agent sends every event to exactly one place.

These tests need no broker: kata_engine.testing runs the agent in Faust's test context and records
what it sends (see the docstring of kata_engine/testing.py).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import faust
import pytest
from aiokafka.errors import MessageSizeTooLargeError
from faust.types import AgentT
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.catalogue import MALFORMED_KINDS, MalformedKind, SensorFleet, to_bytes, valid_reading
from app.config import ErrorCode, Status, settings
from app.faust_app import topics
from app.models import DeadLetter, EnrichedReading, fingerprint
from kata_engine.testing import AgentRun, SentMessage, WorkerHalted, run_agent
from katas.phase2 import enrichment

FLEET = SensorFleet.create(5, random.Random(2))
FIELDS = ("reading_id", "sensor_id", "temperature", "humidity", "timestamp")
BROKER_MESSAGE_MAX_BYTES = 1_048_588  # the broker's default message.max.bytes: the largest input


@pytest.fixture
def enrichment_agent() -> AgentT[Any]:
    """The agent under test: task 2.4's (task 2.5's tests run these same tests on theirs)."""
    return enrichment.enrich_readings


@pytest.fixture
def enrichment_module() -> ModuleType:
    """The module whose ``classify`` a test replaces to play a bug."""
    return enrichment


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


def sized(pattern: bytes, size: int) -> bytes:
    """``pattern`` repeated to exactly ``size`` bytes (hypothesis cannot draw megabytes fast)."""
    return (pattern * (size // len(pattern) + 1))[:size]


def described(data: bytes | None) -> str:
    """Bytes in an assertion message: short ones in full, long ones by size and start."""
    if data is None or len(data) <= 80:
        return repr(data)
    return f"<{len(data):,} bytes starting {data[:40]!r}>"


def only_message(run: AgentRun, put: str) -> SentMessage:
    """The one message the agent sent for one event; fails with a sentence otherwise."""
    sent = [(m.topic, m.key) for m in run.sent]
    assert len(run.sent) == 1, (
        f"after {put} the agent sent {len(run.sent)} message(s) {sent}; expected exactly one"
    )
    return run.sent[0]


@pytest.mark.parametrize("temperature", [21.5, 30.0, 39.9, 40.0, 55.0])
async def test_a_valid_reading_becomes_one_enriched_reading(
    faust_app: faust.App, enrichment_agent: AgentT[Any], temperature: float
) -> None:
    reading = sample(temperature=temperature)
    raw = to_bytes(reading)
    async with run_agent(enrichment_agent) as run:
        before = time.time()
        await run.put(raw, key=str(reading["sensor_id"]).encode())
        after = time.time()
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
    assert before <= enriched.processed_at <= after, (
        f"after {put} processed_at is {enriched.processed_at}; expected the time the agent "
        f"processed it (between {before} and {after}), not the reading's timestamp "
        f"{reading['timestamp']}"
    )
    assert run.results == [enriched], (
        f"the agent yielded {run.results}; expected the one message it sent"
    )


@pytest.mark.parametrize("kind", MALFORMED_KINDS, ids=[kind.name for kind in MALFORMED_KINDS])
async def test_each_malformed_kind_lands_in_the_dead_letter_topic(
    faust_app: faust.App, enrichment_agent: AgentT[Any], kind: MalformedKind
) -> None:
    raw = kind.build(sample())
    key = b"sensor-042"
    async with run_agent(enrichment_agent) as run:
        await run.put(raw, key=key, partition=2, offset=1234)
    put = f"put({described(raw)}, key={key!r}, partition=2, offset=1234) ({kind.name})"
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
    expected_headers = {"error_code": kind.expected.value.encode(), "error_reason": dead.reason}
    got_headers = {
        "error_code": headers.get("error_code"),
        "error_reason": (headers.get("error_reason") or b"").decode("utf-8", "replace"),
    }
    assert got_headers == expected_headers, (
        f"after {put} the dead letter's headers are {headers!r}; expected error_code and "
        f"error_reason to repeat the dead letter's code and reason: {expected_headers!r}"
    )
    assert run.results == [dead], f"the agent yielded {run.results}; expected the dead letter"


@pytest.mark.parametrize("key", [b"sensor-042", None], ids=["keyed", "no-key"])
async def test_a_dead_letter_goes_to_its_events_own_partition(
    faust_app: faust.App, enrichment_agent: AgentT[Any], key: bytes | None
) -> None:
    # Exactly-once (phase 5) covers an outcome only in its source's partition; a record without
    # a key would be spread over random partitions by the producer.
    async with run_agent(enrichment_agent) as run:
        await run.put(b"not json", key=key, partition=3, offset=9)
    put = f"put(b'not json', key={key!r}, partition=3, offset=9)"
    message = only_message(run, put)
    assert message.partition == 3, (
        f"after {put} the dead letter was sent with partition={message.partition!r}; expected "
        "partition=3, the event's own (event.message.partition)"
    )


async def test_one_sensors_readings_go_to_one_partition(
    faust_app: faust.App, enrichment_agent: AgentT[Any]
) -> None:
    # Kafka keeps order only within a partition. One sensor's readings keep their order if all of
    # them are sent with the same key and no partition chosen per reading.
    readings = [
        sample(sequence, sensor_id=("sensor-a" if sequence % 3 else "sensor-b"))
        for sequence in range(1, 13)
    ]
    async with run_agent(enrichment_agent) as run:
        for reading in readings:
            await run.put(to_bytes(reading), key=b"from-the-producer")
    for sensor in ("sensor-a", "sensor-b"):
        routes = {
            (m.key, m.partition)
            for m in run.sent_to(topics.enriched)
            if m.value.sensor_id == sensor
        }
        assert routes == {(sensor, None)}, (
            f"{sensor}'s enriched readings were sent with (key, partition) "
            f"{sorted(map(str, routes))}; "
            f"expected all with key {sensor!r} and no partition of their own, so that Kafka "
            "keeps them in one partition, in order"
        )


async def test_the_agent_keeps_going_after_a_bad_event(
    faust_app: faust.App, enrichment_agent: AgentT[Any]
) -> None:
    good = to_bytes(sample())
    async with run_agent(enrichment_agent) as run:
        await run.put(b"\x00garbage", key=b"k")
        await run.put(good, key=b"k")
    got = [m.topic for m in run.sent]
    expected = [topics.dead_letter.get_topic_name(), topics.enriched.get_topic_name()]
    assert got == expected, f"a bad then a good event were sent to {got}; expected {expected}"


SIZES = (
    st.integers(0, 200)
    | st.sampled_from(
        [
            BROKER_MESSAGE_MAX_BYTES // 2,
            BROKER_MESSAGE_MAX_BYTES * 9 // 10,
            BROKER_MESSAGE_MAX_BYTES,
        ]
    )
    | st.integers(0, BROKER_MESSAGE_MAX_BYTES)
)


@dataclass(frozen=True)
class Large:
    """Bytes described, not spelled out: a failing example prints as Large(b'ab', 1048588)."""

    pattern: bytes
    size: int
    valid_reading: bool = False  # a valid reading padded with an extra field to ``size``

    def build(self) -> bytes:
        if self.valid_reading:
            return to_bytes({**sample(), "note": "x" * self.size})
        return sized(self.pattern, self.size)


def built(data: bytes | Large | None) -> bytes | None:
    return data.build() if isinstance(data, Large) else data


LARGE_BYTES = st.builds(Large, st.binary(min_size=1, max_size=16), SIZES)
VALID_PADDED = st.builds(Large, st.just(b""), st.integers(0, 1_000_000), st.just(True))


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    # The fixture only prepares the app; nothing in it changes between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw_spec=st.none()
    | st.binary(max_size=120)
    | st.just(to_bytes(sample()))
    | LARGE_BYTES
    | VALID_PADDED,
    key_spec=st.none() | st.binary(max_size=40) | LARGE_BYTES,
)
# Always tried, whatever the search finds: a broken value under a key at the broker's limit.
@example(raw_spec=b"not json", key_spec=Large(b"k", BROKER_MESSAGE_MAX_BYTES))
async def test_any_bytes_of_any_size_give_exactly_one_message_that_fits(
    faust_app: faust.App,
    enrichment_agent: AgentT[Any],
    raw_spec: bytes | Large | None,
    key_spec: bytes | Large | None,
) -> None:
    raw, key = built(raw_spec), built(key_spec)
    # The harness refuses, as the real producer does, a record over producer_max_request_size.
    put = f"put({described(raw)}, key={described(key)})"
    async with run_agent(enrichment_agent) as run:
        await run.put(raw, key=key)
    message = only_message(run, put)
    allowed = {topics.enriched.get_topic_name(), topics.dead_letter.get_topic_name()}
    assert message.topic in allowed, f"{put} sent to {message.topic!r}; expected {allowed}"
    # json.dumps of the value must work: the real worker serializes it as JSON.
    json.dumps(message.value.asdict())
    if isinstance(message.value, DeadLetter):
        dead = message.value
        assert dead.matches(raw, key), (
            f"after {put} the dead letter stores payload {described(dead.payload())} "
            f"(size {dead.payload_size}, sha256 {dead.payload_sha256}) and key "
            f"{described(dead.key())} (size {dead.key_size}, sha256 {dead.key_sha256}); expected "
            "the original bytes, or their first bytes with the full size and SHA-256"
        )


async def test_a_huge_value_is_dead_lettered_truncated_with_size_and_sha256(
    faust_app: faust.App,
    enrichment_agent: AgentT[Any],
) -> None:
    raw = sized(b"not json ", BROKER_MESSAGE_MAX_BYTES - 100)
    key = sized(b"k", 200_000)
    put = f"put({described(raw)}, key={described(key)})"
    async with run_agent(enrichment_agent) as run:
        await run.put(raw, key=key)
    message = only_message(run, put)
    dead = message.value
    assert isinstance(dead, DeadLetter), (
        f"after {put} the agent sent {dead!r}; expected a DeadLetter"
    )
    got = (dead.payload_truncated, dead.payload_size, dead.payload_sha256, dead.key_truncated)
    expected = (True, len(raw), fingerprint(raw), True)
    assert got == expected, (
        f"after {put} the dead letter says (payload_truncated, payload_size, payload_sha256, "
        f"key_truncated) = {got}; expected {expected}: too large to store whole, so truncated "
        "and identified by size and SHA-256"
    )
    assert message.key == dead.key(), (
        f"after {put} the dead letter was sent with key {described(message.key)}; expected the "
        f"key it stores, {described(dead.key())} (the whole key would not fit)"
    )


async def test_a_bug_on_one_event_becomes_a_processing_failed_dead_letter(
    faust_app: faust.App,
    enrichment_agent: AgentT[Any],
    enrichment_module: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_classify(temperature: float, *args: object) -> Status:
        raise ZeroDivisionError(f"classify({temperature}) is broken")

    monkeypatch.setattr(enrichment_module, "classify", broken_classify)
    raw = to_bytes(sample())
    put = f"put({raw!r}) with classify raising ZeroDivisionError"
    async with run_agent(enrichment_agent) as run:
        await run.put(raw, key=b"sensor-001", partition=1, offset=77)
    message = only_message(run, put)
    dead = message.value
    assert isinstance(dead, DeadLetter), (
        f"after {put} the agent sent {dead!r}; expected a DeadLetter (an exception must not "
        "lose the event: Faust would acknowledge it anyway)"
    )
    got = (dead.error_code, "ZeroDivisionError" in dead.reason, dead.payload(), dead.source_offset)
    expected = (ErrorCode.PROCESSING_FAILED.value, True, raw, 77)
    assert got == expected, (
        f"after {put} the dead letter has (error_code, reason names the exception, payload, "
        f"source_offset) = {got}; expected {expected} (reason was {dead.reason!r})"
    )


async def test_an_enriched_reading_the_broker_refuses_becomes_a_send_failed_dead_letter(
    faust_app: faust.App,
    enrichment_agent: AgentT[Any],
) -> None:
    raw = to_bytes(sample())
    refusal = MessageSizeTooLargeError("the broker refused the record")
    put = f"put({raw!r}) while the broker refuses every record on {topics.enriched!s}"
    async with run_agent(enrichment_agent, refused={topics.enriched: refusal}) as run:
        await run.put(raw, key=b"sensor-001")
    message = only_message(run, put)
    dead = message.value
    assert isinstance(dead, DeadLetter), (
        f"after {put} the agent sent {dead!r}; expected a DeadLetter: `await topic.send(...)` "
        "only queues the record; await the future it returns to learn that it was refused"
    )
    got = (dead.error_code, "MessageSizeTooLargeError" in dead.reason, dead.payload())
    expected = (ErrorCode.SEND_FAILED.value, True, raw)
    assert got == expected, (
        f"after {put} the dead letter has (error_code, reason names the exception, payload) = "
        f"{got}; expected {expected} (reason was {dead.reason!r})"
    )


@pytest.mark.parametrize("raw", [b"not json", to_bytes(sample())], ids=["malformed", "valid"])
async def test_an_event_with_no_possible_outcome_halts_the_worker_unacknowledged(
    faust_app: faust.App, enrichment_agent: AgentT[Any], raw: bytes
) -> None:
    refusals = {
        topics.enriched: MessageSizeTooLargeError("refused"),
        topics.dead_letter: MessageSizeTooLargeError("refused"),
    }
    put = f"put({raw!r}) while the broker refuses every record on both output topics"
    async with run_agent(enrichment_agent, refused=refusals) as run:
        try:
            await run.put(raw, key=b"sensor-001")
        except WorkerHalted:
            halted = True
        except NotImplementedError:
            raise  # still a stub: let the failure say which task to do
        except Exception as error:
            pytest.fail(
                f"after {put} the agent raised {type(error).__name__}: {error}; expected it to "
                "call app.halt.halt_worker: Faust acknowledges an event whose body raised, so "
                "raising loses it"
            )
        else:
            halted = False
    assert halted, (
        f"after {put} the agent returned normally and yielded {run.results}; expected it to call "
        "app.halt.halt_worker: Faust acknowledges an event when the body is done with it (even "
        "when it raised), so an event without any outcome must stop the worker unacknowledged"
    )
