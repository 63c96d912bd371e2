"""Task 2.4 for real: your agent in a Faust worker, against a real broker, fed by the producer.

The test starts ``faust -A katas.main worker`` in a subprocess, runs the producer CLI with
malformed events included, and reads both output topics: every event must come out exactly once,
on exactly one of them, and the worker must survive the bad ones.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from katas.catalogue import MALFORMED_BY_NAME, SensorFleet, to_bytes, valid_reading
from katas.config import ErrorCode
from katas.engine.broker_common import free_port
from katas.engine.pytest_plugin import KafkaIsolation
from katas.models import DeadLetter, EnrichedReading

COUNT = 500
PARTITIONS = 4
KIND_HEADER = "x-kata-kind"  # the producer labels every record with its kind
WAIT_FOR_OUTPUT = 120.0  # seconds; a generous bound, not a timed assertion


class Record(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


async def prove_the_tasks_are_done() -> None:
    """Fail in milliseconds, with the stub's own message, before any broker or worker starts."""
    from katas.app import app
    from katas.models import MalformedReading
    from katas.phase2.classify import classify
    from katas.phase2.dead_letter import dead_letter_headers, to_dead_letter
    from katas.phase2.enrichment import enrich_readings
    from katas.phase2.validation import parse_reading
    from katas.testing import prepared_app, run_agent

    raw = to_bytes(valid_reading(random.Random(1), SensorFleet.create(1, random.Random(1)), 1, 0))
    reading = parse_reading(raw)
    classify(reading.temperature)
    error = MalformedReading(ErrorCode.NOT_JSON, "smoke test")
    dead_letter_headers(to_dead_letter(b"x", None, error, "t", 0, 0))
    async with prepared_app(app), run_agent(enrich_readings) as run:
        await run.put(raw, key=b"k")
        await run.put(b"not json", key=b"k")


async def create_topics(servers: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=PARTITIONS, replication_factor=1) for name in names]
        )
    finally:
        await admin.close()


async def read_topics(
    servers: str, names: list[str], expected: int, worker: subprocess.Popen[bytes], log: Path
) -> list[Record]:
    """Records of ``names`` from the beginning, until ``expected`` arrived (or the bound passed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    records: list[Record] = []
    try:
        partitions = [TopicPartition(name, p) for name in names for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + WAIT_FOR_OUTPUT
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode}:\n{tail(log)}")
            # Once everything is in, one more poll catches duplicates that would follow.
            wait_ms = 2000 if len(records) >= expected else 500
            batches = await consumer.getmany(timeout_ms=wait_ms)
            for batch in batches.values():
                for r in batch:
                    headers = {k: bytes(v) for k, v in r.headers}
                    records.append(
                        Record(r.topic, r.partition, r.offset, r.key, r.value or b"", headers)
                    )
            if len(records) >= expected and not batches:
                break
    finally:
        await consumer.stop()
    return records


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


@pytest.mark.kafka
def test_a_real_worker_routes_every_event_exactly_once(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    asyncio.run(prove_the_tasks_are_done())
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")  # broker only now
    servers = isolation.bootstrap_servers
    readings, enriched, dead_letter = (
        isolation.topic(name)
        for name in ("sensor-readings", "enriched-readings", "sensor-dead-letter")
    )
    asyncio.run(create_topics(servers, [readings, enriched, dead_letter]))

    env = {
        **isolation.env(),
        "KATA_PHASES": "2",
        "KATA_WEB_PORT": str(free_port()),
        "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
    }
    # KATA_IMPL (learner or solutions) is inherited through os.environ.
    log = tmp_path / "worker.log"
    with log.open("wb") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "katas.main", "worker", "-l", "info"],
            cwd=tmp_path,  # the worker writes its data directory here
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        produced = subprocess.run(
            [
                *(sys.executable, "-m", "katas.producer", "--include-bad"),
                *("--count", str(COUNT), "--seed", "7", "--interval", "0"),
                *("--topic", readings, "--bootstrap-servers", servers),
            ],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert produced.returncode == 0, f"the producer failed: {produced.stderr.decode()}"

        source = asyncio.run(read_topics(servers, [readings], COUNT, worker, log))
        outputs = asyncio.run(read_topics(servers, [enriched, dead_letter], COUNT, worker, log))
        assert worker.poll() is None, f"the worker died:\n{tail(log)}"
    finally:
        stop(worker)

    kinds = {(r.partition, r.offset): r.headers[KIND_HEADER].decode() for r in source}
    by_topic = Counter(r.topic for r in outputs)
    assert len(outputs) == COUNT, (
        f"the producer sent {COUNT} events and the worker wrote {len(outputs)} "
        f"({by_topic[enriched]} enriched + {by_topic[dead_letter]} dead letters); "
        f"expected exactly {COUNT}, one per event. Worker log:\n{tail(log)}"
    )

    dead_letters = [
        DeadLetter.loads(r.value, serializer="json") for r in outputs if r.topic == dead_letter
    ]
    malformed = {where: kind for where, kind in kinds.items() if kind != "valid"}
    got = {(d.source_partition, d.source_offset): d.error_code for d in dead_letters}
    expected = {where: MALFORMED_BY_NAME[kind].expected.value for where, kind in malformed.items()}
    assert got == expected, (
        f"dead letters by source (partition, offset) -> code: {got}; expected {expected}"
    )
    assert {d.error_code for d in dead_letters} == {code.value for code in ErrorCode}, (
        "expected every error code among the dead letters of this seeded run"
    )
    for record in outputs:
        if record.topic == enriched:
            reading = EnrichedReading.loads(record.value, serializer="json")
            assert record.key == reading.sensor_id.encode(), (
                f"an enriched reading of {reading.sensor_id!r} was keyed {record.key!r}"
            )
    print(  # a figure for the curious, not an assertion
        f"\n{COUNT} events: {by_topic[enriched]} enriched, {by_topic[dead_letter]} dead letters, "
        f"{len(set(malformed.values()))} malformed kinds (pid {os.getpid()})"
    )
