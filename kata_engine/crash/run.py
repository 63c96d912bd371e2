"""kata crash's two stages: workers started, fed, killed and read back."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from app.config import Settings
from kata_engine import switch
from kata_engine.broker import provide_broker
from kata_engine.crash.plan import (
    COMMIT_INTERVAL,
    DAY,
    FEED_PER_S,
    KILL_POINTS,
    MEET_BURSTS,
    MEET_NO_CLOSE_S,
    MEET_SENSORS,
    MEET_SETTINGS,
    OUTPUTS,
    PARTITIONS,
    PRELOAD,
    RESERVE,
    SESSION_EXPIRY_S,
    SETTINGS,
    SETTLE_S,
    START,
    WAIT_S,
    Event,
    make_events,
    meeting_bursts,
)
from kata_engine.crash.verdict import Kill, Verdict, expected_windows, judge
from kata_engine.worker import (
    Record,
    Worker,
    WorkerDied,
    committed_reader,
    create_topics,
    delete_topics,
    end_offsets,
    group_offsets,
    read_records,
    running_worker,
)


class CrashError(Exception):
    """The crash run could not run (no broker, a worker that never starts): one line."""


class Feeder(threading.Thread):
    """Sends the events: PRELOAD at once, a trickle while the workers die, then the rest."""

    def __init__(self, servers: str, topic: str, events: list[Event]) -> None:
        super().__init__(daemon=True)
        self.servers, self.topic, self.events = servers, topic, events
        self.preloaded, self.finishing = threading.Event(), threading.Event()
        self.fed = 0
        self.error: BaseException | None = None
        self.offsets: dict[tuple[int, int], Event] = {}  # (partition, offset) -> event

    def run(self) -> None:
        try:
            asyncio.run(self._feed())
        except BaseException as error:  # reported by the main thread
            self.error = error
        finally:
            self.preloaded.set()

    def finish(self) -> None:
        self.finishing.set()
        self.join(timeout=WAIT_S)

    async def _feed(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.servers, acks="all", enable_idempotence=True, linger_ms=10
        )
        await producer.start()
        try:
            pending = []
            for number, event in enumerate(self.events, start=1):
                delivery = await producer.send(
                    self.topic, value=event.value, key=event.key, partition=event.partition
                )
                pending.append((event, delivery))
                self.fed = number
                if number < PRELOAD or self.finishing.is_set():
                    continue
                await self._settle(producer, pending)
                if number == PRELOAD:
                    self.preloaded.set()
                elif number >= len(self.events) - RESERVE:
                    while not self.finishing.is_set():
                        await asyncio.sleep(0.1)
                elif number % (FEED_PER_S // 10) == 0:
                    await asyncio.sleep(0.1)
            await self._settle(producer, pending)
        finally:
            await producer.stop()

    async def _settle(self, producer: AIOKafkaProducer, pending: list[Any]) -> None:
        await producer.flush()
        for event, delivery in pending:
            metadata = await delivery
            self.offsets[(metadata.partition, metadata.offset)] = event
        pending.clear()


def _env(stage: str, settings: dict[str, str], solutions: bool) -> dict[str, str]:
    token = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        **settings,
        "KATA_APP_ID": f"kata-{stage}-{token}",
        "KATA_TOPIC_PREFIX": f"{stage}-{token}-",
        switch.ENV_VAR: switch.SOLUTIONS if solutions else switch.LEARNER,
    }
    try:
        Settings.from_env(env)
    except ValueError as exc:
        raise CrashError(f"bad configuration: {exc}") from None
    return env


def crash(solutions: bool, readings: int, say: Callable[[str], None]) -> tuple[Verdict, Verdict]:
    """Both stages on the learner's code (or the solutions): the agents meet, then the kills."""
    # aiokafka logs the retries it recovers from by itself (a new topic's leader moving):
    # noise here; a failure that matters reaches us as an exception.
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    logging.getLogger("aiokafka").propagate = False
    meet_env = _env("meet", MEET_SETTINGS, solutions)
    crash_env = _env("crash", SETTINGS, solutions)
    workdir = Path(tempfile.mkdtemp(prefix="kata-crash-"))
    with provide_broker(say) as broker:
        servers = broker.bootstrap_servers
        verdicts = []
        for env, stage in ((meet_env, _meet), (crash_env, _run)):
            env["KAFKA_BOOTSTRAP_SERVERS"] = servers
            try:
                verdicts.append(stage(servers, env, readings, workdir, say))
            except WorkerDied as exc:
                raise CrashError(
                    f"{str(exc).splitlines()[0]}; its log is in {workdir} (is every task of "
                    "phases 2-5 done? uv run kata status)"
                ) from None
            finally:
                asyncio.run(delete_topics(servers, env["KATA_TOPIC_PREFIX"], env["KATA_APP_ID"]))
    shutil.rmtree(workdir, ignore_errors=True)
    return verdicts[0], verdicts[1]


