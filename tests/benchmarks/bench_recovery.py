"""Table recovery from the changelog: ``uv run python -m tests.benchmarks.bench_recovery``.

Writes one count per sensor (10,000 sensors by default) straight into a fresh app's
``<app id>-sensor-counts-changelog`` (compacted, 4 partitions, as Faust would create it), starts
a phase 3 worker (reference solutions) in an empty directory, and reads two figures from its log:
the recovery itself (Faust's "Restoring state from changelog topics" to "Recovery complete")
and start to ready (process start to the start-up hook's "recovered N sensors" line). Prints
each run and the median of the runs. It asserts nothing on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from kata_engine.broker import provide_broker
from kata_engine.worker import running_worker

PARTITIONS = 4
STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


async def seed_changelog(servers: str, topic: str, sensors: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    topic,
                    num_partitions=PARTITIONS,
                    replication_factor=1,
                    topic_configs={"cleanup.policy": "compact"},
                )
            ]
        )
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=20)
    await producer.start()
    try:
        for n in range(sensors):
            key = json.dumps(f"sensor-{n:05d}").encode()
            await producer.send(topic, key=key, value=b"%d" % (n % 500 + 1), partition=n % 4)
        await producer.flush()
    finally:
        await producer.stop()


def stamp(line: str) -> float:
    match = STAMP.match(line)
    if match is None:
        raise ValueError(f"no timestamp in {line!r}")
    return datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def one_run(servers: str, sensors: int) -> tuple[float, float]:
    """(recovery seconds, start-to-ready seconds) for one fresh worker."""
    token = uuid.uuid4().hex[:8]
    app_id = f"bench-recovery-{token}"
    asyncio.run(seed_changelog(servers, f"{app_id}-sensor-counts-changelog", sensors))
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "KATA_APP_ID": app_id,
        "KATA_TOPIC_PREFIX": f"bench-{token}-",
        "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
        "KATA_IMPL": "solutions",
    }
    wanted = f"recovered {sensors} sensors"
    with tempfile.TemporaryDirectory() as workdir:
        started = time.time()
        with running_worker(env, Path(workdir), phases="3") as worker:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                worker.check_alive()
                lines = worker.log.read_text(errors="replace").splitlines()
                ready = [line for line in lines if wanted in line]
                if ready:
                    break
                time.sleep(0.2)
            else:
                raise SystemExit(f"bench_recovery: no '{wanted}' line in the worker log")
    begin = [line for line in lines if "Restoring state from changelog topics" in line]
    done = [line for line in lines if "Recovery complete" in line]
    return stamp(done[-1]) - stamp(begin[0]), stamp(ready[0]) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with provide_broker() as broker:
        results = []
        for run in range(1, args.runs + 1):
            recovery, ready = one_run(broker.bootstrap_servers, args.sensors)
            results.append((recovery, ready))
            print(f"run {run}: recovery {recovery:.2f} s, start to ready {ready:.2f} s")
    print(
        f"median of {args.runs} for {args.sensors} sensors: "
        f"recovery {statistics.median(r for r, _ in results):.2f} s, "
        f"start to ready {statistics.median(t for _, t in results):.2f} s"
    )


if __name__ == "__main__":
    main()
