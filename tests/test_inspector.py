"""The inspector CLI: the latest N records, escaped output, transactions, and its failures."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from hypothesis import given
from hypothesis import strategies as st

from app.inspector import Record, escape_text, format_record, render_bytes
from kata_engine.broker.common import free_port
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import create_topics

CLI_TIMEOUT = 60  # a bound on a hung CLI, not a performance assertion
HOSTILE_TEXTS = ["[bold]x[/]", "\x1b]0;title\x07", "\r", "\x1b[2J", "a\u202eb", "\x9b31m"]
UNSAFE_BYTES = (b"\x1b", b"\x07", b"\r", "\u202e".encode(), "\x9b".encode())


def run_inspector(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    # Bytes, not text: the tests must see exactly what would reach a terminal.
    return subprocess.run(
        [sys.executable, "-m", "app.inspector", *args],
        capture_output=True,
        env=env,
        timeout=CLI_TIMEOUT,
    )


async def topic_names(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def send(
    bootstrap: str,
    topic: str,
    values: list[bytes | None],
    *,
    keys: list[bytes] | None = None,
    headers: list[tuple[str, bytes]] | None = None,
    timestamps_ms: list[int] | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n, value in enumerate(values):
            await producer.send_and_wait(
                topic,
                value,
                key=keys[n] if keys else None,
                headers=headers,
                timestamp_ms=timestamps_ms[n] if timestamps_ms else None,
            )
    finally:
        await producer.stop()


def shown_values(stdout: bytes) -> list[str]:
    return re.findall(r"^    value    (.*)$", stdout.decode(), flags=re.MULTILINE)


# --- against a real broker ------------------------------------------------------------------


async def test_shows_the_newest_n_of_m_records_oldest_first(
    kafka_isolation: KafkaIsolation,
) -> None:
    bootstrap, topic = kafka_isolation.bootstrap_servers, kafka_isolation.topic("readings")
    await create_topics(bootstrap, [topic], partitions=3)
    start_ms = int(time.time() * 1000) - 60_000
    values = [json.dumps({"n": n}).encode() for n in range(25)]
    keys = [f"sensor-{n % 5}".encode() for n in range(25)]
    stamps = [start_ms + n * 1000 for n in range(25)]  # spread over partitions by key
    await send(bootstrap, topic, list(values), keys=keys, timestamps_ms=stamps)

    result = await asyncio.to_thread(
        run_inspector, topic, "--limit", "7", env=kafka_isolation.env()
    )

    assert result.returncode == 0, result.stderr
    assert shown_values(result.stdout) == [f'json {{"n": {n}}}' for n in range(18, 25)]
    assert result.stdout.decode().startswith(f"latest 7 messages of {topic} (3 partitions")


async def test_limit_larger_than_the_topic_shows_everything(
    kafka_isolation: KafkaIsolation,
) -> None:
    bootstrap, topic = kafka_isolation.bootstrap_servers, kafka_isolation.topic("few")
    await create_topics(bootstrap, [topic], partitions=1)
    await send(bootstrap, topic, [b"1", b"2", b"3"])

    result = await asyncio.to_thread(run_inspector, topic, env=kafka_isolation.env())

    assert shown_values(result.stdout) == ["json 1", "json 2", "json 3"]


async def test_an_empty_topic_says_so(kafka_isolation: KafkaIsolation) -> None:
    bootstrap, topic = kafka_isolation.bootstrap_servers, kafka_isolation.topic("empty")
    await create_topics(bootstrap, [topic], partitions=2)

    result = await asyncio.to_thread(run_inspector, topic, env=kafka_isolation.env())

    assert result.returncode == 0
    assert result.stdout == f"no messages in {topic}\n".encode()


async def test_a_missing_topic_is_one_line_and_is_not_created(
    kafka_isolation: KafkaIsolation,
) -> None:
    topic = kafka_isolation.topic("missing")

    result = await asyncio.to_thread(run_inspector, topic, env=kafka_isolation.env())

    assert result.returncode == 1
    assert result.stderr.decode().startswith(
        f"error: topic '{topic}' does not exist (known topics:"
    )
    assert result.stderr.count(b"\n") == 1
    assert topic not in await topic_names(kafka_isolation.bootstrap_servers)


async def test_binary_garbage_is_shown_escaped(kafka_isolation: KafkaIsolation) -> None:
    bootstrap, topic = kafka_isolation.bootstrap_servers, kafka_isolation.topic("garbage")
    await create_topics(bootstrap, [topic], partitions=1)
    await send(bootstrap, topic, [b"\xff\x00\x1b[31m"], keys=[b"\xfe\x1b"])

    result = await asyncio.to_thread(run_inspector, topic, env=kafka_isolation.env())

    assert result.returncode == 0
    assert shown_values(result.stdout) == [r"binary b'\xff\x00\x1b[31m'"]
    assert rb"b'\xfe\x1b'" in result.stdout  # the key
    assert b"\x1b" not in result.stdout
    assert b"\x00" not in result.stdout


async def test_escape_sequences_and_markup_are_shown_not_interpreted(
    kafka_isolation: KafkaIsolation,
) -> None:
    bootstrap, topic = kafka_isolation.bootstrap_servers, kafka_isolation.topic("hostile")
    await create_topics(bootstrap, [topic], partitions=1)
    as_text = [text.encode() for text in HOSTILE_TEXTS]
    as_json = [json.dumps({"sensor_id": text}).encode() for text in HOSTILE_TEXTS]
    await send(
        bootstrap,
        topic,
        [*as_text, *as_json],
        keys=[b"\x1b[2J"] * (len(as_text) + len(as_json)),
        headers=[("\x1b]0;pwned\x07", b"\x1b[31m")],
    )

    result = await asyncio.to_thread(
        run_inspector, topic, "--limit", "50", env=kafka_isolation.env()
    )

    assert result.returncode == 0, result.stderr
    for unsafe in UNSAFE_BYTES:
        assert unsafe not in result.stdout
    values = shown_values(result.stdout)
    assert values[0] == "text '[bold]x[/]'"
    assert values[1] == r"text '\x1b]0;title\x07'"
    assert r'json {"sensor_id": "\u001b[2J"}' in values
    assert r"'\x1b]0;pwned\x07'='\x1b[31m'" in result.stdout.decode()  # a header


async def test_read_committed_hides_an_aborted_transaction(kafka_isolation: KafkaIsolation) -> None:
    bootstrap, topic = kafka_isolation.bootstrap_servers, kafka_isolation.topic("txn")
    await create_topics(bootstrap, [topic], partitions=1)
    await send(bootstrap, topic, [b'"committed-1"'])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, transactional_id=f"{kafka_isolation.app_id}-txn"
    )
    await producer.start()
    try:
        await producer.begin_transaction()
        await producer.send_and_wait(topic, b'"aborted-1"')
        await producer.send_and_wait(topic, b'"aborted-2"')
        await producer.abort_transaction()
    finally:
        await producer.stop()
    await send(bootstrap, topic, [b'"committed-2"'])

    committed = await asyncio.to_thread(run_inspector, topic, env=kafka_isolation.env())
    everything = await asyncio.to_thread(
        run_inspector, topic, "--read-uncommitted", env=kafka_isolation.env()
    )
    newest_committed = await asyncio.to_thread(
        run_inspector, topic, "--limit", "2", env=kafka_isolation.env()
    )

    assert shown_values(committed.stdout) == ['json "committed-1"', 'json "committed-2"']
    assert shown_values(everything.stdout) == [
        'json "committed-1"',
        'json "aborted-1"',
        'json "aborted-2"',
        'json "committed-2"',
    ]
    # The aborted records and the abort marker take offsets: the window must reach past them.
    assert shown_values(newest_committed.stdout) == ['json "committed-1"', 'json "committed-2"']


# --- failures that need no broker -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["some-topic", "--limit", "0"],
        ["some-topic", "--limit", "-3"],
        ["some-topic", "--limit", "many"],
        [],
        [""],
        ["some-topic", "--bootstrap-servers", "127.0.0.1"],
        ["some-topic", "--no-such-option"],
    ],
)
def test_bad_arguments_exit_2_with_usage_and_one_error_line(args: list[str]) -> None:
    result = run_inspector(*args)

    assert result.returncode == 2
    assert b"Traceback" not in result.stderr
    usage, error = result.stderr.decode().strip().splitlines()
    assert usage.startswith("usage: python -m app.inspector")
    assert error.startswith("python -m app.inspector: error: ")


@pytest.mark.parametrize("via", ["option", "environment"])
def test_an_unreachable_broker_is_one_line_and_exit_1(via: str) -> None:
    address = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": address}
    args = ["--bootstrap-servers", address] if via == "option" else []

    result = run_inspector("some-topic", *args, env=env)

    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"error: cannot reach Kafka at {address} within 10 s; start a broker: see README\n"
    )
    assert result.stdout == b""


def test_a_broker_that_accepts_but_never_answers_is_given_up_on() -> None:
    # A listener that never speaks Kafka: connecting works, every request would hang forever.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}"

        result = run_inspector("some-topic", "--bootstrap-servers", address)

    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"error: cannot reach Kafka at {address} within 10 s; start a broker: see README\n"
    )


# --- rendering ------------------------------------------------------------------------------


@given(st.binary())
def test_any_bytes_render_as_printable_text(data: bytes) -> None:
    assert render_bytes(data).isprintable()


@given(st.text())
def test_any_text_renders_as_printable_text(text: str) -> None:
    assert escape_text(text).isprintable()
    assert render_bytes(text.encode("utf-8", "surrogatepass")).isprintable()


def test_json_values_keep_their_meaning() -> None:
    document = {"sensor_id": "s-\x1b[1m", "temperature": 21.5, "note": "°C \u202e"}

    shown = render_bytes(json.dumps(document).encode())

    assert shown.startswith("json ")
    assert json.loads(shown.removeprefix("json ")) == document


def test_a_deeply_nested_payload_is_shown_as_text() -> None:
    assert render_bytes(b"[" * 100_000).startswith("text '[[[")


def test_a_dead_letter_shows_its_original_payload_decoded() -> None:
    original = b"\xff\x1b[31mboom"
    encoded = base64.b64encode(original).decode()
    value = json.dumps({"error_code": "invalid_utf8", "payload_base64": encoded})
    record = Record(0, 5, 1_735_689_600_000, b"sensor-001", value.encode(), ())

    lines = format_record(record)

    assert lines[0].split() == ["0", "5", "2025-01-01T00:00:00.000Z", "sensor-001", "-"]
    assert lines[2] == r"    payload  binary b'\xff\x1b[31mboom'  (payload_base64 decoded)"
