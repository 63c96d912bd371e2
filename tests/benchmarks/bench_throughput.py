"""Faust, raw aiokafka, Quix Streams: ``uv run python -m tests.benchmarks.bench_throughput``.

Side by side in one run, on one broker (the chain: KAFKA_BOOTSTRAP_SERVERS first). Quix Streams
and the chart run in the bench group's own environment, ``.venv-bench`` (made with ``uv run
--group bench`` on first use; see in_bench_env for why not this one); without it they are
skipped with a line that says so.

1. Throughput, events/s, of consume -> validate/classify -> produce on the same input (``--events``
   readings, about 10% malformed, 4 partitions, produced once the contender is up):
   - ``raw``: an aiokafka loop (tests/benchmarks/raw_peer.py) doing the same work with the
     reference phase 2 functions, sends not awaited one by one, offsets committed once per
     fetched batch after its sends are delivered (at-least-once, the ceiling for a Python
     client);
   - ``quix-alo`` / ``quix-eos``: Quix Streams doing the same job with the same functions
     (tests/benchmarks/quix_peer.py), at-least-once and exactly-once;
   - ``faust-alo-per-event``: task 2.4's agent (one round trip per event), at_least_once;
   - ``faust-alo`` / ``faust-eos``: the reference phase 2 worker (task 2.5's batched agent);
   - ``pipeline-alo`` / ``pipeline-eos``: the whole reference pipeline (phases 2-5) in one worker.
   Measured by a read_committed consumer tailing the phase 2 outputs: one warm-up reading first
   (start-up and rebalancing are not counted), then from producing the readings to the last
   outcome visible (under exactly_once, outputs become visible a transaction at a time).
2. Latency p50/p99 of the whole pipeline, produce -> visible to a read_committed consumer on
   enriched-readings, at a steady ``--rate``: at_least_once, and exactly_once for every commit
   interval of ``--commit-intervals`` (KATA_COMMIT_INTERVAL), with the throughput of each; drawn
   to ``--chart`` (a PNG) when matplotlib is installed.
3. The learner loop: ``pytest katas/phaseN`` on the stubs (tests/benchmarks/bench_learner_loop.py).

Every contender runs in a process of its own; they run interleaved, round after round, and the
median of ``--runs`` rounds is reported with the ratios to raw and to at-least-once. Prints the
figures and writes them with a note of the machine to ``--json``. It asserts nothing. The
machine may be shared: other processes on the same cores show up in the absolute figures; the
ratios, measured side by side, less so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
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
WHOLE_PIPELINE = "2,3,4,5"
COMMIT_INTERVALS = "0.1,0.25,0.5,1,2.8"


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

    def __init__(self, servers: str, token: str | None = None) -> None:
        token = token or uuid.uuid4().hex[:8]
        self.token = token
        self.cpu_seconds = 0.0  # CPU time of the contender's process while clocked
        self.servers = servers
        self.app_id = f"bench-{token}"
        self.prefix = f"bench-{token}-"
        self.topics = Topics.with_prefix(self.prefix)

    def env(self, guarantee: str, extra: dict[str, str]) -> dict[str, str]:
        return {
            **os.environ,
            **extra,
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
        await create_topics(self.servers, [*names, f"{self.prefix}window-ticks"], PARTITIONS)


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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its descendants, all their threads."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        # Any thread may have started a child (uv run does it from a worker thread).
        children = [
            child
            for thread in Path(f"/proc/{pid}/task").iterdir()
            for child in (thread / "children").read_text().split()
        ]
    except OSError:
        return 0.0  # gone already
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


Settled = Callable[[int, int], Awaitable[bool]]  # (enriched seen, dead letters seen) -> done?


async def clocked(
    run: Run,
    events: int,
    timeout: float,
    pid: int | None = None,
    settled: Settled | None = None,
) -> float:
    """Seconds from producing ``events`` readings to the last outcome visible (read_committed).

    One reading first, until its outcome is visible: the contender is up and owns the
    partitions, so start-up and rebalancing are not counted. Then the clock starts and the
    readings are produced while the contender works. From the produce, not from the first outcome
    visible: under exactly_once every outcome of a transaction becomes visible at once. With
    ``pid``, the CPU time that process used meanwhile goes to ``run.cpu_seconds``: a figure a
    busy machine changes much less than the wall clock. With ``settled``, the clock runs on
    after the last phase 2 outcome until ``settled(enriched, dead letters seen)`` is true (the
    whole pipeline: until its downstream tables have counted them, see ``pipeline_settled``).
    """
    t = run.topics
    cpu_before = 0.0
    await produce(run.servers, t.readings, 1, seed=1)
    async with committed_reader(run.servers, [t.enriched, t.dead_letter]) as consumer:
        seen, enriched, started = 0, 0, 0.0
        deadline = time.monotonic() + timeout
        producing: asyncio.Task[None] | None = None
        while seen < events + 1:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {seen} of {events + 1} outcomes after {timeout:g} s")
            batches = await consumer.getmany(timeout_ms=100)
            seen += sum(len(batch) for batch in batches.values())
            enriched += sum(len(batch) for tp, batch in batches.items() if tp.topic == t.enriched)
            if seen and producing is None:  # the warm-up reading is through: go
                started = time.monotonic()
                cpu_before = cpu_seconds(pid) if pid else 0.0
                producing = asyncio.create_task(produce(run.servers, t.readings, events))
        if producing is not None:
            await producing
        while settled is not None and not await settled(enriched, seen - enriched):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the pipeline did not settle in {timeout:g} s")
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        if pid:
            run.cpu_seconds = cpu_seconds(pid) - cpu_before
        return elapsed


def pipeline_settled(web_port: int) -> Settled:
    """The whole pipeline is done with what phase 2 wrote: its /status/ counts all of it.

    Phase 3's per-sensor and per-status counts (the latter behind a repartition topic) have
    counted every enriched reading, and phase 5's dead-letter counts every dead letter. Not the
    window aggregates: a window closes when event time passes it or its partition is idle for
    KATA_WINDOW_CLOSE_DELAY, which is not a matter of throughput.
    """
    url = f"http://127.0.0.1:{web_port}/status/"

    async def settled(enriched: int, dead_letters: int) -> bool:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            status: dict[str, Any] = await response.json()
        return bool(
            sum(status["readings_per_sensor"].values()) >= enriched
            and sum(status["readings_per_status"].values()) >= enriched
            and sum(status["dead_letters_per_error_code"].values()) >= dead_letters
        )

    return settled


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


def throughput_raw(run: Run, events: int, timeout: float) -> float:
    """The raw loop in its own process (tests/benchmarks/raw_peer.py), like every contender."""
    asyncio.run(run.create())
    command = ["-m", "tests.benchmarks.raw_peer", "--servers", run.servers, "--token", run.token]
    return events / peer_process(run, command, events, timeout)


def peer_process(
    run: Run, arguments: list[str], events: int, timeout: float, bench_group: bool = False
) -> float:
    """Seconds ``clocked`` measures while ``python arguments...`` runs; it is stopped after.

    ``bench_group``: run it in the bench group's environment (in_bench_env), else in this one.
    """
    command = in_bench_env(arguments) if bench_group else [sys.executable, *arguments]
    env = bench_env() if bench_group else {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as workdir, (Path(workdir) / "peer.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT if bench_group else workdir,  # uv finds the project from its directory
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            return asyncio.run(clocked(run, events, timeout, process.pid))
        except TimeoutError:
            log.flush()
            print((Path(workdir) / "peer.log").read_text(errors="replace")[-3000:], flush=True)
            raise
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def throughput_faust(
    run: Run,
    events: int,
    timeout: float,
    guarantee: str,
    *,
    phases: str = "2",
    enrichment: str = "batched",
    **extra: str,
) -> float:
    asyncio.run(run.create())
    env = run.env(guarantee, {"KATA_ENRICHMENT": enrichment, **extra})
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_worker(env, Path(workdir), phases=phases) as worker,
    ):
        # The whole pipeline: the clock stops when its last stage has counted everything.
        settled = pipeline_settled(worker.web_port) if phases == WHOLE_PIPELINE else None
        seconds = asyncio.run(clocked(run, events, timeout, worker.process.pid, settled))
    return events / seconds


BENCH_VENV = ROOT / ".venv-bench"


def in_bench_env(arguments: list[str]) -> list[str]:
    """``python arguments...`` in the bench group's own environment (BENCH_VENV).

    Not this one: quixstreams brings orjson, and Faust serializes JSON with orjson whenever it is
    importable (faust/utils/json.py), which refuses the lone surrogates the standard library
    writes (katas/phase2/test_dead_letter.py fails). The pipeline's workers must not run with it.
    """
    return ["uv", "run", "--locked", "--group", "bench", "python", *arguments]


def bench_env() -> dict[str, str]:
    return {**os.environ, "UV_PROJECT_ENVIRONMENT": str(BENCH_VENV), "PYTHONPATH": str(ROOT)}


def bench_group_ready() -> bool:
    """Create or update the bench environment; False (with a line) if that is impossible."""
    try:
        done = subprocess.run(
            in_bench_env(["-c", "import quixstreams, matplotlib"]),
            cwd=ROOT,
            env=bench_env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"note: no bench environment ({error}): Quix and the chart skipped")
        return False
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        print(f"note: no bench environment ({last}): Quix and the chart skipped")
        return False
    return True


def throughput_quix(run: Run, events: int, timeout: float, guarantee: str) -> float:
    """Quix Streams doing the phase 2 job (tests/benchmarks/quix_peer.py) in its own process."""
    asyncio.run(run.create())
    t = run.topics
    command = [
        *("-m", "tests.benchmarks.quix_peer"),
        *("--servers", run.servers, "--group", run.app_id, "--guarantee", guarantee),
        *("--readings", t.readings, "--enriched", t.enriched, "--dead-letter", t.dead_letter),
    ]
    return events / peer_process(run, command, events, timeout, bench_group=True)


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
    await clocked(run, 0, 120)


def latency_faust(
    run: Run, guarantee: str, rate: float, seconds: float, phases: str, **extra: str
) -> list[float]:
    asyncio.run(run.create())
    env = run.env(guarantee, {"KATA_ENRICHMENT": "batched", **extra})
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_worker(env, Path(workdir), phases=phases),
    ):
        asyncio.run(warm_up(run))
        return asyncio.run(latency(run, rate, seconds))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


Measure = Callable[[], tuple[float, float]]  # () -> (events/s, CPU µs per event)


def contenders_for(servers: str, args: argparse.Namespace) -> dict[str, Measure]:
    events, timeout = args.events, args.timeout

    def measured(throughput: Callable[[Run], float]) -> Measure:
        def measure() -> tuple[float, float]:
            run = Run(servers)
            rate = throughput(run)
            return rate, 1e6 * run.cpu_seconds / events

        return measure

    def faust(guarantee: str, **options: str) -> Measure:
        return measured(lambda run: throughput_faust(run, events, timeout, guarantee, **options))

    def quix(guarantee: str) -> Measure:
        return measured(lambda run: throughput_quix(run, events, timeout, guarantee))

    every: dict[str, Measure] = {
        "raw": measured(lambda run: throughput_raw(run, events, timeout)),
        "quix-alo": quix("at-least-once"),
        "quix-eos": quix("exactly-once"),
        "faust-alo-per-event": faust("at_least_once", enrichment="per-event"),
        "faust-alo": faust("at_least_once"),
        "faust-eos": faust("exactly_once"),
        "pipeline-alo": faust("at_least_once", phases=WHOLE_PIPELINE),
        "pipeline-eos": faust("exactly_once", phases=WHOLE_PIPELINE),
    }
    for size in filter(None, (n.strip() for n in args.batch_sizes.split(","))):
        every[f"faust-alo-n{size}"] = faust("at_least_once", KATA_BATCH_SIZE=size)
    for within in filter(None, (w.strip() for w in args.batch_withins.split(","))):
        every[f"faust-alo-w{within}"] = faust("at_least_once", KATA_BATCH_WITHIN=within)
    chosen = [name.strip() for name in args.contenders.split(",") if name.strip()]
    chosen += [name for name in every if name.startswith(("faust-alo-n", "faust-alo-w"))]
    unknown = [name for name in chosen if name not in every]
    if unknown:
        raise SystemExit(f"bench_throughput: unknown contender(s) {unknown}; known: {list(every)}")
    if any(name.startswith("quix") for name in chosen) and not bench_group_ready():
        chosen = [name for name in chosen if not name.startswith("quix")]
    return {name: every[name] for name in chosen}


RATIOS = (
    ("faust-alo", "raw"),
    ("faust-alo", "quix-alo"),
    ("faust-alo-per-event", "raw"),
    ("faust-alo", "faust-alo-per-event"),
    ("quix-alo", "raw"),
    ("quix-eos", "quix-alo"),
    ("faust-eos", "faust-alo"),
    ("pipeline-alo", "raw"),
    ("pipeline-eos", "pipeline-alo"),
)


def throughput_rounds(contenders: dict[str, Measure], runs: int, events: int) -> dict[str, Any]:
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(1, runs + 1):
        for name, measure in contenders.items():
            rate, cpu_us = measure()
            rates[name].append(rate)
            cpu[name].append(cpu_us)
            print(
                f"round {round_} {name:<20} {rate:>9,.0f} events/s  {cpu_us:6.0f} µs CPU/event",
                flush=True,
            )
    medians = {name: statistics.median(values) for name, values in rates.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    ratios = {
        f"{a}/{b}": medians[a] / medians[b] for a, b in RATIOS if a in medians and b in medians
    }
    print(f"\nthroughput, median of {runs} ({events:,} events, {PARTITIONS} partitions):")
    for name, value in medians.items():
        share = value / medians.get("raw", value)
        print(
            f"  {name:<20} {value:>9,.0f} events/s  ({share:6.1%} of raw)  "
            f"{cpu_medians[name]:6.0f} µs CPU/event"
        )
    for name, value in ratios.items():
        print(f"  {name:<34} {value:6.1%}")
    return {
        "runs": rates,
        "median": medians,
        "ratios": ratios,
        "cpu_us_per_event": {"runs": cpu, "median": cpu_medians},
    }


def commit_interval_curve(servers: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Whole pipeline: at_least_once, then exactly_once per commit interval; latency at --rate.

    ``--curve-runs`` rounds, interleaved; each figure is the median of the rounds.
    """
    settings = [("at_least_once", "2.8")] + [
        ("exactly_once", interval.strip()) for interval in args.commit_intervals.split(",")
    ]
    rounds: dict[str, list[dict[str, float]]] = {}
    for round_ in range(1, args.curve_runs + 1):
        for guarantee, interval in settings:
            extra = {"KATA_COMMIT_INTERVAL": interval}
            delays = latency_faust(
                Run(servers), guarantee, args.rate, args.seconds, WHOLE_PIPELINE, **extra
            )
            rate = throughput_faust(
                Run(servers), args.events, args.timeout, guarantee, phases=WHOLE_PIPELINE, **extra
            )
            label = f"{guarantee} commit {interval} s"
            figures = {
                "p50_ms": 1000 * percentile(delays, 0.50),
                "p99_ms": 1000 * percentile(delays, 0.99),
                "samples": len(delays),
                "events_per_s": rate,
            }
            rounds.setdefault(label, []).append(figures)
            print(
                f"round {round_} whole pipeline {label:<28} p50 {figures['p50_ms']:7.1f} ms  "
                f"p99 {figures['p99_ms']:7.1f} ms  ({len(delays)} readings at {args.rate:g}/s)  "
                f"{rate:>7,.0f} events/s",
                flush=True,
            )
    curve: dict[str, dict[str, Any]] = {}
    for (guarantee, interval), (label, runs) in zip(settings, rounds.items(), strict=True):
        curve[label] = {
            "guarantee": guarantee,
            "commit_interval_s": float(interval),
            "runs": runs,
            **{
                name: statistics.median(run[name] for run in runs)
                for name in ("p50_ms", "p99_ms", "events_per_s")
            },
        }
    print(f"\nwhole pipeline, median of {args.curve_runs} round(s):")
    print("| guarantee | commit interval | p50 | p99 | events/s |")
    print("|---|---:|---:|---:|---:|")
    for figures in curve.values():
        print(
            f"| {figures['guarantee']} | {figures['commit_interval_s']:g} s | "
            f"{figures['p50_ms']:,.0f} ms | {figures['p99_ms']:,.0f} ms | "
            f"{figures['events_per_s']:,.0f} |"
        )
    return curve


