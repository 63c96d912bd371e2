"""SIGTERM to exit: ``uv run python -m tests.benchmarks.bench_sigterm [--runs 5]``.

What a supervisor (systemd, Kubernetes) does first: SIGTERM. For each guarantee, interleaved,
a fresh app (phases 2-5, reference solutions) gets 3,000 readings and then a steady trickle, and
SIGTERM reaches its worker ``--after`` seconds after it was ready, mid-stream. Prints, per run,
the seconds from the signal to the process's exit, and whether the log holds a traceback or an
error while stopping (the AssertionError of issue 18); then the median per guarantee. A worker
still alive ``--limit`` seconds after the signal is SIGKILLed and counted as the limit. It
asserts nothing on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer

from app.producer import KIND_HEADER, SEEDED_START_TIME, generate_events
from kata_engine.broker import provide_broker
from kata_engine.worker import create_topics, running_worker

PARTITIONS = 4
TOPICS = ("sensor-readings", "enriched-readings", "sensor-dead-letter", "window-aggregates")
FAST = {"BROKER_SESSION_TIMEOUT": "6", "BROKER_HEARTBEAT_INTERVAL": "1"}
SHOW_TROUBLE = bool(os.environ.get("BENCH_SHOW_TROUBLE"))
TROUBLE = ("Traceback", "Error while stopping", "AssertionError", "Invalid state transition")


def feed(servers: str, topic: str, stop: threading.Event) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=20)
        await producer.start()
        try:
            events = generate_events(
                100_000, seed=3, sensors=5, include_bad=True, start_time=SEEDED_START_TIME, step=1.0
            )
            for number, event in enumerate(events):
                if stop.is_set():
                    break
                await producer.send(
                    topic,
                    value=event.value,
                    key=event.key,
                    headers=[(KIND_HEADER, event.kind.encode())],
                )
                if number >= 3_000 and number % 15 == 0:
                    await asyncio.sleep(0.1)  # about 150 a second once the backlog is sent
        finally:
            await producer.stop()

    asyncio.run(run())


def one_run(servers: str, guarantee: str, after: float, limit: float) -> tuple[float, list[str]]:
    token = uuid.uuid4().hex[:10]
    prefix = f"t-{token}-"
    asyncio.run(create_topics(servers, [prefix + t for t in (*TOPICS, "window-ticks")], PARTITIONS))
    env = {
        **os.environ,
        **FAST,
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "KATA_APP_ID": f"bench-sigterm-{token}",
        "KATA_TOPIC_PREFIX": prefix,
        "KATA_IMPL": "solutions",
        "KATA_PROCESSING_GUARANTEE": guarantee,
        "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
    }
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(servers, prefix + TOPICS[0], stop), daemon=True)
    feeder.start()
    try:
        workdir = Path(tempfile.mkdtemp(prefix="bench-sigterm-"))
        with running_worker(env, workdir, phases="2,3,4,5") as worker:
            marks = ["[^Worker]: Ready"] + (
                ["transactional producers"] if guarantee == "exactly_once" else []
            )
            deadline = time.monotonic() + 180
            while not all(m in worker.log.read_text(errors="replace") for m in marks):
                worker.check_alive()
                if time.monotonic() > deadline:
                    raise SystemExit(f"the worker never got ready:\n{worker.log_tail()}")
                time.sleep(0.1)
            time.sleep(after)
            signalled = time.monotonic()
            worker.process.send_signal(signal.SIGTERM)
            try:
                worker.process.wait(timeout=limit)
                seconds = time.monotonic() - signalled
            except subprocess.TimeoutExpired:
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait()
                seconds = limit
            text = worker.log.read_text(errors="replace")
            lines = text.splitlines()
            trouble = [n for n, line in enumerate(lines) if any(t in line for t in TROUBLE)]
            if trouble or seconds >= limit:
                print(f"  (log kept: {worker.log})", flush=True)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
            if trouble and SHOW_TROUBLE:
                print("\n".join(lines[max(0, trouble[0] - 5) : trouble[0] + 40]), flush=True)
            return seconds, [lines[n] for n in trouble]
    finally:
        stop.set()
        feeder.join(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--after", type=float, default=3.0, help="seconds after Ready")
    parser.add_argument("--limit", type=float, default=60.0, help="SIGKILL after this long")
    parser.add_argument("--guarantee", action="append", choices=["at_least_once", "exactly_once"])
    args = parser.parse_args()
    chosen = args.guarantee or ["at_least_once", "exactly_once"]
    times: dict[str, list[float]] = {guarantee: [] for guarantee in chosen}
    with provide_broker(lambda line: None) as broker:
        for run in range(args.runs):
            for guarantee in times:
                seconds, trouble = one_run(
                    broker.bootstrap_servers, guarantee, args.after, args.limit
                )
                times[guarantee].append(seconds)
                verdict = "clean" if not trouble else f"{len(trouble)} trouble lines: {trouble[:2]}"
                print(
                    f"run {run + 1} {guarantee:<14} SIGTERM to exit {seconds:6.2f} s  {verdict}",
                    flush=True,
                )
    for guarantee, values in times.items():
        print(
            f"{guarantee:<14} median {statistics.median(values):.2f} s over {len(values)} runs "
            f"(min {min(values):.2f}, max {max(values):.2f})"
        )


if __name__ == "__main__":
    main()
