"""Faust against raw aiokafka: ``uv run python -m tests.benchmarks.bench_throughput``.

Side by side in one run, on one broker (the chain: KAFKA_BOOTSTRAP_SERVERS first):

1. Throughput, events/s, of consume -> validate/classify -> produce on the same input (``--events``
   readings, about 10% malformed, 4 partitions, already in the topic when the consumer starts):
   - ``raw``: an aiokafka loop doing the same work with the reference phase 2 functions, sends
     not awaited one by one, offsets committed once per fetched batch after its sends are
     delivered (at-least-once, the ceiling for a Python client);
   - ``faust-alo`` and ``faust-eos``: the reference pipeline (phase 2) in a real worker under
     at_least_once and exactly_once.
   Measured by a read_committed consumer tailing the output topics: from the first outcome
   visible to the last one, so start-up and rebalancing are not counted.
2. Latency p50/p99, produce -> visible to a read_committed consumer on enriched-readings, for
   both guarantees, at a steady ``--rate``.
3. The learner loop: ``pytest katas/phaseN`` on the stubs (tests/benchmarks/bench_learner_loop.py).

Contenders run interleaved, round after round, and the median of ``--runs`` rounds is reported
with the ratios faust-alo/raw and faust-eos/faust-alo. Prints the figures and writes them with a
note of the machine to ``--json``. It asserts nothing. The machine may be shared: other processes
on the same cores show up in the absolute figures; the ratios, measured side by side, less so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from app.config import Topics
from app.models import EnrichedReading, MalformedReading
from app.producer import generate_events
from kata_engine.broker import provide_broker
from kata_engine.worker import committed_reader, create_topics, running_worker
from solutions.phase2.classify import classify
from solutions.phase2.dead_letter import dead_letter_headers, to_dead_letter
from solutions.phase2.validation import parse_reading
from tests.benchmarks import bench_learner_loop

PARTITIONS = 4
ROOT = Path(__file__).resolve().parents[2]


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "load_average": os.getloadavg(),
    }


class Run:
    """Fresh names for one contender's run, so nothing is shared between runs."""

    def __init__(self, servers: str) -> None:
        token = uuid.uuid4().hex[:8]
        self.servers = servers
        self.app_id = f"bench-{token}"
        self.prefix = f"bench-{token}-"
        self.topics = Topics.with_prefix(self.prefix)

    def env(self, guarantee: str, tuned: bool = True) -> dict[str, str]:
        return {
            "KATA_FAUST_TUNING": "1" if tuned else "0",
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.servers,
            "KATA_APP_ID": self.app_id,
            "KATA_TOPIC_PREFIX": self.prefix,
            "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
            "KATA_PROCESSING_GUARANTEE": guarantee,
            "KATA_IMPL": "solutions",
        }

    async def create(self) -> None:
        t = self.topics
        names = [t.readings, t.enriched, t.dead_letter, t.window_aggregates]
        await create_topics(self.servers, names, PARTITIONS)


async def produce(servers: str, topic: str, count: int, seed: int = 11) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=servers, acks="all", linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        events = generate_events(
            count, seed=seed, sensors=20, include_bad=True, start_time=1.7e9, step=0.01
        )
        deliveries = [await producer.send(topic, e.value, key=e.key) for e in events]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


async def tail(servers: str, topics: list[str], expected: int, timeout: float) -> float:
    """Seconds from the first output visible (read_committed) to the ``expected``-th one."""
    async with committed_reader(servers, topics) as consumer:
        seen, first = 0, 0.0
        deadline = time.monotonic() + timeout
        while seen < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {seen} of {expected} outcomes after {timeout:g} s")
            batches = await consumer.getmany(timeout_ms=200)
            got = sum(len(batch) for batch in batches.values())
            if got and not seen:
                first = time.monotonic()
            seen += got
        return time.monotonic() - first


