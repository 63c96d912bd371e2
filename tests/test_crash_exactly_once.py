"""The crash test of phase 5: kill the whole reference pipeline mid-stream, restart, count.

The way Bytewax tests recovery, against a real broker: produce READINGS readings (some
malformed, event times spanning many windows), run phases 2-5 as a real worker subprocess, stop
it six times (three SIGKILLs, three SIGTERMs), restart it each time, let the last worker finish
the stream,
then read every output topic read_committed without joining a group and compare with the truth
computed from the input:

- at_least_once: nothing lost (every reading enriched or dead-lettered, every window emitted);
  duplicates are counted and printed, not asserted.
- exactly_once: nothing lost and nothing duplicated in enriched-readings, sensor-dead-letter and
  window-aggregates, every window's count exact, and the recovered per-sensor counts that
  /status/ serves equal the true counts; and no worker halts or needs a supervisor's restart
  (the watchdog's halt, a stall): the races are closed, so either is a failure; and no commit
  made with the streams drained left an acknowledged record out (the watchdog's audit): a hole
  in the books fails the test even when no kill landed in it.
- both: a worker stopped by SIGTERM exits by itself, with no traceback and no error while
  stopping in its log (the seconds it took are printed, never asserted).

The readings arrive while the workers live and die: a feeder thread sends PRELOAD at once, then a
steady trickle (FEED_PER_S) until the kills are over, then the rest; RESERVE of them are never
sent before the last kill, so every kill lands mid-stream however fast or slow the machine is.
The kill points: ``early`` (half a second after the worker is ready: its first transaction is
open, nothing of it committed), ``after-commit`` (as soon as the group's committed offsets of
the readings move: right after a commit) and ``mid-interval`` (half a commit interval after
such a commit), all SIGKILL to the worker's process group; ``term-rebalance`` (as the restarted
worker's recovery service starts: the signal lands while it joins the group, is assigned and
recovers, before it is ready), ``term-after-commit`` and ``term-mid-stream`` (1.7 s
after ready), SIGTERM to the worker process, as a supervisor stops it. A duplicate is charged to
the kill after which it was written (the output topics' end offsets are taken at every kill).
Run with ``-s`` to see the table.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from app.config import ErrorCode, Settings
from app.producer import KIND_HEADER, SEEDED_START_TIME, VALID, generate_events
from app.transport.watchdog import LEFT_BEHIND, STUCK_COMMIT
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import (
    Record,
    Worker,
    WorkerDied,
    create_topics,
    end_offsets,
    group_offsets,
    read_records,
    running_worker,
)

pytestmark = pytest.mark.kafka

READINGS = 20_000
PRELOAD = 4_000  # sent before the first worker starts
FEED_PER_S = 150  # then this many per second until the last kill
RESERVE = 2_000  # never sent before the last kill: on a slow machine the stream still flows
PARTITIONS = 4
WINDOW_SIZE = 60.0
# (kill point, signal): SIGKILL is a crash; SIGTERM is what a supervisor sends first, a clean stop.
KILL_POINTS: tuple[tuple[str, signal.Signals], ...] = (
    ("early", signal.SIGKILL),
    ("term-rebalance", signal.SIGTERM),
    ("after-commit", signal.SIGKILL),
    ("term-after-commit", signal.SIGTERM),
    ("mid-interval", signal.SIGKILL),
    ("term-mid-stream", signal.SIGTERM),
)
TERM_GUARD_S = 60.0  # a worker alive this long after SIGTERM hangs (a guard, not a measure)
# In the log of a worker stopped by SIGTERM, any of these is a failure.
TROUBLE = ("Traceback (most recent call last)", "Error while stopping", "Invalid state transition")
OUTPUTS = ("enriched-readings", "sensor-dead-letter", "window-aggregates")
WAIT_S = 420.0  # a guard against a hang, never a performance assertion
# A worker whose commit got stuck halts itself (app/transport/watchdog.py); like a supervisor, the
# test restarts it, and says so. More than this many in one run is a failure.
MAX_STUCK_RESTARTS = 3  # at_least_once only: under exactly_once one halt fails the test
STALL_S = 40.0  # committed offsets unchanged this long: stuck (the broker fences at 60 s)
SESSION_EXPIRY_S = 7.0  # BROKER_SESSION_TIMEOUT below, and a second for the broker to act
# A SIGKILLed member stays in the group until its session times out (Faust's default: 60 s);
# these make a restart quick. The close delay stays above the commit interval: under
# exactly_once a downstream agent sees enriched readings in bursts, one per commit.
FAST_RESTART = {
    "BROKER_SESSION_TIMEOUT": "6",
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "BROKER_REBALANCE_TIMEOUT": "10",
    "KATA_WINDOW_CLOSE_DELAY": "8",
    "KATA_WINDOW_TICK_INTERVAL": "1",
}


@dataclass
class Truth:
    """What the input says the outputs must be."""

    valid: dict[str, tuple[str, float]] = field(default_factory=dict)  # reading_id -> (sensor, ts)
    malformed: set[tuple[int, int]] = field(default_factory=set)  # (partition, offset)
    per_sensor: Counter[str] = field(default_factory=Counter)


@dataclass
class Kill:
    point: str
    committed: int  # readings whose offsets the group had committed when the worker died
    fed: int  # readings sent by then
    ends: dict[tuple[str, int], int]  # output (topic, partition) -> end offset at the kill
    exit_s: float | None = None  # SIGTERM: seconds from the signal to the process's exit
    trouble: list[str] = field(default_factory=list)  # SIGTERM: tracebacks, errors while stopping


@dataclass
class Outcome:
    guarantee: str
    kills: list[Kill]
    lost: dict[str, int]
    duplicated: dict[str, int]
    duplicated_per_kill: dict[str, Counter[str]]
    late: int
    counts_exact: bool
    counts_wrong: dict[str, tuple[int, int]]
    windows_wrong: list[str]
    seconds: float


def test_at_least_once_loses_nothing_across_sigkills_and_sigterms(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    outcome = crash_and_recover(
        "at_least_once", request.getfixturevalue("kafka_isolation"), tmp_path
    )
    print_table(outcome)
    assert not any(outcome.lost.values()), f"at_least_once lost outcomes: {outcome.lost}"
    assert_clean_stops(outcome)


def assert_clean_stops(outcome: Outcome) -> None:
    troubled = {kill.point: kill.trouble[:3] for kill in outcome.kills if kill.trouble}
    assert not troubled, (
        f"{outcome.guarantee}: a worker stopped by SIGTERM did not stop cleanly: {troubled}; "
        "expected an exit without a traceback or an error (what a supervisor sends first)"
    )


def test_exactly_once_loses_and_duplicates_nothing_across_sigkills_and_sigterms(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    outcome = crash_and_recover(
        "exactly_once", request.getfixturevalue("kafka_isolation"), tmp_path
    )
    print_table(outcome)
    assert_clean_stops(outcome)
    behind = left_behind(tmp_path)
    assert not behind, (
        f"a commit made with every delivered record acknowledged left some of them out, "
        f"{len(behind)} times; the first: {behind[0] if behind else ''}. Their outputs were "
        "committed without their offsets: a crash right after would process them again "
        "(app/transport/watchdog.py, LEFT_BEHIND)"
    )
    assert not any(outcome.lost.values()), f"exactly_once lost outcomes: {outcome.lost}"
    assert not any(outcome.duplicated.values()), (
        f"exactly_once duplicated outcomes {outcome.duplicated} (per kill: "
        f"{dict(outcome.duplicated_per_kill)}): an output and its source offset were not "
        "committed in one transaction (phase 5 README: the first-partition rule)"
    )
    assert not outcome.windows_wrong, (
        f"exactly_once window aggregates with a wrong count: {outcome.windows_wrong[:5]}"
    )
    assert outcome.counts_exact, (
        f"after the crashes /status/ counts (served, true) per sensor differ: "
        f"{outcome.counts_wrong}; the table changelog and the offsets were not one transaction"
    )


# --- the scenario ----------------------------------------------------------------------------


def crash_and_recover(guarantee: str, isolation: KafkaIsolation, tmp_path: Path) -> Outcome:
    started = time.monotonic()
    servers = isolation.bootstrap_servers
    readings = isolation.topic("sensor-readings")
    outputs = [isolation.topic(name) for name in OUTPUTS]
    asyncio.run(
        create_topics(servers, [readings, *outputs, isolation.topic("window-ticks")], PARTITIONS)
    )
    env = {
        **isolation.env(),
        **FAST_RESTART,
        "KATA_IMPL": "solutions",  # the reference pipeline, whatever the learner has done
        "KATA_PROCESSING_GUARANTEE": guarantee,
        "KATA_TOPIC_PARTITIONS": str(PARTITIONS),
    }
    interval = Settings.from_env(env).commit_interval_s  # the worker's own: kills land mid-interval
    feeder = Feeder(servers, readings)
    feeder.start()
    feeder.preloaded.wait(timeout=WAIT_S)

    kills: list[Kill] = []
    for number, (point, sig) in enumerate(KILL_POINTS):
        workdir = tmp_path / f"{guarantee}-{number}"
        workdir.mkdir()
        if not kills or kills[-1].exit_s is None:
            time.sleep(SESSION_EXPIRY_S)  # the killed member leaves first: one rebalance, not two
        with running_worker(env, workdir, phases="2,3,4,5") as worker:
            try:
                if point == "term-rebalance":
                    wait_until(
                        lambda: RECOVERING in worker.log.read_text(errors="replace"),
                        worker,
                        "the worker's recovery never started",
                    )
                else:
                    wait_ready(worker, guarantee)
                kill = asyncio.run(
                    kill_at(point, sig, worker, servers, isolation.app_id, readings, interval)
                )
            except WorkerDied:  # it halted itself before the kill: a crash all the same
                if guarantee == "exactly_once" or not halted_on_a_stuck_commit(worker):
                    raise  # under exactly_once a halt is a failure: the races are closed
                print(f"\n{guarantee}: the worker halted on a stuck commit before the {point} kill")
                committed = asyncio.run(committed_offsets(servers, isolation.app_id, readings))
                kill = Kill(point, committed, 0, {})
            kill.fed = feeder.fed
            kill.ends = asyncio.run(output_ends(servers, outputs))
            kills.append(kill)
    feeder.finish()
    assert feeder.error is None, f"the feeder failed: {feeder.error!r}"
    truth = read_truth(servers, readings)

    for restart in range(MAX_STUCK_RESTARTS + 1):
        workdir = tmp_path / f"{guarantee}-final-{restart}"
        workdir.mkdir()
        if restart or kills[-1].exit_s is None:
            time.sleep(SESSION_EXPIRY_S)
        with running_worker(env, workdir, phases="2,3,4,5") as worker:
            try:
                wait_ready(worker, guarantee)
                wait_for_every_commit(servers, isolation.app_id, readings, worker)
            except (WorkerDied, Stalled) as stuck:
                if guarantee == "exactly_once":
                    raise  # a halt or a supervisor's restart: the races are closed, it is a bug
                if restart == MAX_STUCK_RESTARTS or not (
                    isinstance(stuck, Stalled) or halted_on_a_stuck_commit(worker)
                ):
                    raise
                print(f"\n{guarantee}: the final worker got stuck ({stuck}); restarting it")
                with suppress(ProcessLookupError):
                    os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait()
                continue
            phase2 = asyncio.run(read_records(servers, outputs[:2], READINGS, worker=worker))
            windows = expected_windows(truth, late_reading_ids(phase2))
            aggregates = read_every_window(servers, outputs[2], windows, worker)
            status = served_counts(worker, sum(truth.per_sensor.values()))
            # Issue 18: re-read readings are replays, not late events; /status/ counts them.
            print(f"\n{guarantee}: replays per partition (/status/): {served_replays(worker)}")
        return judge(guarantee, truth, kills, phase2 + aggregates, windows, status, started)
    raise AssertionError("unreachable: the last attempt either returned or raised")


class Feeder(threading.Thread):
    """Sends the READINGS readings (seeded, some malformed): PRELOAD at once, then a trickle."""

    def __init__(self, servers: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.servers, self.topic = servers, topic
        self.preloaded = threading.Event()
        self.finishing = threading.Event()
        self.fed = 0
        self.error: BaseException | None = None

    def finish(self) -> None:
        """Send the rest at full speed; return once all of it is delivered."""
        self.finishing.set()
        self.join(timeout=WAIT_S)
        assert not self.is_alive(), f"the feeder did not finish within {WAIT_S:g} s"

    def run(self) -> None:
        try:
            asyncio.run(self._feed())
        except BaseException as error:  # reported by the test thread
            self.error = error
        finally:
            self.preloaded.set()

    async def _feed(self) -> None:
        events = generate_events(
            READINGS,
            seed=5,
            sensors=5,
            include_bad=True,
            start_time=SEEDED_START_TIME,
            step=1.0,  # event time: a reading per second, so the stream spans many windows
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=self.servers, acks="all", enable_idempotence=True, linger_ms=20
        )
        await producer.start()
        try:
            for number, event in enumerate(events):
                await producer.send(
                    self.topic,
                    value=event.value,
                    key=event.key,
                    headers=[(KIND_HEADER, event.kind.encode())],
                )
                self.fed = number + 1
                if self.fed < PRELOAD:
                    continue
                if self.fed == PRELOAD:
                    await producer.flush()
                    self.preloaded.set()
                elif self.finishing.is_set():
                    continue  # the kills are over: the rest at full speed
                elif self.fed >= READINGS - RESERVE:
                    await producer.flush()
                    while not self.finishing.is_set():
                        await asyncio.sleep(0.1)
                elif self.fed % (FEED_PER_S // 10) == 0:
                    await producer.flush()  # a tenth of a second's worth, then a pause
                    await asyncio.sleep(0.1)
            await producer.flush()
        finally:
            await producer.stop()


class Stalled(Exception):
    """The worker's committed offsets did not move for STALL_S (a liveness failure)."""


