"""``uv run kata crash``: YOUR pipeline (phases 2-5) under stress and SIGKILL, then a verdict.

Phase 5's lesson is that exactly_once survives a crash. This runs your code (the reference
solutions only with ``kata --solutions crash``), on a broker from the chain (as ``kata demo``),
with topics of its own that are deleted at the end, in two stages:

1. The window agents meet (at_least_once, no kill). Per partition, bursts of readings, each a
   new window for each of the partition's sensors (last sensor first); every burst is sent as
   soon as the previous burst's first aggregate appears, that is while a tick is closing that
   partition's windows, one sensor and one broker round trip after another. (Under
   exactly_once the ticks and the readings become visible together at each commit and rarely
   meet: that is why this stage runs at_least_once.) Without ``partition_lock`` a reading
   folded across the close's await is lost when the close writes its stale state back.
2. SIGKILLs (exactly_once). A feeder sends readings the whole time (some malformed) while the
   worker is killed three times (``early``: just after it is ready; ``after-commit``: right
   after the group's committed offsets moved; ``mid-interval``: half a commit interval
   later), restarted each time; the last one finishes the stream.

In both, each partition has its own sensors and its own event-time line, a day apart from the
next partition's, always in order: a per-partition horizon finds a reading late only in a
window its own partition had already reached. Every output topic is read read_committed and
compared with the truth from the input. What it checks, each failure naming its task:

- every reading ends as exactly one enriched reading or dead letter (tasks 2.4, 5.1);
- no output twice (5.1: exactly_once);
- every window emitted once, with exactly the readings it holds (4.5: the lock; closing);
- no reading dead-lettered late before its own partition reached its window (4.5: one
  horizon per partition);
- /status/ counts every reading exactly once, after the kills (3.1, 5.3).
"""

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
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import murmur2

from app.config import ErrorCode, Settings
from kata_engine import switch
from kata_engine.broker import provide_broker
from kata_engine.worker import (
    Record,
    Worker,
    WorkerDied,
    committed_reader,
    create_topics,
    end_offsets,
    group_offsets,
    read_records,
    running_worker,
)

PARTITIONS = 4
SENSORS_PER_PARTITION = 6
DAY = 86_400.0  # partition p's event time runs p days ahead of partition 0's
STEP = 0.5  # event-time seconds between two readings of one partition
START = 1_735_689_600.0  # 2025-01-01T00:00:00Z
MALFORMED_EVERY = 23
FEED_PER_S = 160  # readings per second, all partitions, while the workers die
PRELOAD = 800  # sent before the first worker starts
RESERVE = 1_200  # never sent before the last kill: every kill lands mid-stream
KILL_POINTS = ("early", "after-commit", "mid-interval")
COMMIT_INTERVAL = 2.8  # Faust's broker_commit_interval (default)
SESSION_EXPIRY_S = 7.0  # the killed member's session (6 s below) must end before a restart
WAIT_S = 300.0  # a guard against a hang, not a performance figure
# Output silence that means the pipeline is idle: above the close delay (1 s) plus a tick (0.5 s)
# plus a commit interval (2.8 s), the longest a window's aggregate may take to become visible.
SETTLE_S = 6.0
OUTPUTS = ("enriched-readings", "sensor-dead-letter", "window-aggregates")
SETTINGS = {
    "BROKER_SESSION_TIMEOUT": "6",
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "BROKER_REBALANCE_TIMEOUT": "10",
    "KATA_WINDOW_SIZE": "10",
    "KATA_WINDOW_GRACE": "2",
    "KATA_WINDOW_CLOSE_DELAY": "1",  # below the commit interval: ticks race the readings
    "KATA_WINDOW_TICK_INTERVAL": "0.5",
    "KATA_PROCESSING_GUARANTEE": "exactly_once",
    "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
}


# Stage 1, "the agents meet": at_least_once (every output visible at once), no kill. Partition
# by partition, a burst of readings opens a new window for each of its sensors; the next burst
# is sent as soon as the first aggregate of the previous one appears, that is while a tick is
# closing that partition's windows, one sensor (and one broker round trip) after another.
MEET_SETTINGS = {
    **SETTINGS,
    "KATA_PROCESSING_GUARANTEE": "at_least_once",
    "KATA_WINDOW_GRACE": "10",  # a burst never closes the previous window itself: ticks do
    "KATA_WINDOW_CLOSE_DELAY": "0.4",
    "KATA_WINDOW_TICK_INTERVAL": "0.1",
}
MEET_SENSORS = 60  # per partition: a tick's close awaits one delivery per sensor
MEET_BURSTS = 10  # per partition
MEET_NO_CLOSE_S = 8.0  # no aggregate of a burst by then: send the next one all the same


