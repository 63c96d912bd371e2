"""Task 2.4 for real: your agent in a Faust worker, against a real broker, fed by the producer.

The test starts ``faust -A app.main worker`` in a subprocess, runs the producer CLI with
malformed events included, and reads both output topics: every valid event's ``reading_id``
exactly once among the enriched readings, every malformed event's source (partition, offset)
exactly once among the dead letters, and the worker must survive the bad ones.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from app.catalogue import MALFORMED_BY_NAME, MALFORMED_KINDS
from app.models import DeadLetter, EnrichedReading
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import create_topics, read_records, running_worker

# The phases the worker loads. A stub left in any of their tasks fails this test at once,
# before a broker is asked for (the kata plugin reads this name).
KATA_PHASES = "2"
COUNT = 500
PARTITIONS = 4
KIND_HEADER = "x-kata-kind"  # the producer labels every record with its kind (tests only)
COMMIT_INTERVAL_S = 2.8  # Faust's default broker_commit_interval
QUIET_MS = int((COMMIT_INTERVAL_S + 2.0) * 1000)  # quiet for longer than a commit interval


@pytest.mark.kafka
def test_a_real_worker_routes_every_event_exactly_once(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")  # broker only now
    servers = isolation.bootstrap_servers
    readings, enriched, dead_letter = (
        isolation.topic(name)
        for name in ("sensor-readings", "enriched-readings", "sensor-dead-letter")
    )
    asyncio.run(create_topics(servers, [readings, enriched, dead_letter], PARTITIONS))
    env = {**isolation.env(), "KATA_TOPIC_PARTITIONS": str(PARTITIONS)}

    with running_worker(env, tmp_path, phases=KATA_PHASES) as worker:
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
        # A duplicate shows up after a redelivery: wait for quiet longer than a commit interval.
        outputs = asyncio.run(
            read_records(servers, [enriched, dead_letter], COUNT, worker=worker, settle_ms=QUIET_MS)
        )
        worker.check_alive()
        log_tail = worker.log_tail()

    kinds = {(r.partition, r.offset): r.headers[KIND_HEADER].decode() for r in source}
    missing = {kind.name for kind in MALFORMED_KINDS} - set(kinds.values())
    assert not missing, f"the seeded producer run should include every malformed kind: {missing}"
    assert all(r.value is not None for r in outputs), "the worker wrote a record with no value"

    # Identities, not totals: one lost event plus one duplicate must not add up to "fine".
    valid_ids = Counter(
        json.loads(r.value or b"")["reading_id"]
        for r in source
        if kinds[(r.partition, r.offset)] == "valid"
    )
    enriched_readings = [
        (record, EnrichedReading.loads(record.value or b"", serializer="json"))
        for record in outputs
        if record.topic == enriched
    ]
    enriched_ids = Counter(reading.reading_id for _, reading in enriched_readings)
    lost = sorted(valid_ids - enriched_ids)
    duplicated = sorted(rid for rid, n in enriched_ids.items() if n > 1)
    unknown = sorted(set(enriched_ids) - set(valid_ids))
    assert not (lost or duplicated or unknown), (
        f"of {sum(valid_ids.values())} valid events, these reading_ids never came out enriched: "
        f"{lost[:10]}; these came out more than once: {duplicated[:10]}; these were never sent: "
        f"{unknown[:10]}. Expected every valid reading_id exactly once. Worker log:\n{log_tail}"
    )

    malformed = {where: kind for where, kind in kinds.items() if kind != "valid"}
    dead_letters = [
        DeadLetter.loads(r.value or b"", serializer="json")
        for r in outputs
        if r.topic == dead_letter
    ]
    seen = Counter((d.source_partition, d.source_offset) for d in dead_letters)
    lost_bad = sorted(set(malformed) - set(seen))
    duplicated_bad = sorted(where for where, n in seen.items() if n > 1)
    unknown_bad = sorted(set(seen) - set(malformed))
    assert not (lost_bad or duplicated_bad or unknown_bad), (
        f"of {len(malformed)} malformed events, these source (partition, offset)s have no dead "
        f"letter: {lost_bad[:10]}; these have more than one: {duplicated_bad[:10]}; these are "
        f"not malformed events: {unknown_bad[:10]}. Expected each malformed event's source "
        f"offset exactly once in the dead letters. Worker log:\n{log_tail}"
    )
    got = {(d.source_partition, d.source_offset): d.error_code for d in dead_letters}
    expected = {where: MALFORMED_BY_NAME[kind].expected.value for where, kind in malformed.items()}
    wrong = {where: (got[where], code) for where, code in expected.items() if got[where] != code}
    assert not wrong, (
        f"dead letters with the wrong error_code, (partition, offset): (got, expected): {wrong}"
    )
    for record, reading in enriched_readings:
        assert record.key == reading.sensor_id.encode(), (
            f"the enriched reading {reading.reading_id!r} of {reading.sensor_id!r} was keyed "
            f"{record.key!r}; expected {reading.sensor_id.encode()!r}"
        )