def wait_for_every_commit(servers: str, group: str, topic: str, worker: Worker) -> None:
    """Until every reading is committed; Stalled when nothing moves for STALL_S.

    Like a supervisor's liveness probe: a stalled worker is killed and restarted by the caller,
    and a restart must be as exact as any other crash.
    """
    deadline = time.monotonic() + WAIT_S
    last, moved = -1, time.monotonic()
    while True:
        committed = asyncio.run(committed_offsets(servers, group, topic))
        if committed >= READINGS:
            return
        worker.check_alive()
        if committed != last:
            last, moved = committed, time.monotonic()
        elif time.monotonic() - moved > STALL_S:
            raise Stalled(f"committed readings stuck at {committed} for {STALL_S:g} s")
        assert time.monotonic() < deadline, (
            f"the restarted worker did not commit every reading within {WAIT_S:g} s:\n"
            + worker.log_tail()
        )
        time.sleep(0.2)


def left_behind(tmp_path: Path) -> list[str]:
    """The audit's warnings (app/transport/watchdog.py) in the logs of every worker of the run."""
    return [
        line
        for log in sorted(tmp_path.glob("*/worker.log"))
        for line in log.read_text(errors="replace").splitlines()
        if LEFT_BEHIND in line
    ]


def halted_on_a_stuck_commit(worker: Worker) -> bool:
    """Did the worker halt itself because a commit never finished (app/transport/watchdog.py)?"""
    return STUCK_COMMIT in worker.log.read_text(errors="replace")


