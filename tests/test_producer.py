"""The producer CLI: what it sends, that seeds reproduce it, and how it fails."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from app.catalogue import MALFORMED_KINDS
from app.config import Settings, Status
from app.producer import (
    KIND_HEADER,
    SEEDED_START_TIME,
    VALID,
    Event,
    Tally,
    generate_events,
    start_time_arg,
)
from kata_engine.broker.common import free_port
from kata_engine.pytest_plugin import KafkaIsolation

CLI_TIMEOUT = 120  # a bound on a hung CLI, not a performance assertion


def run_producer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.producer", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=CLI_TIMEOUT,
    )


async def read_topic(bootstrap: str, topic: str) -> dict[int, list[Any]]:
    """Every record of ``topic``, per partition, in offset order."""
    partitions = [TopicPartition(topic, p) for p in range(await partition_count(bootstrap, topic))]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    consumer.assign(partitions)
    try:
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: dict[int, list[Any]] = defaultdict(list)
        for tp in partitions:
            while await consumer.position(tp) < end[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                records[tp.partition].extend(batch.get(tp, []))
        return dict(records)
    finally:
        await consumer.stop()


async def partition_count(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return len(described["partitions"])
    finally:
        await admin.close()


def per_key(events: list[tuple[bytes, bytes | None]]) -> dict[bytes, list[bytes | None]]:
    grouped: dict[bytes, list[bytes | None]] = defaultdict(list)
    for key, value in events:
        grouped[key].append(value)
    return dict(grouped)


def seeded_events(count: int, seed: int, include_bad: bool = True) -> list[Event]:
    # What `--count count --interval 0 --seed seed [--include-bad]` sends: 5 sensors, 1 s apart.
    return list(
        generate_events(
            count,
            seed=seed,
            sensors=5,
            include_bad=include_bad,
            start_time=SEEDED_START_TIME,
            step=1.0,
        )
    )


# --- against a real broker ------------------------------------------------------------------


async def test_what_a_consumer_reads_back_matches_the_summary(
    kafka_isolation: KafkaIsolation,
) -> None:
    topic = kafka_isolation.topic("sensor-readings")
    env = {**kafka_isolation.env(), "KATA_TOPIC_PARTITIONS": "3"}
    args = ["--count", "500", "--interval", "0", "--include-bad", "--seed", "7", "--topic", topic]

    result = await asyncio.to_thread(run_producer, *args, env=env)

    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr, (
        f"the producer wrote escape codes into a pipe: {result.stderr!r}"
    )
    records = await read_topic(kafka_isolation.bootstrap_servers, topic)
    received = [r for partition in records.values() for r in partition]
    kinds = Counter(dict(r.headers)[KIND_HEADER].decode() for r in received)
    expected = seeded_events(500, seed=7)
    assert kinds == Counter(event.kind for event in expected)
    assert len(set(kinds) - {VALID}) >= 10, "a 500-event run should show many malformed kinds"
    assert result.stdout == Tally(topic, kinds).summary() + "\n"
    assert result.stdout.startswith(f"sent 500 events to {topic} ({kinds[VALID]} valid, ")
    # Same bytes, and each sensor's events in the order they were generated.
    assert per_key([(r.key, r.value) for r in received]) == per_key(
        [(e.key, e.value) for e in expected]
    )
    assert await partition_count(kafka_isolation.bootstrap_servers, topic) == 3


async def test_the_same_seed_sends_byte_identical_records(kafka_isolation: KafkaIsolation) -> None:
    def produce(name: str, seed: str) -> dict[int, list[tuple[bytes, bytes | None]]]:
        topic = kafka_isolation.topic(name)
        args = ["--count", "200", "--interval", "0", "--include-bad", "--seed", seed]
        result = run_producer(*args, "--topic", topic, env=kafka_isolation.env())
        assert result.returncode == 0, result.stderr
        records = asyncio.run(read_topic(kafka_isolation.bootstrap_servers, topic))
        return {p: [(r.key, r.value) for r in rs] for p, rs in records.items()}

    first = await asyncio.to_thread(produce, "first", "11")
    second = await asyncio.to_thread(produce, "second", "11")
    other = await asyncio.to_thread(produce, "other", "12")

    assert first == second
    assert first != other


async def test_ctrl_c_exits_130_without_a_traceback(kafka_isolation: KafkaIsolation) -> None:
    topic = kafka_isolation.topic("sensor-readings")
    endless = ["--count", "100000", "--interval", "0.05", "--topic", topic]
    process = subprocess.Popen(
        [sys.executable, "-m", "app.producer", *endless],
        env=kafka_isolation.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As a shell starts a background job (and CI its steps, sometimes): SIGINT ignored.
        # The producer must stop on it all the same (it hung here for 120 s before).
        preexec_fn=ignore_sigint,
    )
    try:
        await wait_for_records(kafka_isolation.bootstrap_servers, topic)
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=CLI_TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == ["error: interrupted"]


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


async def wait_for_records(bootstrap: str, topic: str) -> None:
    """Return once ``topic`` holds a record, so an interrupt lands mid-run."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(300):
            if topic in await admin.list_topics() and await read_topic(bootstrap, topic):
                return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    pytest.fail(f"the producer never wrote to {topic}")


