"""``kata bench 2``: your phase 2 agents' speed, side by side with the reference.

For each agent (your per-event agent of task 2.4, your batched agent of task 2.5, the reference
batched agent): a fresh worker on a real broker (the broker chain), one warm-up reading until its
outcome is visible, then ``--readings`` readings (about 10% malformed) produced at once, timed
until the last outcome is visible to a read_committed reader. A task still to do shows as "not
written yet" instead of a figure; a worker that does not finish in time shows what it managed.
Figures, never a verdict: a shared or busy machine slows every agent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from rich.console import Console
from rich.table import Table

from app.config import Topics
from app.producer import generate_events
from kata_engine import switch
from kata_engine.broker import BrokerUnavailable, provide_broker
from kata_engine.worker import (
    WorkerDied,
    committed_reader,
    create_topics,
    delete_topics,
    running_worker,
)

PARTITIONS = 4
BENCHED_PHASES = (2,)


class BenchError(Exception):
    """The bench could not run (no broker, ...): one line."""


@dataclass(frozen=True)
class Contender:
    """One phase 2 agent to measure."""

    label: str
    impl: str  # switch.LEARNER or switch.SOLUTIONS
    enrichment: str  # KATA_ENRICHMENT: per-event or batched
    stub: str  # the module whose stub raise means "not written yet"
    task: str


@dataclass(frozen=True)
class Result:
    contender: Contender
    events_per_s: float | None  # None: not measured (see note)
    note: str = ""


CONTENDERS = (
    Contender("yours, per event", switch.LEARNER, "per-event", "katas/phase2/enrichment.py", "2.4"),
    Contender("yours, batched", switch.LEARNER, "batched", "katas/phase2/batching.py", "2.5"),
    Contender("reference, batched", switch.SOLUTIONS, "batched", "", "2.5"),
)


def bench(
    phase: int,
    readings: int,
    timeout: float,
    console: Console,
    progress: Console,
    root: Path,
) -> int:
    """Measure every contender of ``phase``; print the table; return the exit code."""
    if phase not in BENCHED_PHASES:
        raise BenchError(f"kata bench measures phase 2 only (the enrichment agents), not {phase}")
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    logging.getLogger("aiokafka").propagate = False
    results: list[Result] = []
    try:
        with provide_broker(lambda line: progress.print(line, highlight=False)) as broker:
            servers = broker.bootstrap_servers
            progress.print(f"broker: {servers} ({broker.source})", highlight=False)
            for contender in CONTENDERS:
                results.append(measure(contender, servers, readings, timeout, progress, root))
    except BrokerUnavailable as exc:
        raise BenchError(str(exc)) from None
    console.print(table(results, readings))
    return 0


def written(contender: Contender, root: Path) -> bool:
    """Whether the contender's module no longer raises its task's NotImplementedError."""
    from app.stub_check import raises_stub_error  # the worker's own test: the two always agree

    if not contender.stub:
        return True
    source = (root / contender.stub).read_text(encoding="utf-8")
    return not raises_stub_error(source, contender.task)


def measure(
    contender: Contender,
    servers: str,
    readings: int,
    timeout: float,
    progress: Console,
    root: Path,
) -> Result:
    if contender.impl == switch.LEARNER and not written(contender, root):
        return Result(contender, None, f"not written yet (task {contender.task} to do)")
    token = uuid.uuid4().hex[:8]
    prefix = f"bench-{token}-"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "KATA_APP_ID": f"kata-bench-{token}",
        "KATA_TOPIC_PREFIX": prefix,
        "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
        "KATA_PROCESSING_GUARANTEE": "at_least_once",
        "KATA_ENRICHMENT": contender.enrichment,
        switch.ENV_VAR: contender.impl,
    }
    topics = Topics.with_prefix(prefix)
    workdir = Path(tempfile.mkdtemp(prefix="kata-bench-"))
    progress.print(f"measuring {contender.label}: {readings:,} readings...", highlight=False)
    try:
        names = [topics.readings, topics.enriched, topics.dead_letter]
        asyncio.run(create_topics(servers, names, PARTITIONS))
        with running_worker(env, workdir, phases="2") as worker:
            timed = clocked(servers, topics, readings, timeout, worker.check_alive)
            seconds, seen = asyncio.run(timed)
        if seen < readings + 1:
            missing = f"only {max(seen - 1, 0):,} of {readings:,} outcomes in {timeout:g} s"
            return Result(contender, None, missing)
        return Result(contender, readings / seconds)
    except WorkerDied as exc:
        return Result(contender, None, f"the worker died: {str(exc).splitlines()[0]}")
    finally:
        asyncio.run(delete_topics(servers, prefix, env["KATA_APP_ID"]))
        shutil.rmtree(workdir, ignore_errors=True)


async def clocked(
    servers: str, topics: Topics, readings: int, timeout: float, check: Callable[[], None]
) -> tuple[float, int]:
    """(seconds, outcomes seen): one warm-up reading through, then ``readings`` timed."""
    await produce(servers, topics.readings, 1, seed=1)
    outputs = [topics.enriched, topics.dead_letter]
    async with committed_reader(servers, outputs) as consumer:
        seen, started = 0, 0.0
        producing: asyncio.Task[None] | None = None
        deadline = time.monotonic() + timeout
        while seen < readings + 1 and time.monotonic() < deadline:
            check()  # a worker that died says so now, not after the timeout
            batches = await consumer.getmany(timeout_ms=100)
            seen += sum(len(batch) for batch in batches.values())
            if seen and producing is None:
                started = time.monotonic()
                producing = asyncio.create_task(produce(servers, topics.readings, readings))
        if producing is not None:
            producing.cancel()
            with suppress(asyncio.CancelledError):
                await producing
        return time.monotonic() - started, seen


async def produce(servers: str, topic: str, count: int, seed: int = 11) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=20)
    await producer.start()
    try:
        events = generate_events(
            count, seed=seed, sensors=20, include_bad=True, start_time=time.time(), step=0.01
        )
        deliveries = [await producer.send(topic, e.value, key=e.key) for e in events]
        await asyncio.gather(*deliveries)
    finally:
        await producer.stop()


def table(results: list[Result], readings: int) -> Table:
    reference = next(
        (r.events_per_s for r in results if r.contender.impl == switch.SOLUTIONS), None
    )
    grid = Table(title=f"Phase 2 at_least_once, {readings:,} readings, 4 partitions")
    grid.add_column("agent")
    grid.add_column("events/s", justify="right")
    grid.add_column("vs reference", justify="right")
    grid.add_column("note")
    for result in results:
        rate = result.events_per_s
        share = f"{rate / reference:.0%}" if rate and reference else ""
        grid.add_row(result.contender.label, f"{rate:,.0f}" if rate else "-", share, result.note)
    return grid