def read_every_window(
    servers: str, topic: str, windows: Counter[tuple[str, float]], worker: Worker
) -> list[Record]:
    """window-aggregates once every expected window is in it (copies do not count), settled.

    The last windows close only once their partition has been quiet for the close delay.
    """
    deadline = time.monotonic() + WAIT_S
    while True:
        records = asyncio.run(
            read_records(servers, [topic], len(windows), worker=worker, settle_ms=3000)
        )
        present = {
            (json.loads(r.value or b"")["sensor_id"], json.loads(r.value or b"")["window_start"])
            for r in records
        }
        if set(windows) <= present or time.monotonic() > deadline:
            return records
        time.sleep(1)


def wait_ready(worker: Worker, guarantee: str) -> None:
    """Until the worker owns its partitions (and, under exactly_once, its transactions)."""
    marks = ["[^Worker]: Ready"]
    if guarantee == "exactly_once":
        marks.append("transactional producers")
    wait_until(
        lambda: all(mark in worker.log.read_text(errors="replace") for mark in marks),
        worker,
        f"the worker never logged {marks}",
    )


# The restarted worker's recovery service starts (before it joins the group). Its recovery of
# these in-memory tables takes milliseconds once assigned, so a SIGTERM sent now lands while the
# worker joins the group, is assigned and recovers: before it is ready.
RECOVERING = "[^---Recovery]: Starting..."