def _meet(
    servers: str, env: dict[str, str], _readings: int, workdir: Path, say: Callable[[str], None]
) -> Verdict:
    """Stage 1: bursts whose readings arrive while a tick closes their partition's windows."""
    prefix = env["KATA_TOPIC_PREFIX"]
    source = f"{prefix}sensor-readings"
    outputs = [f"{prefix}{name}" for name in OUTPUTS]
    asyncio.run(create_topics(servers, [source, *outputs, f"{prefix}window-ticks"], PARTITIONS))
    bursts = meeting_bursts()
    say(
        f"stage 1, the window agents meet (at_least_once, no kill): per partition "
        f"{MEET_BURSTS} bursts of {MEET_SENSORS} readings, each sent while a tick closes the "
        "previous one's windows"
    )
    with running_worker(env, _fresh(workdir, "meet"), phases="2,3,4,5") as worker:
        _wait(
            lambda: "[^Worker]: Ready" in worker.log.read_text(errors="replace"),
            worker,
            "the worker to be ready",
        )
        offsets = asyncio.run(_feed_on_closes(servers, source, outputs[2], bursts, worker))
        records = _settled_outputs(servers, outputs, len(offsets), worker)
        windows = expected_windows(offsets, records, env)
    return judge(offsets, [], records, windows, None, env)


async def _feed_on_closes(
    servers: str,
    topic: str,
    aggregates: str,
    bursts: dict[int, list[list[Event]]],
    worker: Worker,
) -> dict[tuple[int, int], Event]:
    """Send each partition's next burst when the previous burst's first aggregate appears."""
    size = float(MEET_SETTINGS["KATA_WINDOW_SIZE"])
    partition_of_sensor = {e.sensor: p for p, runs in bursts.items() for e in runs[0]}
    offsets: dict[tuple[int, int], Event] = {}
    sent = dict.fromkeys(bursts, 0)  # partition -> bursts sent
    since = dict.fromkeys(bursts, time.monotonic())
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=0)
    await producer.start()

    async def send(partition: int) -> None:
        burst = bursts[partition][sent[partition]]
        sent[partition] += 1
        since[partition] = time.monotonic()
        deliveries = [
            (
                event,
                await producer.send(
                    topic, value=event.value, key=event.key, partition=event.partition
                ),
            )
            for event in burst
        ]
        for event, delivery in deliveries:
            metadata = await delivery
            offsets[(metadata.partition, metadata.offset)] = event

    try:
        async with committed_reader(servers, [aggregates], at_end=True) as consumer:
            for partition in bursts:
                await send(partition)
            while any(n < MEET_BURSTS for n in sent.values()):
                worker.check_alive()
                batches = await consumer.getmany(timeout_ms=100)
                closing: set[int] = set()
                for batch in batches.values():
                    for record in batch:
                        value = json.loads(record.value or b"{}")
                        partition = partition_of_sensor.get(value.get("sensor_id"), -1)
                        last_start = START + partition * DAY + (sent.get(partition, 0) - 1) * size
                        if value.get("window_start") == last_start:
                            closing.add(partition)
                late = {p for p, at in since.items() if time.monotonic() - at > MEET_NO_CLOSE_S}
                for partition in sorted(closing | late):
                    if sent[partition] < MEET_BURSTS:
                        await send(partition)
    finally:
        await producer.stop()
    return offsets


