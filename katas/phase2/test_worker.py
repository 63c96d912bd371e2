"""Task 2.4 for real: your agent in a Faust worker, against a real broker, fed by the producer.

The test starts ``faust -A app.main worker`` in a subprocess, runs the producer CLI with
malformed events included, and reads both output topics: every event must come out exactly once,
on exactly one of them, and the worker must survive the bad ones.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from app.catalogue import MALFORMED_BY_NAME, MALFORMED_KINDS, SensorFleet, to_bytes, valid_reading
from app.config import ErrorCode
from app.models import DeadLetter, EnrichedReading
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import create_topics, read_records, running_worker

COUNT = 500
PARTITIONS = 4
KIND_HEADER = "x-kata-kind"  # the producer labels every record with its kind (tests only)


async def prove_the_tasks_are_done() -> None:
    """Fail in milliseconds, with the stub's own message, before any broker or worker starts."""
    from app.faust_app import app
    from app.models import MalformedReading
    from kata_engine.testing import prepared_app, run_agent
    from katas.phase2.classify import classify
    from katas.phase2.dead_letter import dead_letter_headers, to_dead_letter
    from katas.phase2.enrichment import enrich_readings
    from katas.phase2.validation import parse_reading

    raw = to_bytes(valid_reading(random.Random(1), SensorFleet.create(1, random.Random(1)), 1, 0))
    reading = parse_reading(raw)
    classify(reading.temperature)
    error = MalformedReading(ErrorCode.NOT_JSON, "smoke test")
    dead_letter_headers(to_dead_letter(b"x", None, error, "t", 0, 0))
    async with prepared_app(app), run_agent(enrich_readings) as run:
        await run.put(raw, key=b"k")
        await run.put(b"not json", key=b"k")


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
    asyncio.run(create_topics(servers, [readings, enriched, dead_letter], PARTITIONS))
    env = {**isolation.env(), "KATA_TOPIC_PARTITIONS": str(PARTITIONS)}

    with running_worker(env, tmp_path, phases="2") as worker:
        produced = subprocess.run(
            [
                *(sys.executable, "-m", "app.producer", "--include-bad"),
                *("--count", str(COUNT), "--seed", "7", "--interval", "0"),
                *("--topic", readings, "--bootstrap-servers", servers),
            ],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert produced.returncode == 0, f"the producer failed: {produced.stderr.decode()}"
        source = asyncio.run(read_records(servers, [readings], COUNT))
        outputs = asyncio.run(read_records(servers, [enriched, dead_letter], COUNT, worker=worker))
        worker.check_alive()
        log_tail = worker.log_tail()

    by_topic = Counter(r.topic for r in outputs)
    assert len(outputs) == COUNT, (
        f"the producer sent {COUNT} events and the worker wrote {len(outputs)} "
        f"({by_topic[enriched]} enriched + {by_topic[dead_letter]} dead letters); "
        f"expected exactly {COUNT}, one per event. Worker log:\n{log_tail}"
    )

    kinds = {(r.partition, r.offset): r.headers[KIND_HEADER].decode() for r in source}
    malformed = {where: kind for where, kind in kinds.items() if kind != "valid"}
    assert all(r.value is not None for r in outputs), "the worker wrote a record with no value"
    dead_letters = [
        DeadLetter.loads(r.value or b"", serializer="json")
        for r in outputs
        if r.topic == dead_letter
    ]
    got = {(d.source_partition, d.source_offset): d.error_code for d in dead_letters}
    expected = {where: MALFORMED_BY_NAME[kind].expected.value for where, kind in malformed.items()}
    assert got == expected, (
        f"dead letters by source (partition, offset) -> code: {got}; expected {expected}"
    )
    missing = {kind.name for kind in MALFORMED_KINDS} - set(malformed.values())
    assert not missing, f"the seeded producer run should include every malformed kind: {missing}"
    for record in outputs:
        if record.topic == enriched:
            reading = EnrichedReading.loads(record.value or b"", serializer="json")
            assert record.key == reading.sensor_id.encode(), (
                f"an enriched reading of {reading.sensor_id!r} was keyed {record.key!r}"
            )