async def kill_at(
    point: str,
    sig: signal.Signals,
    worker: Worker,
    servers: str,
    group: str,
    topic: str,
    interval: float,
) -> Kill:
    """Send ``sig`` to the worker at ``point``; the committed readings at that moment.

    SIGKILL goes to the worker's whole process group, a crash. SIGTERM goes to the worker
    process, as a supervisor sends it, and the worker must exit by itself, without a traceback.
    """
    if point == "early":
        await asyncio.sleep(0.5)
    elif point == "term-mid-stream":
        await asyncio.sleep(interval * 0.6)
    elif point != "term-rebalance":
        before = await committed_offsets(servers, group, topic)
        deadline = time.monotonic() + STALL_S
        while await committed_offsets(servers, group, topic) == before:
            worker.check_alive()
            if time.monotonic() > deadline:
                break  # no commit yet: a crash point all the same
            await asyncio.sleep(0.05)
        if point == "mid-interval":
            await asyncio.sleep(interval / 2)
    committed = await committed_offsets(servers, group, topic)
    kill = Kill(point, committed, 0, {})
    if sig == signal.SIGKILL:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
        return kill
    signalled = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(worker.process.wait, TERM_GUARD_S)
    except subprocess.TimeoutExpired:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
        kill.trouble.append(f"still alive {TERM_GUARD_S:g} s after SIGTERM")
    kill.exit_s = time.monotonic() - signalled
    kill.trouble += [
        line
        for line in worker.log.read_text(errors="replace").splitlines()
        if any(mark in line for mark in TROUBLE)
    ]
    return kill


