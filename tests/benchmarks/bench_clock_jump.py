"""One sensor's clock jumps: ``uv run python -m tests.benchmarks.bench_clock_jump``.

The experiment of issue 23, on a real broker with the reference pipeline (phases 2-5,
at_least_once unless ``--guarantee``): 200 readings from 5 sensors, one second apart (event
time ending about now), then ONE reading per jumping sensor dated ``--jump-to`` (default
2100-01-01, the issue's case; ``ahead`` is 240 s after the last reading, inside the 300 s skew
that validation allows), then 200 more on-time readings. When the outputs have stopped growing
(every reading accounted for, then quiet) it prints what came out:

- late dead letters (``late_event``) and clock dead letters (``timestamp_*``);
- window aggregates, and the on-time readings they count;
- on-time readings lost to windows: on-time readings counted in no aggregate (the goal: 0).

``--source DIR`` runs the worker from another checkout (``mkdir DIR; git archive main |
tar -x -C DIR``) to measure the code before a change with the same script. It asserts
nothing; the kafka test ``tests/test_clock_jump.py`` asserts the one figure that must hold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer

from app.models import DeadLetter, WindowAggregate
from kata_engine.broker import provide_broker
from kata_engine.worker import Worker, committed_reader, create_topics, running_worker

SENSORS = [f"sensor-{n:03d}" for n in range(1, 6)]
YEAR_2100 = 4_102_444_800.0
NAMES = ["sensor-readings", "enriched-readings", "sensor-dead-letter", "window-aggregates"]


@dataclass(frozen=True)
class Outcome:
    """What the pipeline made of the experiment's readings."""

    on_time: int  # on-time readings sent
    jumped: int  # readings sent with a jumped clock
    late_dead_letters: int
    clock_dead_letters: int
    other_dead_letters: int
    aggregates: int
    duplicated_windows: int
    counted_on_time: int  # on-time readings counted in aggregates
    counted_jumped: int  # readings counted in windows at or after the jump's time
    lost_of_others: int  # on-time readings of the sensors whose clock did NOT jump, in no window

    @property
    def lost_on_time(self) -> int:
        return self.on_time - self.counted_on_time

    def table(self) -> str:
        return "\n".join(
            [
                f"readings sent: {self.on_time} on time + {self.jumped} with a jumped clock",
                f"late dead letters (late_event): {self.late_dead_letters}",
                f"clock dead letters (timestamp_*): {self.clock_dead_letters}",
                f"other dead letters: {self.other_dead_letters}",
                f"window aggregates: {self.aggregates} (windows emitted twice: "
                f"{self.duplicated_windows})",
                f"on-time readings counted in aggregates: {self.counted_on_time}",
                f"jumped readings counted in aggregates: {self.counted_jumped}",
                f"on-time readings lost to windows: {self.lost_on_time} (of sensors whose "
                f"clock did not jump: {self.lost_of_others})",
            ]
        )


def readings(
    now: float, per_phase: int, jump_to: float, jumping: list[str]
) -> tuple[list[dict[str, object]], float]:
    """The readings in sending order, and the first event time that counts as "jumped"."""
    start = now - 2 * per_phase  # the last on-time reading is stamped about now
    sent: list[dict[str, object]] = []

    def reading(n: int, sensor: str, timestamp: float) -> dict[str, object]:
        return {
            "reading_id": f"r-{n}",
            "sensor_id": sensor,
            "temperature": 20.0 + n % 7,
            "humidity": 50.0,
            "timestamp": timestamp,
        }

    for n in range(per_phase):
        sent.append(reading(n, SENSORS[n % len(SENSORS)], start + n))
    for index, sensor in enumerate(jumping):
        sent.append(reading(10_000 + index, sensor, jump_to))
    for n in range(per_phase, 2 * per_phase):
        sent.append(reading(n, SENSORS[n % len(SENSORS)], start + n))
    return sent, jump_to