async def raw_loop(run: Run, expected: int, stop: asyncio.Event) -> None:
    """consume -> validate/classify -> produce, with aiokafka only, commits per batch."""
    t = run.topics
    consumer = AIOKafkaConsumer(
        t.readings,
        bootstrap_servers=run.servers,
        group_id=run.app_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=1000,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=run.servers, acks="all", linger_ms=5, max_batch_size=512 * 1024
    )
    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            deliveries = []
            for records in batches.values():
                for r in records:
                    try:
                        reading = parse_reading(r.value)
                    except MalformedReading as error:
                        dead = to_dead_letter(r.value, r.key, error, r.topic, r.partition, r.offset)
                        headers = list(dead_letter_headers(dead).items())
                        deliveries.append(
                            await producer.send(
                                t.dead_letter, dead.dumps(), key=r.key, headers=headers
                            )
                        )
                        continue
                    enriched = EnrichedReading(
                        reading_id=reading.reading_id,
                        sensor_id=reading.sensor_id,
                        temperature=reading.temperature,
                        humidity=reading.humidity,
                        timestamp=reading.timestamp,
                        status=classify(reading.temperature).value,
                        processed_at=time.time(),
                    )
                    deliveries.append(
                        await producer.send(
                            t.enriched, enriched.dumps(), key=reading.sensor_id.encode()
                        )
                    )
            if deliveries:
                await asyncio.gather(*deliveries)  # outcomes written before the offsets move
                await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


async def throughput_raw(run: Run, events: int, timeout: float) -> float:
    await run.create()
    await produce(run.servers, run.topics.readings, events)
    stop = asyncio.Event()
    outputs = [run.topics.enriched, run.topics.dead_letter]
    watcher = asyncio.create_task(tail(run.servers, outputs, events, timeout))
    loop = asyncio.create_task(raw_loop(run, events, stop))
    try:
        seconds = await watcher
    finally:
        stop.set()
        await loop
    return events / seconds


def throughput_faust(
    run: Run, events: int, timeout: float, guarantee: str, tuned: bool = True
) -> float:
    asyncio.run(run.create())
    asyncio.run(produce(run.servers, run.topics.readings, events))
    outputs = [run.topics.enriched, run.topics.dead_letter]
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_worker(run.env(guarantee, tuned), Path(workdir), phases="2"),
    ):
        seconds = asyncio.run(tail(run.servers, outputs, events, timeout))
    return events / seconds


async def latency(run: Run, rate: float, seconds: float) -> list[float]:
    """Send valid readings at ``rate``/s; the delay of each until visible on enriched-readings."""
    producer = AIOKafkaProducer(bootstrap_servers=run.servers, acks="all")
    await producer.start()
    sent: dict[str, float] = {}
    delays: list[float] = []

    async def send_all() -> None:
        count = int(rate * seconds)
        for n in range(count):
            reading_id = f"lat-{n}"
            sensor = f"sensor-{n % 20:03d}"
            body = {
                "reading_id": reading_id,
                "sensor_id": sensor,
                "temperature": 21.5,
                "humidity": 40.0,
                "timestamp": time.time(),
            }
            sent[reading_id] = time.time()
            await producer.send(run.topics.readings, json.dumps(body).encode(), key=sensor.encode())
            await asyncio.sleep(1 / rate)

    try:
        async with committed_reader(run.servers, [run.topics.enriched], at_end=True) as consumer:
            sender = asyncio.create_task(send_all())
            deadline = time.monotonic() + seconds + 30
            expected = int(rate * seconds)
            while len(delays) < expected and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=100)
                now = time.time()
                for batch in batches.values():
                    for record in batch:
                        reading_id = json.loads(record.value or b"{}").get("reading_id", "")
                        if reading_id in sent:
                            delays.append(now - sent[reading_id])
            await sender
    finally:
        await producer.stop()
    return delays


async def warm_up(run: Run) -> None:
    """Wait until the worker answers: one reading through the pipeline."""
    await produce(run.servers, run.topics.readings, 1, seed=1)
    await tail(run.servers, [run.topics.enriched, run.topics.dead_letter], 1, 120)


