"""The takeover of a partition that has records but no committed offset loses nothing.

Faust 0.15.3 alone can drop the first batch of such a partition for good (phase 3 README,
"Scale out"; app/transport/races.py, ``TakeoverSeek``): reproduced in 3 of 8 runs. The
reproduction, under at_least_once (the guarantee that promises no loss), against a real broker:
worker A starts, worker B joins and gets its share of the partitions, B is stopped (SIGSTOP:
it reads nothing, commits nothing), readings arrive, B is killed (SIGKILL). A takes B's
partitions over, which have records and no committed offset. Every reading must end as an
enriched reading or a dead letter.

``KATA_TAKEOVER_RUNS`` (default 1) repeats the scenario, each run with its own app and topics.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from app.catalogue import SensorFleet, to_bytes, valid_reading
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import Worker, create_topics, read_records, running_worker

pytestmark = pytest.mark.kafka

PARTITIONS = 4
READINGS = 400
MALFORMED = b'{"sensor_id": "sensor-001", "temperature": "hot"}'
WAIT_S = 90.0  # a guard against a hang, never a performance assertion
RUNS = int(os.environ.get("KATA_TAKEOVER_RUNS", "1"))
FAST_FAILOVER = {"BROKER_SESSION_TIMEOUT": "6", "BROKER_HEARTBEAT_INTERVAL": "1"}


def events(seed: int) -> list[tuple[bytes, bytes]]:
    """READINGS valid readings keyed by sensor, and a malformed one in twenty."""
    rng = random.Random(seed)
    fleet = SensorFleet.create(20, random.Random(seed))
    made: list[tuple[bytes, bytes]] = []
    for n in range(READINGS):
        reading = valid_reading(rng, fleet, n, 1_700_000_000.0 + n)
        made.append((str(reading["sensor_id"]).encode(), to_bytes(reading)))
        if n % 20 == 0:
            made.append((b"sensor-001", MALFORMED))
    return made


async def produce(servers: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=5)
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, value=value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


def hook_partitions(worker: Worker) -> list[int] | None:
    """The partitions named by the last start-up hook line (phase 3), None before any."""
    lines = re.findall(r"recovered \d+ sensors .*", worker.log.read_text(errors="replace"))
    if not lines:
        return None
    found = re.search(r"partitions \[([\d, ]*)\]", lines[-1])
    return [int(p) for p in found.group(1).split(",") if p.strip()] if found else []


def ready(worker: Worker) -> bool:
    return "[^Worker]: Ready" in worker.log.read_text(errors="replace")


def wait_for(what: str, check: object, worker: Worker) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():  # type: ignore[operator]
        worker.check_alive()
        assert time.monotonic() < deadline, f"waited {WAIT_S:g} s for {what}:\n{worker.log_tail()}"
        time.sleep(0.25)


def missing_outcomes(servers: str, topics: list[str], worker: Worker) -> int:
    """Inputs (of topics[0]) without an enriched reading or a dead letter."""
    source, enriched, dead = topics
    inputs = asyncio.run(read_records(servers, [source], READINGS + READINGS // 20))
    outputs = asyncio.run(read_records(servers, [enriched, dead], 0, worker=worker, settle_ms=2000))
    seen_ids = set()
    seen_sources = set()
    for record in outputs:
        value = json.loads(record.value or b"")
        if record.topic == enriched:
            seen_ids.add(value["reading_id"])
        else:
            seen_sources.add((value["source_partition"], value["source_offset"]))
    lost = 0
    for record in inputs:
        if record.value == MALFORMED:
            lost += (record.partition, record.offset) not in seen_sources
        else:
            lost += json.loads(record.value or b"")["reading_id"] not in seen_ids
    return lost


@pytest.mark.parametrize("run", range(RUNS))
def test_a_partition_taken_over_without_a_committed_offset_loses_nothing(
    run: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")
    servers = isolation.bootstrap_servers
    topics = [
        isolation.topic(n) for n in ("sensor-readings", "enriched-readings", "sensor-dead-letter")
    ]
    asyncio.run(create_topics(servers, topics, PARTITIONS))
    env = {
        **isolation.env(),
        **FAST_FAILOVER,
        "KATA_IMPL": "solutions",
        "KATA_PROCESSING_GUARANTEE": "at_least_once",
        "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_worker(env, tmp_path / "a", phases="2,3") as survivor:
        wait_for("worker A to be ready", lambda: ready(survivor), survivor)
        with running_worker(env, tmp_path / "b", phases="2,3") as victim:
            wait_for(
                "the two workers to share the partitions",
                lambda: (
                    ready(victim)
                    and bool(hook_partitions(victim))
                    and hook_partitions(survivor) not in (None, list(range(PARTITIONS)))
                ),
                victim,
            )
            taken = hook_partitions(victim)
            os.kill(victim.process.pid, signal.SIGSTOP)  # reads nothing, commits nothing
            asyncio.run(produce(servers, topics[0], events(seed=run)))
            os.killpg(victim.process.pid, signal.SIGKILL)
            victim.process.wait(timeout=10)
        wait_for(
            "worker A to take every partition over",
            lambda: hook_partitions(survivor) == list(range(PARTITIONS)),
            survivor,
        )
        deadline = time.monotonic() + WAIT_S
        lost = missing_outcomes(servers, topics, survivor)
        while lost and time.monotonic() < deadline:
            time.sleep(2)
            lost = missing_outcomes(servers, topics, survivor)
    print(f"\ntakeover run {run + 1}: B had partitions {taken}; readings without an outcome {lost}")
    assert lost == 0, (
        f"{lost} readings have neither an enriched reading nor a dead letter after worker A took "
        f"over B's partitions {taken} (no committed offset): the takeover dropped a fetched batch"
    )