async def produce(servers: str, topic: str, sent: list[dict[str, object]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
    await producer.start()
    try:
        for record in sent:  # one by one, in order: the jump sits between the two halves
            key = str(record["sensor_id"]).encode()
            await producer.send_and_wait(topic, json.dumps(record).encode(), key=key)
    finally:
        await producer.stop()


async def collect(
    servers: str,
    topics: list[str],
    worker: Worker,
    *,
    readings: int,
    quiet: float,
    timeout: float,
) -> list[tuple[str, bytes]]:
    """Every record of ``topics`` (read_committed) once every reading has an outcome (a dead
    letter, or a place in an aggregate's count) and then none arrived for ``quiet`` seconds."""
    records: list[tuple[str, bytes]] = []
    outcomes = 0
    async with committed_reader(servers, topics) as consumer:
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while time.monotonic() < deadline:
            if outcomes >= readings and time.monotonic() - last >= quiet:
                break
            worker.check_alive()
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                for r in batch:
                    records.append((r.topic, r.value or b""))
                    outcomes += outcomes_in(r.topic, r.value or b"")
                last = time.monotonic()
    return records


def outcomes_in(topic: str, value: bytes) -> int:
    """How many readings one output record accounts for."""
    if topic.endswith("sensor-dead-letter"):
        return 1
    aggregate = WindowAggregate.loads(value, serializer="json")
    return int(aggregate.count)


def is_clock(code: str) -> bool:
    return code.startswith("timestamp_")


def judge(
    sent: list[dict[str, object]],
    jump_time: float,
    records: list[tuple[str, bytes]],
    jumping: list[str],
) -> Outcome:
    codes: Counter[str] = Counter()
    aggregates: list[WindowAggregate] = []
    for topic, value in records:
        if topic.endswith("sensor-dead-letter"):
            codes[DeadLetter.loads(value, serializer="json").error_code] += 1
        else:
            aggregates.append(WindowAggregate.loads(value, serializer="json"))
    windows = Counter((a.sensor_id, a.window_start) for a in aggregates)
    on_time = [r for r in sent if float(r["timestamp"]) < jump_time]  # type: ignore[arg-type]
    counted_on_time = sum(a.count for a in aggregates if a.window_end <= jump_time)
    others_sent = sum(1 for r in on_time if r["sensor_id"] not in jumping)
    others_counted = sum(
        a.count for a in aggregates if a.window_end <= jump_time and a.sensor_id not in jumping
    )
    return Outcome(
        on_time=len(on_time),
        jumped=len(sent) - len(on_time),
        late_dead_letters=codes["late_event"],
        clock_dead_letters=sum(n for code, n in codes.items() if is_clock(code)),
        other_dead_letters=sum(
            n for code, n in codes.items() if code != "late_event" and not is_clock(code)
        ),
        aggregates=len(aggregates),
        duplicated_windows=sum(n - 1 for n in windows.values() if n > 1),
        counted_on_time=counted_on_time,
        counted_jumped=sum(a.count for a in aggregates if a.window_end > jump_time),
        lost_of_others=others_sent - others_counted,
    )


def run_experiment(
    servers: str,
    workdir: Path,
    *,
    per_phase: int = 200,
    jump: str = "2100",
    jumping: int = 5,
    guarantee: str = "at_least_once",
    source: Path | None = None,
    close_delay: float = 3.0,
) -> Outcome:
    """Run the experiment against a fresh app id and topic prefix; return what came out."""
    token = uuid.uuid4().hex[:8]
    prefix = f"clock-jump-{token}-"
    topics = [prefix + name for name in [*NAMES, "window-ticks"]]
    asyncio.run(create_topics(servers, topics, 4))
    env = {
        **os.environ,
        "KATA_IMPL": "solutions",
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "KATA_APP_ID": f"clock-jump-{token}",
        "KATA_TOPIC_PREFIX": prefix,
        "KATA_TOPIC_PARTITIONS": "4",
        "KATA_WINDOW_CLOSE_DELAY": str(close_delay),
        "KATA_WINDOW_TICK_INTERVAL": "0.5",
        "KATA_PROCESSING_GUARANTEE": guarantee,
    }
    if source is not None:
        env["PYTHONPATH"] = str(source.resolve())
    now = time.time()
    jump_to = YEAR_2100 if jump == "2100" else now + 240.0
    sent, jump_time = readings(now, per_phase, jump_to, SENSORS[:jumping])
    with running_worker(env, workdir, phases="2,3,4,5") as worker:
        asyncio.run(produce(servers, prefix + NAMES[0], sent))
        records = asyncio.run(
            collect(
                servers,
                [prefix + NAMES[2], prefix + NAMES[3]],
                worker,
                readings=len(sent),
                quiet=close_delay + 3.0,
                timeout=300.0,
            )
        )
    return judge(sent, jump_time, records, SENSORS[:jumping])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-phase", type=int, default=200, help="on-time readings per half")
    parser.add_argument(
        "--jump-to",
        choices=["2100", "ahead"],
        default="2100",
        help="2100: dated 2100-01-01; ahead: 240 s after the last on-time reading (legal)",
    )
    parser.add_argument("--jumping", type=int, default=5, help="sensors whose clock jumps (1-5)")
    parser.add_argument("--guarantee", default="at_least_once")
    parser.add_argument("--source", type=Path, default=None, help="run the worker from DIR")
    args = parser.parse_args()
    if not 1 <= args.jumping <= len(SENSORS):
        parser.error(f"--jumping must be between 1 and {len(SENSORS)}")
    if args.source is not None and not (args.source / "app" / "main.py").is_file():
        parser.error(f"--source {args.source}: no app/main.py there")
    with provide_broker() as broker, tempfile.TemporaryDirectory() as workdir:
        print(
            f"broker: {broker.bootstrap_servers} ({broker.source}), guarantee {args.guarantee}, "
            f"jump to {args.jump_to} for {args.jumping} sensor(s), "
            f"code: {args.source or 'this checkout'}"
        )
        started = time.monotonic()
        outcome = run_experiment(
            broker.bootstrap_servers,
            Path(workdir),
            per_phase=args.per_phase,
            jump=args.jump_to,
            jumping=args.jumping,
            guarantee=args.guarantee,
            source=args.source,
        )
        print(outcome.table())
        print(f"(took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