def latency_faust(
    run: Run, guarantee: str, rate: float, seconds: float, tuned: bool = True
) -> list[float]:
    asyncio.run(run.create())
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_worker(run.env(guarantee, tuned), Path(workdir), phases="2"),
    ):
        asyncio.run(warm_up(run))
        return asyncio.run(latency(run, rate, seconds))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0, help="readings/s for latency")
    parser.add_argument("--seconds", type=float, default=10.0, help="latency run length")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--skip-learner-loop", action="store_true")
    parser.add_argument("--label", default="", help="a note stored with the figures")
    parser.add_argument("--json", type=Path, default=Path("bench_throughput.json"))
    args = parser.parse_args(argv)

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # recovered retries: noise here
    noted = machine()
    print(f"machine: {noted}", flush=True)
    print(
        "note: a shared machine (other tests may run on the same cores); the ratios, measured "
        "side by side, mean more than the absolute figures",
        flush=True,
    )
    results: dict[str, Any] = {"machine": noted, "label": args.label, "events": args.events}
    with provide_broker() as broker:
        servers = broker.bootstrap_servers
        contenders: dict[str, Callable[[], float]] = {
            "raw": lambda: asyncio.run(throughput_raw(Run(servers), args.events, args.timeout)),
            "faust-alo": lambda: throughput_faust(
                Run(servers), args.events, args.timeout, "at_least_once"
            ),
            "faust-eos": lambda: throughput_faust(
                Run(servers), args.events, args.timeout, "exactly_once"
            ),
            # The same workers with Faust's own defaults (KATA_FAUST_TUNING=0): before tuning.
            "alo-untuned": lambda: throughput_faust(
                Run(servers), args.events, args.timeout, "at_least_once", tuned=False
            ),
            "eos-untuned": lambda: throughput_faust(
                Run(servers), args.events, args.timeout, "exactly_once", tuned=False
            ),
        }
        rates: dict[str, list[float]] = {name: [] for name in contenders}
        for round_ in range(1, args.runs + 1):
            for name, measure in contenders.items():
                rates[name].append(measure())
                print(f"round {round_} {name:<12} {rates[name][-1]:>9,.0f} events/s", flush=True)
        medians = {name: statistics.median(values) for name, values in rates.items()}
        ratios = {
            "faust-alo/raw": medians["faust-alo"] / medians["raw"],
            "faust-eos/raw": medians["faust-eos"] / medians["raw"],
            "faust-eos/faust-alo": medians["faust-eos"] / medians["faust-alo"],
            "alo-untuned/raw": medians["alo-untuned"] / medians["raw"],
            "eos-untuned/alo-untuned": medians["eos-untuned"] / medians["alo-untuned"],
            "faust-alo/alo-untuned": medians["faust-alo"] / medians["alo-untuned"],
        }
        results["throughput"] = {"runs": rates, "median": medians, "ratios": ratios}
        print(f"\nthroughput, median of {args.runs} ({args.events} events, 4 partitions):")
        for name, value in medians.items():
            print(f"  {name:<12} {value:>9,.0f} events/s")
        for name, value in ratios.items():
            print(f"  {name:<24} {value:6.1%}")

        latencies: dict[str, dict[str, float]] = {}
        for guarantee, tuned in (
            ("at_least_once", True),
            ("exactly_once", True),
            ("at_least_once", False),
            ("exactly_once", False),
        ):
            delays = latency_faust(Run(servers), guarantee, args.rate, args.seconds, tuned)
            guarantee = guarantee if tuned else f"{guarantee} untuned"
            latencies[guarantee] = {
                "p50_ms": 1000 * percentile(delays, 0.50),
                "p99_ms": 1000 * percentile(delays, 0.99),
                "samples": len(delays),
            }
            figures = latencies[guarantee]
            print(
                f"latency {guarantee:<22} p50 {figures['p50_ms']:7.1f} ms  "
                f"p99 {figures['p99_ms']:7.1f} ms  ({len(delays)} readings at {args.rate:g}/s)",
                flush=True,
            )
        results["latency"] = latencies

    if not args.skip_learner_loop:
        env = bench_learner_loop.learner_env()
        loop_figures: dict[str, float] = {}
        for phase in sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("katas/phase*")):
            command = [sys.executable, "-m", "pytest", phase, "-q", "-p", "no:cacheprovider"]
            loop_figures[phase] = bench_learner_loop.median_of(
                f"pytest {phase}", command, args.runs, env
            )
        results["learner_loop_s"] = loop_figures
    results["machine"]["load_average_after"] = os.getloadavg()
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.json}")


if __name__ == "__main__":
    main()