class CrashError(Exception):
    """The crash run could not run (no broker, a worker that never starts): one line."""


@dataclass(frozen=True)
class Event:
    key: bytes
    value: bytes
    partition: int
    reading_id: str | None  # None: malformed
    sensor: str
    timestamp: float


def partition_of(key: bytes, partitions: int = PARTITIONS) -> int:
    """The partition Kafka's default partitioner (and so Faust's producer) picks for ``key``."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


def sensors_by_partition(per_partition: int = SENSORS_PER_PARTITION) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    number = 0
    while any(len(found[p]) < per_partition for p in range(PARTITIONS)):
        number += 1
        sensor = f"sensor-{number:03d}"
        partition = partition_of(sensor.encode())
        if len(found[partition]) < per_partition:
            found[partition].append(sensor)
    return dict(found)


def reading_event(partition: int, sensor: str, reading_id: str, timestamp: float) -> Event:
    reading = {
        "reading_id": reading_id,
        "sensor_id": sensor,
        "temperature": round(15.0 + (len(reading_id) + int(timestamp)) % 31 * 0.5, 2),
        "humidity": 45.0,
        "timestamp": timestamp,
    }
    value = json.dumps(reading, separators=(",", ":")).encode()
    return Event(sensor.encode(), value, partition, reading_id, sensor, timestamp)


def meeting_bursts() -> dict[int, list[list[Event]]]:
    """Per partition, burst k: one reading per sensor in window k of the partition's time line.

    Within a burst the event times still rise (the last sensor's reading is the earliest).
    """
    size = float(MEET_SETTINGS["KATA_WINDOW_SIZE"])
    sensors = sensors_by_partition(MEET_SENSORS)
    return {
        partition: [
            [
                reading_event(
                    partition,
                    sensor,
                    f"meet-{partition}-{burst:03d}-{index:03d}",
                    START + partition * DAY + burst * size + (MEET_SENSORS - index) * 0.01,
                )
                # Last sensor first: a close goes through the sensors in order, so the burst
                # reaches the sensors the close has not reached yet.
                for index, sensor in reversed(list(enumerate(sensors[partition])))
            ]
            for burst in range(MEET_BURSTS)
        ]
        for partition in range(PARTITIONS)
    }


def make_events(count: int) -> list[Event]:
    """``count`` events, round robin over the partitions, each partition in event-time order."""
    sensors = sensors_by_partition()
    events: list[Event] = []
    for n in range(count):
        partition, step = n % PARTITIONS, n // PARTITIONS
        sensor = sensors[partition][step % SENSORS_PER_PARTITION]
        timestamp = START + partition * DAY + step * STEP
        if n % MALFORMED_EVERY == MALFORMED_EVERY - 1:
            value = b'{"sensor_id": "' + sensor.encode() + b'", "temperature": "hot"'
            events.append(Event(sensor.encode(), value, partition, None, sensor, timestamp))
            continue
        reading_id = f"crash-{partition}-{step:06d}"
        events.append(reading_event(partition, sensor, reading_id, timestamp))
    return events


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


@dataclass
class Kill:
    point: str
    fed: int
    committed: int
    ends: dict[tuple[str, int], int]  # output (topic, partition) -> end offset at the kill


@dataclass
class Verdict:
    kills: list[Kill]
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    duplicated_per_kill: dict[str, Counter[str]] = field(default_factory=dict)
    late: int = 0
    late_too_early: list[str] = field(default_factory=list)
    windows_wrong: list[str] = field(default_factory=list)
    windows_missing: list[str] = field(default_factory=list)
    counts_wrong: dict[str, tuple[int, int]] = field(default_factory=dict)

    def failures(self) -> list[str]:
        """One sentence per broken rule, naming the task."""
        found: list[str] = []
        if self.lost.get("enriched-readings") or self.lost.get("sensor-dead-letter"):
            found.append(
                f"readings without an outcome: {self.lost['enriched-readings']} valid readings "
                f"never enriched, {self.lost['sensor-dead-letter']} malformed never "
                "dead-lettered (task 2.4: every event ends as exactly one outcome; 5.1: "
                "exactly_once)"
            )
        if any(self.duplicated.values()):
            found.append(
                f"outputs written twice: {self.duplicated} (task 5.1: under exactly_once an "
                "output and its source offset commit in one transaction; send every output "
                "in its source event's partition, phase 5 README)"
            )
        if self.late_too_early:
            found.append(
                f"{len(self.late_too_early)} readings dead-lettered as late while their own "
                f"partition had not reached their window, e.g. {self.late_too_early[:3]} "
                "(task 4.5: one horizon per partition, window_horizon[str(partition)]; "
                "another partition's event time must never close this one's windows)"
            )
        if self.windows_wrong or self.windows_missing:
            found.append(
                f"windows emitted with a wrong count ({len(self.windows_wrong)}, e.g. "
                f"{self.windows_wrong[:3]}) or never ({len(self.windows_missing)}, e.g. "
                f"{self.windows_missing[:3]}) (task 4.5: every window is emitted once with "
                "every reading folded into it. Both agents hold partition_lock(partition) for "
                "an event's whole work: a reading folded while a tick's close awaits the "
                "broker is lost when the close writes its stale state back. And a partition's "
                "windows close when that partition's own horizon passes them)"
            )
        if self.counts_wrong:
            sample = dict(list(self.counts_wrong.items())[:3])
            found.append(
                f"/status/ counts (served, true) differ for {len(self.counts_wrong)} sensors, "
                f"e.g. {sample} (task 3.1's counts through the table, 5.3's page; under "
                "exactly_once a crash neither loses nor repeats a count)"
            )
        return found


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
                asyncio.run(_delete_topics(servers, env["KATA_TOPIC_PREFIX"], env["KATA_APP_ID"]))
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
        windows = _expected_windows(offsets, records, env)
    return _judge(offsets, [], records, windows, None, env)


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
        windows = _expected_windows(feeder.offsets, records, env)
        served = _served_counts(worker, feeder.offsets)
    return _judge(feeder.offsets, kills, records, windows, served, env)


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


def _window_start(timestamp: float, size: float) -> float:
    index = int(timestamp // size)
    return index * size


def _late_ids(records: list[Record]) -> set[str]:
    import base64

    late: set[str] = set()
    for record in records:
        if not record.topic.endswith("sensor-dead-letter"):
            continue
        letter = json.loads(record.value or b"{}")
        if letter.get("error_code") == ErrorCode.LATE_EVENT.value:
            payload = json.loads(base64.b64decode(letter["payload_base64"]))
            late.add(payload["reading_id"])
    return late


def _expected_windows(
    offsets: dict[tuple[int, int], Event], records: list[Record], env: dict[str, str]
) -> Counter[tuple[str, float]]:
    size = float(env["KATA_WINDOW_SIZE"])
    late = _late_ids(records)
    windows: Counter[tuple[str, float]] = Counter()
    for event in offsets.values():
        if event.reading_id is not None and event.reading_id not in late:
            windows[(event.sensor, _window_start(event.timestamp, size))] += 1
    return windows


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


def _judge(
    offsets: dict[tuple[int, int], Event],
    kills: list[Kill],
    records: list[Record],
    windows: Counter[tuple[str, float]],
    served: dict[str, int] | None,
    env: dict[str, str],
) -> Verdict:
    verdict = Verdict(kills)
    size = float(env["KATA_WINDOW_SIZE"])
    seen: dict[str, Counter[Any]] = {name: Counter() for name in OUTPUTS}
    verdict.duplicated_per_kill = {name: Counter() for name in OUTPUTS}
    emitted: dict[tuple[str, float], int] = {}
    by_id = {e.reading_id: (p, o, e) for (p, o), e in offsets.items() if e.reading_id}
    newest_before: dict[tuple[int, int], float] = {}  # (partition, offset) -> newest window end
    for partition in range(PARTITIONS):
        newest = float("-inf")
        for (p, offset), event in sorted(offsets.items()):
            if p != partition or event.reading_id is None:
                continue
            newest_before[(p, offset)] = newest
            newest = max(newest, _window_start(event.timestamp, size) + size)
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        name = next(n for n in OUTPUTS if record.topic.endswith(n))
        value = json.loads(record.value or b"{}")
        identity: Any
        if name == "enriched-readings":
            identity = value.get("reading_id")
        elif name == "sensor-dead-letter":
            if value.get("error_code") == ErrorCode.LATE_EVENT.value:
                verdict.late += 1
                _check_late(value, by_id, newest_before, size, verdict)
                continue
            identity = (value.get("source_partition"), value.get("source_offset"))
        else:
            identity = (value.get("sensor_id"), value.get("window_start"))
            emitted[identity] = int(value.get("count", -1))
        seen[name][identity] += 1
        if seen[name][identity] > 1:
            verdict.duplicated_per_kill[name][_charged(kills, record)] += 1
    valid = {e.reading_id for e in offsets.values() if e.reading_id is not None}
    malformed = {(p, o) for (p, o), e in offsets.items() if e.reading_id is None}
    verdict.lost = {
        "enriched-readings": len(valid - set(seen["enriched-readings"])),
        "sensor-dead-letter": len(malformed - set(seen["sensor-dead-letter"])),
        "window-aggregates": len(set(windows) - set(seen["window-aggregates"])),
    }
    verdict.duplicated = {name: sum(n - 1 for n in seen[name].values()) for name in OUTPUTS}
    for window, count in sorted(windows.items()):
        if window not in emitted:
            verdict.windows_missing.append(f"{window[0]} @ {window[1]:.0f}: {count} readings")
        elif emitted[window] != count:
            verdict.windows_wrong.append(
                f"{window[0]} @ {window[1]:.0f}: emitted {emitted[window]}, holds {count}"
            )
    truth = Counter(e.sensor for e in offsets.values() if e.reading_id is not None)
    if served is None:  # not asked
        return verdict
    verdict.counts_wrong = {
        sensor: (served.get(sensor, 0), true)
        for sensor, true in sorted(truth.items())
        if served.get(sensor, 0) != true
    }
    return verdict


def _check_late(
    letter: dict[str, Any],
    by_id: dict[str, tuple[int, int, Event]],
    newest_before: dict[tuple[int, int], float],
    size: float,
    verdict: Verdict,
) -> None:
    """A late reading must be in a window its own partition had already reached."""
    import base64

    reading_id = json.loads(base64.b64decode(letter["payload_base64"])).get("reading_id")
    if reading_id not in by_id:
        return
    partition, offset, event = by_id[reading_id]
    window_end = _window_start(event.timestamp, size) + size
    if window_end > newest_before[(partition, offset)]:
        verdict.late_too_early.append(str(reading_id))


def _charged(kills: list[Kill], record: Record) -> str:
    point = "none"
    for kill in kills:
        if record.offset >= kill.ends.get((record.topic, record.partition), 0):
            point = kill.point
    return point


async def _delete_topics(servers: str, prefix: str, app_id: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    try:
        await asyncio.wait_for(admin.start(), 15)
        names = [t for t in await admin.list_topics() if t.startswith((prefix, app_id))]
        if names:
            await asyncio.wait_for(admin.delete_topics(names), 30)
    except Exception:  # cleanup is best effort: the topics are unique to this run
        pass
    finally:
        await admin.close()


def meeting_line(verdict: Verdict) -> str:
    """Stage 1 in one line."""
    return (
        f"stage 1: windows wrong {len(verdict.windows_wrong)}, missing "
        f"{len(verdict.windows_missing)}; late {verdict.late} (before their partition's "
        f"horizon: {len(verdict.late_too_early)}); lost enriched "
        f"{verdict.lost['enriched-readings']}, dead {verdict.lost['sensor-dead-letter']}"
    )


def table(verdict: Verdict) -> list[str]:
    """The lines ``kata crash`` prints: one row per kill point, then the totals."""
    short = {
        "enriched-readings": "enriched",
        "sensor-dead-letter": "dead",
        "window-aggregates": "windows",
    }
    lines = [
        f"{'kill point':<14}{'fed':>7}{'committed':>11}  "
        + "  ".join(f"{'dup ' + short[n]:>13}" for n in OUTPUTS)
    ]
    for kill in verdict.kills:
        dups = "  ".join(f"{verdict.duplicated_per_kill[n][kill.point]:>13}" for n in OUTPUTS)
        lines.append(f"{kill.point:<14}{kill.fed:>7}{kill.committed:>11}  {dups}")
    lines.append(
        "total: lost "
        + ", ".join(f"{short[n]} {verdict.lost[n]}" for n in OUTPUTS)
        + "; duplicated "
        + ", ".join(f"{short[n]} {verdict.duplicated[n]}" for n in OUTPUTS)
        + f"; late {verdict.late} (of which before their partition's horizon: "
        + f"{len(verdict.late_too_early)}); windows wrong {len(verdict.windows_wrong)}, "
        + f"missing {len(verdict.windows_missing)}; /status/ counts wrong "
        + f"{len(verdict.counts_wrong)}"
    )
    return lines