def within_latency(servers: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Phase 2 alone, at_least_once: what a partial batch's wait costs at --rate."""
    figures: dict[str, dict[str, float]] = {}
    for within in filter(None, (w.strip() for w in args.withins.split(","))):
        delays = latency_faust(
            Run(servers), "at_least_once", args.rate, args.seconds, "2", KATA_BATCH_WITHIN=within
        )
        figures[within] = {
            "p50_ms": 1000 * percentile(delays, 0.50),
            "p99_ms": 1000 * percentile(delays, 0.99),
            "samples": len(delays),
        }
        print(
            f"phase 2 at_least_once, batch within {within:>5} s: "
            f"p50 {figures[within]['p50_ms']:7.1f} ms  p99 {figures[within]['p99_ms']:7.1f} ms  "
            f"({len(delays)} readings at {args.rate:g}/s)",
            flush=True,
        )
    return figures


def draw_curve(results: Path, chart: Path) -> None:
    """Draw the curve of ``results`` (this run's JSON) to ``chart``, in the bench environment."""
    if not bench_group_ready():
        return
    command = ["-m", "tests.benchmarks.commit_chart", "--json", str(results), "--chart", str(chart)]
    done = subprocess.run(in_bench_env(command), cwd=ROOT, env=bench_env(), check=False)
    if done.returncode != 0:
        print("note: the chart could not be drawn (see above)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="readings per throughput run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--contenders",
        default=",".join(
            [
                "raw",
                "quix-alo",
                "quix-eos",
                "faust-alo-per-event",
                "faust-alo",
                "faust-eos",
                "pipeline-alo",
                "pipeline-eos",
            ]
        ),
        help="comma-separated; default: all",
    )
    parser.add_argument("--rate", type=float, default=200.0, help="readings/s for latency")
    parser.add_argument("--seconds", type=float, default=10.0, help="latency run length")
    parser.add_argument(
        "--commit-intervals", default=COMMIT_INTERVALS, help="exactly_once intervals (s)"
    )
    parser.add_argument(
        "--batch-sizes", default="", help="extra contenders faust-alo-nN (KATA_BATCH_SIZE=N)"
    )
    parser.add_argument(
        "--batch-withins",
        default="",
        help="extra contenders faust-alo-wW (KATA_BATCH_WITHIN=W s): throughput per within",
    )
    parser.add_argument(
        "--withins", default="", help="phase 2 latency per KATA_BATCH_WITHIN (s), comma-separated"
    )
    parser.add_argument("--curve-runs", type=int, default=3, help="rounds of the curve")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--skip-learner-loop", action="store_true")
    parser.add_argument("--label", default="", help="a note stored with the figures")
    parser.add_argument("--json", type=Path, default=Path("bench_throughput.json"))
    parser.add_argument("--chart", type=Path, default=ROOT / "docs" / "commit-interval.png")
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
        if not args.skip_throughput:
            contenders = contenders_for(servers, args)
            results["throughput"] = throughput_rounds(contenders, args.runs, args.events)
        if args.withins:
            results["batch_within_latency"] = within_latency(servers, args)
        if not args.skip_latency:
            curve = commit_interval_curve(servers, args)
            results["commit_interval_curve"] = curve

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
    if "commit_interval_curve" in results:
        draw_curve(args.json.resolve(), args.chart)


if __name__ == "__main__":
    main()
