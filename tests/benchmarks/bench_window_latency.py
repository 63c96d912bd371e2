"""Window latency: ``uv run python -m tests.benchmarks.bench_window_latency``.

A real worker (phases 2 and 4, the reference solutions) gets live readings: 10 sensors, one
reading each every ``--interval`` seconds, timestamped with the wall clock, for ``--seconds``.
Every aggregate is read (read_committed) the moment it becomes readable, and the benchmark
prints how long after its window's END (event time) that was:

- windows closed by the horizon (a later reading passed end + grace): about the grace;
- the last windows, closed because the partitions went quiet: the close delay after the last
  reading, plus up to one tick interval.

Window size, grace and close delay are shortened (options) so a run takes under a minute; the
figures scale with them. It asserts nothing on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from app.models import WindowAggregate
from kata_engine.broker import provide_broker
from kata_engine.worker import create_topics, running_worker, topic_partitions

SENSORS = [f"sensor-{n:03d}" for n in range(10)]


async def run(servers: str, raw: str, aggregates: str, args: argparse.Namespace) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, isolation_level="read_committed")
    await consumer.start()
    partitions = await topic_partitions(servers, [aggregates])
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    seen: list[tuple[WindowAggregate, float]] = []

    async def collect(until: float) -> None:
        while time.time() < until:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.time()
            for batch in batches.values():
                for record in batch:
                    seen.append((WindowAggregate.loads(record.value, serializer="json"), now))

    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
    await producer.start()
    collector = asyncio.create_task(collect(time.time() + args.seconds + args.close_delay + 15))
    try:
        started = time.time()
        sequence = 0
        while time.time() - started < args.seconds:
            for sensor in SENSORS:
                sequence += 1
                reading = {
                    "reading_id": f"r-{sequence}",
                    "sensor_id": sensor,
                    "temperature": 20.0 + sequence % 7,
                    "humidity": 50.0,
                    "timestamp": time.time(),
                }
                await producer.send(raw, json.dumps(reading).encode(), key=sensor.encode())
            await asyncio.sleep(args.interval)
        await producer.flush()
        last_reading = time.time()
    finally:
        await producer.stop()
    await collector
    await consumer.stop()

    last_end = max(a.window_end for a, _ in seen)
    by_horizon = [at - a.window_end for a, at in seen if a.window_end < last_end]
    idle = [at - last_reading for a, at in seen if a.window_end == last_end]
    keys = [(a.sensor_id, a.window_start) for a, _ in seen]
    print(f"aggregates read: {len(seen)}, distinct windows: {len(set(keys))}")
    if by_horizon:
        print(
            f"closed by the horizon ({len(by_horizon)}): window end -> readable "
            f"min {min(by_horizon):.2f} s, median {statistics.median(by_horizon):.2f} s, "
            f"max {max(by_horizon):.2f} s (grace {args.grace} s)"
        )
    print(
        f"closed by quiet partitions ({len(idle)}): last reading -> readable "
        f"min {min(idle):.2f} s, median {statistics.median(idle):.2f} s, max {max(idle):.2f} s "
        f"(close delay {args.close_delay} s, tick {args.tick} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=25.0, help="how long readings flow")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--grace", type=float, default=2.0)
    parser.add_argument("--close-delay", type=float, default=5.0)
    parser.add_argument("--tick", type=float, default=1.0)
    parser.add_argument("--guarantee", default="at_least_once")
    args = parser.parse_args()
    token = uuid.uuid4().hex[:8]
    prefix = f"bench-window-{token}-"
    names = ["sensor-readings", "enriched-readings", "sensor-dead-letter", "window-aggregates"]
    with provide_broker() as broker, tempfile.TemporaryDirectory() as workdir:
        servers = broker.bootstrap_servers
        print(f"broker: {servers} ({broker.source}), guarantee {args.guarantee}")
        topics = [prefix + name for name in [*names, "window-ticks"]]
        asyncio.run(create_topics(servers, topics, 4))
        env = {
            **os.environ,
            "KATA_IMPL": "solutions",
            "KAFKA_BOOTSTRAP_SERVERS": servers,
            "KATA_APP_ID": f"bench-window-{token}",
            "KATA_TOPIC_PREFIX": prefix,
            "KATA_TOPIC_PARTITIONS": "4",
            "KATA_WINDOW_SIZE": str(args.window),
            "KATA_WINDOW_GRACE": str(args.grace),
            "KATA_WINDOW_CLOSE_DELAY": str(args.close_delay),
            "KATA_WINDOW_TICK_INTERVAL": str(args.tick),
            "KATA_PROCESSING_GUARANTEE": args.guarantee,
        }
        with running_worker(env, Path(workdir), phases="2,4") as worker:
            time.sleep(8.0)  # let the worker join its group before readings flow
            worker.check_alive()
            asyncio.run(run(servers, prefix + names[0], prefix + names[3], args))


if __name__ == "__main__":
    main()