async def committed_offsets(servers: str, group: str, topic: str) -> int:
    """The sum of the group's committed offsets on ``topic``."""
    offsets = await group_offsets(servers, group)
    return sum(offset for tp, offset in offsets.items() if tp.topic == topic and offset > 0)


async def output_ends(servers: str, topics: list[str]) -> dict[tuple[str, int], int]:
    ends = await end_offsets(servers, topics)
    return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}


def wait_until(done: Callable[[], bool], worker: Worker, failure: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        worker.check_alive()
        assert time.monotonic() < deadline, f"{failure} within {WAIT_S:g} s:\n{worker.log_tail()}"
        time.sleep(0.2)


def served_counts(worker: Worker, total: int) -> dict[str, int]:
    """/status/'s per-sensor counts once they add up to at least ``total`` (then settled)."""
    url = f"http://127.0.0.1:{worker.web_port}/status/"

    def counts() -> dict[str, int]:
        with urllib.request.urlopen(url, timeout=10) as response:
            body: dict[str, Any] = json.load(response)
        served: dict[str, int] = body["readings_per_sensor"]
        return served

    wait_until(lambda: sum(counts().values()) >= total, worker, "/status/ never counted it all")
    time.sleep(3)  # anything still to come (a duplicate) has arrived by now
    return counts()


def served_replays(worker: Worker) -> dict[str, int]:
    """/status/'s replays_per_partition: readings the window state had already taken in."""
    url = f"http://127.0.0.1:{worker.web_port}/status/"
    with urllib.request.urlopen(url, timeout=10) as response:
        replays: dict[str, int] = json.load(response).get("replays_per_partition", {})
    return replays


# --- the truth and the verdict ---------------------------------------------------------------


def read_truth(servers: str, topic: str) -> Truth:
    truth = Truth()
    for record in asyncio.run(read_records(servers, [topic], READINGS)):
        if record.headers.get(KIND_HEADER) == VALID.encode():
            reading = json.loads(record.value or b"")
            truth.valid[reading["reading_id"]] = (reading["sensor_id"], reading["timestamp"])
            truth.per_sensor[reading["sensor_id"]] += 1
        else:
            truth.malformed.add((record.partition, record.offset))
    assert len(truth.valid) + len(truth.malformed) == READINGS, "the producer sent a duplicate"
    return truth


def late_reading_ids(records: list[Record]) -> set[str]:
    late: set[str] = set()
    for record in records:
        letter = json.loads(record.value or b"")
        if record.topic.endswith("sensor-dead-letter") and letter["error_code"] == "late_event":
            late.add(json.loads(_decode(letter["payload_base64"]))["reading_id"])
    return late


def _decode(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


def expected_windows(truth: Truth, late: set[str]) -> Counter[tuple[str, float]]:
    """(sensor, window start) -> readings in it, for every reading not dead-lettered late."""
    windows: Counter[tuple[str, float]] = Counter()
    for reading_id, (sensor, timestamp) in truth.valid.items():
        if reading_id not in late:
            windows[(sensor, math.floor(timestamp / WINDOW_SIZE) * WINDOW_SIZE)] += 1
    return windows


def judge(
    guarantee: str,
    truth: Truth,
    kills: list[Kill],
    records: list[Record],
    windows: Counter[tuple[str, float]],
    served: Mapping[str, int],
    started: float,
) -> Outcome:
    seen: dict[str, Counter[Any]] = {name: Counter() for name in OUTPUTS}
    per_kill: dict[str, Counter[str]] = {name: Counter() for name in OUTPUTS}
    window_counts: dict[tuple[str, float], int] = {}
    late = 0
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        name = next(n for n in OUTPUTS if record.topic.endswith(n))
        value = json.loads(record.value or b"")
        if name == "enriched-readings":
            identity: Any = value["reading_id"]
        elif name == "sensor-dead-letter":
            if value["error_code"] == ErrorCode.LATE_EVENT.value:
                late += 1
                continue  # a second outcome of an enriched reading, counted apart
            identity = (value["source_partition"], value["source_offset"])
        else:
            identity = (value["sensor_id"], value["window_start"])
            window_counts[identity] = value["count"]
        seen[name][identity] += 1
        if seen[name][identity] > 1:  # a copy: charge it to the kill it followed
            per_kill[name][charged_kill(kills, record)] += 1
    expected: dict[str, set[Any]] = {
        "enriched-readings": set(truth.valid),
        "sensor-dead-letter": set(truth.malformed),
        "window-aggregates": set(windows),
    }
    lost = {name: len(expected[name] - set(seen[name])) for name in OUTPUTS}
    duplicated = {name: sum(n - 1 for n in seen[name].values()) for name in OUTPUTS}
    wrong_windows = [
        f"{key}: {window_counts[key]} readings, expected {count}"
        for key, count in windows.items()
        if key in window_counts and window_counts[key] != count
    ]
    counts_wrong = {
        sensor: (served.get(sensor, 0), true)
        for sensor, true in truth.per_sensor.items()
        if served.get(sensor, 0) != true
    }
    return Outcome(
        guarantee,
        kills,
        lost,
        duplicated,
        per_kill,
        late,
        not counts_wrong and set(served) == set(truth.per_sensor),
        counts_wrong,
        wrong_windows,
        time.monotonic() - started,
    )


def charged_kill(kills: list[Kill], record: Record) -> str:
    """The kill after which ``record`` was written (the first worker's: "none")."""
    point = "none"
    for kill in kills:
        if record.offset >= kill.ends[(record.topic, record.partition)]:
            point = kill.point
    return point


def print_table(outcome: Outcome) -> None:
    short = {
        "enriched-readings": "enriched",
        "sensor-dead-letter": "dead",
        "window-aggregates": "windows",
    }
    terms = sum(1 for kill in outcome.kills if kill.exit_s is not None)
    print(
        f"\n{outcome.guarantee}: {READINGS} readings, {len(outcome.kills) - terms} SIGKILLs, "
        f"{terms} SIGTERMs, {outcome.seconds:.0f} s"
    )
    print(
        f"{'kill point':<18}{'fed':>7}{'committed':>10}  "
        + "  ".join(f"dup {short[n]:>8}" for n in OUTPUTS)
        + "  SIGTERM to exit"
    )
    for kill in outcome.kills:
        dups = "  ".join(f"{outcome.duplicated_per_kill[n][kill.point]:>12}" for n in OUTPUTS)
        stop = "" if kill.exit_s is None else f"  {kill.exit_s:.1f} s"
        stop += f" ({len(kill.trouble)} trouble lines)" if kill.trouble else ""
        print(f"{kill.point:<18}{kill.fed:>7}{kill.committed:>10}  {dups}{stop}")
    print(
        "total: lost "
        + ", ".join(f"{short[n]} {outcome.lost[n]}" for n in OUTPUTS)
        + "; duplicated "
        + ", ".join(f"{short[n]} {outcome.duplicated[n]}" for n in OUTPUTS)
        + f"; late {outcome.late}; per-sensor counts exact: {outcome.counts_exact}"
        + (f" (served, true): {outcome.counts_wrong}" if outcome.counts_wrong else "")
        + f"; windows with a wrong count: {len(outcome.windows_wrong)}"
    )
