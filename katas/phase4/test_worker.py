"""Task 4.5 for real: phases 2 and 4 in a Faust worker, against a real broker, 4 partitions.

10 sensors x 10 windows of readings with explicit timestamps from yesterday go in as raw
readings; phase 2 enriches them, phase 4 aggregates them. Nine windows per sensor close because
later readings move the horizon; the tenth has no later reading and closes once the partition
has been quiet for the close delay (2 s here). Then one reading arrives for a closed window.
Read back read_committed: exactly 100 aggregates, each once, exact values; one late dead letter.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from app.config import ErrorCode
from app.models import DeadLetter, WindowAggregate
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import create_topics, read_records, running_worker

# The phases the worker loads. A stub left in any of their tasks fails this test at once,
# before a broker is asked for (the kata plugin reads this name).
KATA_PHASES = "2,4"
PARTITIONS = 4
SENSORS = [f"sensor-{n:03d}" for n in range(10)]
WINDOWS = 10
SIZE = 60.0
OFFSETS = (5.0, 25.0, 45.0)  # three readings per sensor and window, seconds into the window
CLOSE_DELAY = "2"  # seconds of silence before a partition's last windows close (default 30)
BASE = math.floor((time.time() - 86_400) / SIZE) * SIZE  # a window start, yesterday


def temperature(sensor: int, window: int, reading: int) -> float:
    return 15.0 + sensor + window * 0.5 + reading * 1.25


def readings() -> list[dict[str, object]]:
    """Every reading, in event-time order (sensors interleaved)."""
    produced = []
    for window in range(WINDOWS):
        for index, offset in enumerate(OFFSETS):
            for number, sensor in enumerate(SENSORS):
                produced.append(
                    {
                        "reading_id": f"{sensor}-{window}-{index}",
                        "sensor_id": sensor,
                        "temperature": temperature(number, window, index),
                        "humidity": 50.0,
                        "timestamp": BASE + window * SIZE + offset,
                    }
                )
    return produced


def expected_aggregates() -> dict[tuple[str, float], tuple[int, float, float, float]]:
    expected = {}
    for number, sensor in enumerate(SENSORS):
        for window in range(WINDOWS):
            temps = [temperature(number, window, index) for index in range(len(OFFSETS))]
            start = BASE + window * SIZE
            expected[(sensor, start)] = (len(temps), min(temps), max(temps), sum(temps) / 3)
    return expected


async def produce(servers: str, topic: str, records: list[dict[str, object]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
    await producer.start()
    try:
        for record in records:
            key = str(record["sensor_id"]).encode()
            await producer.send(topic, json.dumps(record).encode(), key=key)
        await producer.flush()
    finally:
        await producer.stop()


@pytest.mark.kafka
def test_a_real_worker_emits_every_window_once_and_counts_the_late_reading(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")  # broker only now
    servers = isolation.bootstrap_servers
    names = ("sensor-readings", "enriched-readings", "sensor-dead-letter", "window-aggregates")
    raw, enriched, dead_letter, aggregates = (isolation.topic(name) for name in names)
    ticks = isolation.topic("window-ticks")
    asyncio.run(create_topics(servers, [raw, enriched, dead_letter, aggregates, ticks], PARTITIONS))
    env = {
        **isolation.env(),
        "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
        "KATA_WINDOW_CLOSE_DELAY": CLOSE_DELAY,
        "KATA_WINDOW_TICK_INTERVAL": "0.5",
    }
    expected = expected_aggregates()

    with running_worker(env, tmp_path, phases=KATA_PHASES) as worker:
        asyncio.run(produce(servers, raw, readings()))
        records = asyncio.run(read_records(servers, [aggregates], len(expected), worker=worker))
        # Now a reading for sensor-000's first window, long closed: late.
        late = {**readings()[0], "reading_id": "late-1", "temperature": 99.0}
        asyncio.run(produce(servers, raw, [late]))
        dead = asyncio.run(read_records(servers, [dead_letter], 1, worker=worker))
        after = asyncio.run(read_records(servers, [aggregates], len(expected), worker=worker))
        worker.check_alive()
        log_tail = worker.log_tail()

    emitted = [WindowAggregate.loads(r.value or b"", serializer="json") for r in records]
    counts = Counter((a.sensor_id, a.window_start) for a in emitted)
    duplicates = {key: n for key, n in counts.items() if n > 1}
    missing = sorted(set(expected) - set(counts))
    print(
        f"\nwindows: expected {len(expected)}, emitted {len(emitted)}, distinct {len(counts)}, "
        f"duplicates {sum(duplicates.values()) - len(duplicates)}, missing {len(missing)}"
    )
    assert not duplicates and not missing and len(emitted) == len(expected), (
        f"the worker emitted {len(emitted)} aggregates for {len(expected)} windows: duplicated "
        f"{duplicates}, missing {missing}. Worker log:\n{log_tail}"
    )
    for aggregate in emitted:
        got = (
            aggregate.count,
            aggregate.min_temperature,
            aggregate.max_temperature,
            aggregate.avg_temperature,
        )
        want = expected[(aggregate.sensor_id, aggregate.window_start)]
        assert got[:3] == want[:3] and math.isclose(got[3], want[3], rel_tol=1e-12), (
            f"{aggregate.sensor_id}'s window at {aggregate.window_start} has (count, min, max, "
            f"avg) {got}; expected {want}"
        )
    for record in records:
        assert (
            record.key is not None
            and record.key.decode() == json.loads(record.value or b"")["sensor_id"]
        ), f"an aggregate was keyed {record.key!r}; expected its sensor id"

    late_letters = [DeadLetter.loads(r.value or b"", serializer="json") for r in dead]
    codes = [letter.error_code for letter in late_letters]
    print(f"late readings dead-lettered: {codes.count(ErrorCode.LATE_EVENT.value)}")
    assert codes == [ErrorCode.LATE_EVENT.value], (
        f"one reading for a closed window gave dead letters {codes}; expected one late_event"
    )
    assert len(after) == len(expected), (
        f"after the late reading window-aggregates holds {len(after)} records; expected still "
        f"{len(expected)}: a late reading must not re-open or re-emit its window"
    )