# --- failures that need no broker -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--count", "-1"],
        ["--count", "abc"],
        ["--count", "0"],
        ["--interval", "-1"],
        ["--interval", "nan"],
        ["--sensors", "0"],
        ["--seed", "x"],
        ["--start-time", "yesterday"],
        ["--bootstrap-servers", "no-port"],
        ["--topic", ""],
        ["--no-such-option"],
    ],
)
def test_bad_arguments_exit_2_with_usage_and_one_error_line(args: list[str]) -> None:
    result = run_producer(*args)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    usage, error = result.stderr.strip().splitlines()
    assert usage.startswith("usage: python -m app.producer")
    assert error.startswith("python -m app.producer: error: ")
    assert result.stdout == ""


def test_a_bad_environment_variable_is_one_line_naming_it() -> None:
    result = run_producer("--count", "1", env={**os.environ, "KATA_TOPIC_PARTITIONS": "many"})

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "KATA_TOPIC_PARTITIONS" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("via", ["option", "environment"])
def test_an_unreachable_broker_is_one_line_and_exit_1(via: str) -> None:
    address = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": address}
    args = ["--bootstrap-servers", address] if via == "option" else []

    result = run_producer("--count", "3", *args, env=env)

    assert result.returncode == 1
    assert result.stderr == (
        f"error: cannot reach Kafka at {address} within 10 s; start a broker: see README\n"
    )
    assert result.stdout == ""


# --- the events themselves ------------------------------------------------------------------


def test_valid_readings_cover_normal_warning_and_critical() -> None:
    settings = Settings.from_env({})
    statuses: Counter[Status] = Counter()
    for event in seeded_events(500, seed=3, include_bad=False):
        assert event.value is not None
        temperature = json.loads(event.value)["temperature"]
        if temperature >= settings.critical_temperature:
            statuses[Status.CRITICAL] += 1
        elif temperature >= settings.warning_temperature:
            statuses[Status.WARNING] += 1
        else:
            statuses[Status.NORMAL] += 1

    assert set(statuses) == set(Status)
    assert statuses[Status.NORMAL] > statuses[Status.CRITICAL]


def test_without_include_bad_every_event_is_valid_and_keyed_by_its_sensor() -> None:
    events = seeded_events(300, seed=5, include_bad=False)

    assert {event.kind for event in events} == {VALID}
    for event in events:
        assert event.value is not None
        assert json.loads(event.value)["sensor_id"].encode() == event.key


def test_malformed_events_keep_the_key_of_the_sensor_they_came_from() -> None:
    events = seeded_events(2000, seed=9)
    malformed = [event for event in events if event.kind != VALID]

    assert {event.kind for event in malformed} == {kind.name for kind in MALFORMED_KINDS}
    assert all(event.key.startswith(b"sensor-") for event in malformed)
    # About 10%: wide bounds, since this checks the knob, not the random generator.
    assert 100 < len(malformed) < 300


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_every_malformed_kind_occurs_once_before_any_repeats(seed: int) -> None:
    kinds = [event.kind for event in seeded_events(2000, seed=seed) if event.kind != VALID]
    size = len(MALFORMED_KINDS)

    for start in range(0, len(kinds) - size + 1, size):
        dealt = kinds[start : start + size]
        assert sorted(dealt) == sorted(kind.name for kind in MALFORMED_KINDS), (
            f"malformed events {start}..{start + size - 1} of seed {seed} were {dealt}; "
            f"expected each of the {size} kinds once"
        )


def test_event_times_come_from_the_start_time_and_the_interval() -> None:
    events = generate_events(4, seed=1, sensors=2, include_bad=False, start_time=1_000.0, step=2.5)

    times = [json.loads(event.value or b"")["timestamp"] for event in events]

    assert times == [1_000.0, 1_002.5, 1_005.0, 1_007.5]


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("1735689600", 1_735_689_600.0),
        ("2025-01-01T00:00:00Z", 1_735_689_600.0),
        ("2025-01-01T00:00:00", 1_735_689_600.0),
        ("2025-01-01T01:00:00+01:00", 1_735_689_600.0),
    ],
)
def test_start_time_accepts_epoch_seconds_and_iso_8601(text: str, epoch: float) -> None:
    assert start_time_arg(text) == epoch


def test_the_summary_lists_malformed_kinds_most_frequent_first() -> None:
    tally = Tally("readings", Counter({VALID: 7, "not_json": 1, "null_value": 2, "json_null": 1}))

    assert tally.summary() == (
        "sent 11 events to readings (7 valid, 4 malformed: null_value 2, json_null 1, not_json 1)"
    )
    assert Tally("r", Counter({VALID: 3})).summary() == "sent 3 events to r (3 valid, 0 malformed)"