def _run(
    servers: str, env: dict[str, str], readings: int, workdir: Path, say: Callable[[str], None]
) -> Verdict:
    """Stage 2: the readings flow while the worker is killed three times (exactly_once)."""
    say(f"stage 2, SIGKILLs (exactly_once): {readings} readings fed while the workers die")
    prefix, group = env["KATA_TOPIC_PREFIX"], env["KATA_APP_ID"]
    source = f"{prefix}sensor-readings"
    outputs = [f"{prefix}{name}" for name in OUTPUTS]
    asyncio.run(create_topics(servers, [source, *outputs, f"{prefix}window-ticks"], PARTITIONS))
    events = make_events(readings)
    feeder = Feeder(servers, source, events)
    feeder.start()
    feeder.preloaded.wait(timeout=WAIT_S)
    kills: list[Kill] = []
    for number, point in enumerate(KILL_POINTS):
        if number:
            time.sleep(SESSION_EXPIRY_S)  # the killed member leaves first: one rebalance
        with running_worker(env, _fresh(workdir, f"w{number}"), phases="2,3,4,5") as worker:
            _wait_ready(worker)
            committed = asyncio.run(_kill_at(point, worker, servers, group, source))
            ends = asyncio.run(_ends(servers, outputs))
            kills.append(Kill(point, feeder.fed, committed, ends))
            say(f"SIGKILL {point}: {feeder.fed} readings fed, {committed} committed")
    feeder.finish()
    if feeder.error is not None or feeder.is_alive():
        raise CrashError(f"the feeder failed: {feeder.error!r}")
    time.sleep(SESSION_EXPIRY_S)
    with running_worker(env, _fresh(workdir, "final"), phases="2,3,4,5") as worker:
        _wait_ready(worker)
        say("the last worker finishes the stream...")
        _wait(lambda: asyncio.run(_committed(servers, group, source)) >= len(events), worker)
        records = _settled_outputs(servers, outputs, len(events), worker)
        windows = expected_windows(feeder.offsets, records, env)
        served = _served_counts(worker, feeder.offsets)
    return judge(feeder.offsets, kills, records, windows, served, env)


def _fresh(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir()
    return path


def _wait(done: Callable[[], bool], worker: Worker, what: str = "every reading committed") -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        worker.check_alive()
        if time.monotonic() > deadline:
            raise CrashError(
                f"waited {WAIT_S:g} s for {what}; the worker log ends: "
                + worker.log_tail(5).replace("\n", " | ")
            )
        time.sleep(0.3)


def _wait_ready(worker: Worker) -> None:
    marks = ("[^Worker]: Ready", "transactional producers")
    _wait(
        lambda: all(mark in worker.log.read_text(errors="replace") for mark in marks),
        worker,
        "the worker to be ready",
    )


async def _committed(servers: str, group: str, topic: str) -> int:
    offsets = await group_offsets(servers, group)
    return sum(offset for tp, offset in offsets.items() if tp.topic == topic and offset > 0)


async def _kill_at(point: str, worker: Worker, servers: str, group: str, topic: str) -> int:
    """SIGKILL the worker (its whole process group) at ``point``; the committed readings then."""
    if point == "early":
        await asyncio.sleep(0.5)
    else:
        before = await _committed(servers, group, topic)
        deadline = time.monotonic() + 40.0
        while await _committed(servers, group, topic) == before and time.monotonic() < deadline:
            worker.check_alive()
            await asyncio.sleep(0.05)
        if point == "mid-interval":
            await asyncio.sleep(COMMIT_INTERVAL / 2)
    committed = await _committed(servers, group, topic)
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    return committed


async def _ends(servers: str, topics: list[str]) -> dict[tuple[str, int], int]:
    return {
        (tp.topic, tp.partition): end for tp, end in (await end_offsets(servers, topics)).items()
    }


def _settled_outputs(servers: str, outputs: list[str], events: int, worker: Worker) -> list[Record]:
    """Every output record, once the pipeline has written nothing for SETTLE_S.

    The enrichment agent finishing is not the end: the window agent (late dead letters,
    aggregates) runs behind it, and the last windows close only after the close delay, then
    become visible at the next commit. Silence longer than both means the pipeline is idle.
    """
    return asyncio.run(
        read_records(
            servers, outputs, events, worker=worker, timeout=WAIT_S, settle_ms=int(SETTLE_S * 1000)
        )
    )


def _served_counts(worker: Worker, offsets: dict[tuple[int, int], Event]) -> dict[str, int]:
    total = sum(1 for event in offsets.values() if event.reading_id is not None)
    url = f"http://127.0.0.1:{worker.web_port}/status/"

    def counts() -> dict[str, int]:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body: dict[str, Any] = json.load(response)
        except (OSError, ValueError):
            return {}
        served = body.get("readings_per_sensor", {})
        return {str(k): int(v) for k, v in served.items()} if isinstance(served, dict) else {}

    deadline = time.monotonic() + 30.0
    while sum(counts().values()) < total and time.monotonic() < deadline:
        worker.check_alive()
        time.sleep(0.5)
    time.sleep(3.0)  # a duplicate still on its way arrives by now
    return counts()
