"""End-to-end latency of the whole pipeline (phases 2-5) under each processing guarantee.

    uv run python -m tests.benchmarks.bench_guarantee_latency [--readings 600] [--rate 50]

For each guarantee: a fresh worker (reference solutions), then live readings at ``--rate`` per
second. Latency of a reading = when its enriched reading became readable to a read_committed
consumer, minus the raw record's timestamp (set by the producer when it sent it). Prints p50,
p90, p99 and max. Figures, never assertions: the phase 5 README quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from kata_engine.worker import create_topics, read_records, running_worker

PARTITIONS = 4
TOPICS = ("enriched-readings", "sensor-dead-letter", "window-aggregates", "window-ticks")


async def receive(servers: str, topic: str, count: int, arrivals: dict[str, float]) -> None:
    """Record the wall time each reading_id becomes readable (read_committed) on ``topic``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, isolation_level="read_committed")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + 300
        while len(arrivals) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for batch in batches.values():
                for record in batch:
                    arrivals.setdefault(json.loads(record.value or b"")["reading_id"], now)
    finally:
        await consumer.stop()


def measure(guarantee: str, readings: int, rate: float, servers: str) -> list[float]:
    token = uuid.uuid4().hex[:8]
    prefix = f"bench-{token}-"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "KATA_APP_ID": f"bench-{token}",
        "KATA_TOPIC_PREFIX": prefix,
        "KATA_IMPL": "solutions",
        "KATA_PROCESSING_GUARANTEE": guarantee,
    }
    asyncio.run(create_topics(servers, [prefix + name for name in TOPICS], PARTITIONS))
    with tempfile.TemporaryDirectory() as workdir:
        with running_worker(env, Path(workdir), phases="2,3,4,5") as worker:
            while "[^Worker]: Ready" not in worker.log.read_text(errors="replace"):
                worker.check_alive()
                time.sleep(0.2)
            time.sleep(3)  # the first transactions are open
            arrivals: dict[str, float] = {}

            async def run() -> None:
                producer = asyncio.create_subprocess_exec(
                    sys.executable,
                    *("-m", "app.producer", "--count", str(readings)),
                    *("--interval", str(1 / rate), "--seed", "11"),
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
                process = await producer
                await receive(servers, prefix + "enriched-readings", readings, arrivals)
                await process.wait()

            asyncio.run(run())
        raw = asyncio.run(read_records(servers, [prefix + "sensor-readings"], readings))
    sent = {json.loads(r.value or b"")["reading_id"]: r for r in raw}
    timestamps = asyncio.run(_timestamps(servers, prefix + "sensor-readings"))
    return [
        arrivals[rid] - timestamps[(r.partition, r.offset)]
        for rid, r in sent.items()
        if rid in arrivals
    ]


async def _timestamps(servers: str, topic: str) -> dict[tuple[int, int], float]:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers)
    await consumer.start()
    stamps: dict[tuple[int, int], float] = {}
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while batches := await consumer.getmany(timeout_ms=1000):
            for batch in batches.values():
                for record in batch:
                    stamps[(record.partition, record.offset)] = record.timestamp / 1000
    finally:
        await consumer.stop()
    return stamps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=600)
    parser.add_argument("--rate", type=float, default=50.0, help="readings per second")
    args = parser.parse_args()
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    for guarantee in ("at_least_once", "exactly_once"):
        latencies = sorted(measure(guarantee, args.readings, args.rate, servers))
        cuts = statistics.quantiles(latencies, n=100)
        print(
            f"{guarantee:>14}: {len(latencies)} readings at {args.rate:g}/s, end-to-end "
            f"p50 {cuts[49] * 1000:.0f} ms, p90 {cuts[89] * 1000:.0f} ms, "
            f"p99 {cuts[98] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
