"""Send sensor readings to Kafka (provided): ``uv run python -m app.producer``.

Each event is one reading from a small fleet of sensors, as compact JSON bytes keyed by its
``sensor_id`` (so one sensor's readings stay in order on one partition). With
``--include-bad`` about 10% of the events are broken in one of the ways listed in
``app.catalogue.MALFORMED_KINDS``, dealt like a shuffled deck so that every kind occurs
once before any repeats; they keep the key of the sensor they were derived from.

Reproducible runs: everything in an event, including its ``timestamp`` field, comes from
``--seed`` and ``--start-time``. With ``--seed`` and no ``--start-time`` the first event is
stamped 2025-01-01T00:00:00Z, so two runs with the same seed send byte-identical keys and
values. Event times advance by ``--interval`` seconds per event (1 s when the interval is 0).
Without ``--seed``, live runs start at the current time, and ``--interval 0`` sends a history
that ends now. The Kafka record timestamp stays the time of sending.

Every record carries an ``x-kata-kind`` header ("valid" or the malformed kind's name). It is a
label for tests and for reading the topic with the inspector; the pipeline must not rely on it,
because real sensors do not announce that their data is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from app import cli_support

VALID = "valid"
KIND_HEADER = "x-kata-kind"
BAD_SHARE = 0.10  # share of malformed events with --include-bad
SEEDED_START_TIME = 1_735_689_600.0  # 2025-01-01T00:00:00Z: the first event of a seeded run
SEND_CHUNK = 2_000  # deliveries awaited together when sending as fast as possible
LINGER_MS = 20  # let records gather into batches instead of one request per record
MAX_BATCH_BYTES = 512 * 1024
DELIVERY_TIMEOUT = 30.0  # seconds a delivery may take before we say the broker stopped answering


@dataclass(frozen=True)
class Event:
    """One record to send: the key, the value bytes (None = a null value) and what it is."""

    key: bytes
    value: bytes | None
    kind: str  # VALID or the name of a app.catalogue malformed kind


def generate_events(
    count: int,
    *,
    seed: int | None,
    sensors: int,
    include_bad: bool,
    start_time: float,
    step: float,
) -> Iterator[Event]:
    """``count`` events; the same arguments always give the same events (with a seed)."""
    from app.catalogue import (
        MALFORMED_KINDS,
        MalformedKind,
        SensorFleet,
        to_bytes,
        valid_reading,
    )

    rng = random.Random(seed)
    fleet = SensorFleet.create(sensors, rng)
    deck: list[MalformedKind] = []  # dealt like cards: every kind occurs once per len(deck) draws
    for sequence in range(count):
        reading = valid_reading(rng, fleet, sequence, start_time + sequence * step)
        key = str(reading["sensor_id"]).encode()
        if include_bad and rng.random() < BAD_SHARE:
            if not deck:
                deck = rng.sample(MALFORMED_KINDS, len(MALFORMED_KINDS))
            kind = deck.pop()
            yield Event(key, kind.build(reading), kind.name)
        else:
            yield Event(key, to_bytes(reading), VALID)


@dataclass
class Tally:
    """How many events of each kind were delivered."""

    topic: str
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.kinds.total()

    def summary(self) -> str:
        malformed = {kind: n for kind, n in self.kinds.items() if kind != VALID}
        text = (
            f"sent {self.total} events to {self.topic} "
            f"({self.kinds[VALID]} valid, {sum(malformed.values())} malformed"
        )
        if malformed:
            # Most frequent first, so the big picture comes first.
            ranked = sorted(malformed.items(), key=lambda item: (-item[1], item[0]))
            text += ": " + ", ".join(f"{kind} {n}" for kind, n in ranked)
        return text + ")"


class ProgressBar:
    """A one-line bar on stderr (rich), drawn only when a person is watching a terminal.

    In a pipe or a CI log rich draws nothing at all: no escape codes, only the summary line.
    """

    def __init__(self, total: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal
        self.progress = Progress(
            TextColumn("sending"),
            BarColumn(),
            MofNCompleteColumn(),
            console=self.console,
            transient=True,  # erased at the end; the summary goes to stdout
            disable=not self.enabled,
        )
        self.task = self.progress.add_task("sending", total=total)
        self.progress.start()

    def update(self, done: int) -> None:
        self.progress.update(self.task, completed=done)

    def close(self) -> None:
        self.progress.stop()


def start_time_arg(text: str) -> float:
    """Epoch seconds or ISO-8601 (a time without a zone is taken as UTC)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected epoch seconds or ISO-8601 like 2025-01-01T00:00:00Z, got {text!r}"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.producer",
        usage="%(prog)s [--count N] [--interval S] [--include-bad] [--seed N] [options]",
        description="Send sensor readings (optionally with malformed ones) to Kafka.",
    )
    parser.add_argument(
        "--count", type=cli_support.positive_int, default=30, help="events to send (30)"
    )
    parser.add_argument(
        "--interval",
        type=cli_support.non_negative_float,
        default=1.0,
        help="seconds between events; 0 = as fast as possible (1.0)",
    )
    parser.add_argument(
        "--include-bad", action="store_true", help="make about 10%% of the events malformed"
    )
    parser.add_argument("--seed", type=int, help="seed for a reproducible run")
    parser.add_argument(
        "--start-time",
        type=start_time_arg,
        help="event time of the first reading (epoch seconds or ISO-8601; "
        "default: 2025-01-01T00:00:00Z with --seed, else now)",
    )
    parser.add_argument(
        "--sensors", type=cli_support.positive_int, default=5, help="sensors in the fleet (5)"
    )
    parser.add_argument(
        "--topic",
        type=cli_support.non_empty,
        help="topic to write (default: the readings topic from app.config)",
    )
    parser.add_argument(
        "--bootstrap-servers",
        type=cli_support.bootstrap_servers,
        help="host:port of the broker (default: KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)",
    )
    return parser


def first_event_time(args: argparse.Namespace, step: float) -> float:
    if args.start_time is not None:
        return float(args.start_time)
    if args.seed is not None:
        return SEEDED_START_TIME
    now = round(time.time(), 3)
    # Sending as fast as possible replays a history; let it end now rather than in the future.
    return now if args.interval > 0 else now - (args.count - 1) * step


async def ensure_topic(bootstrap_servers: str, topic: str, partitions: int) -> None:
    """Create ``topic`` with ``partitions`` partitions unless it exists (an existing topic stays
    as it is). Explicit, so the partition count never depends on the broker's auto-create."""
    async with cli_support.admin_client(bootstrap_servers) as admin:
        if topic in await cli_support.topic_partitions(admin):
            return
        response = await admin.create_topics([NewTopic(topic, partitions, 1)])
        for _name, code, *details in response.topic_errors:
            error = for_code(code)
            if code and error is not TopicAlreadyExistsError:
                message = details[0] if details and details[0] else error.__name__
                raise cli_support.CliError(f"cannot create topic {topic!r}: {message}")
        # Wait until the new partitions have leaders, so the first sends do not race them.
        for _ in range(100):
            if len((await cli_support.topic_partitions(admin)).get(topic, [])) >= partitions:
                return
            await asyncio.sleep(0.1)


async def send_events(
    producer: Any, topic: str, events: Iterator[Event], interval: float, bar: ProgressBar
) -> Tally:
    tally = Tally(topic)
    in_flight: list[tuple[asyncio.Future[Any], str]] = []

    async def settle() -> None:
        # Batching: send() only queues the record; awaiting the deliveries together lets the
        # producer pack many records into each request.
        try:
            async with asyncio.timeout(DELIVERY_TIMEOUT):
                await asyncio.gather(*(delivery for delivery, _ in in_flight))
        except TimeoutError:
            raise cli_support.CliError(
                f"Kafka stopped acknowledging for {DELIVERY_TIMEOUT:g} s "
                f"after {tally.total} events were delivered"
            ) from None
        tally.kinds.update(kind for _, kind in in_flight)
        in_flight.clear()
        bar.update(tally.total)

    for event in events:
        headers = [(KIND_HEADER, event.kind.encode())]
        delivery = await producer.send(topic, value=event.value, key=event.key, headers=headers)
        in_flight.append((delivery, event.kind))
        if interval > 0:
            await settle()  # live mode: each event is delivered before the pause
            await asyncio.sleep(interval)
        elif len(in_flight) >= SEND_CHUNK:
            await settle()
    await settle()
    return tally


async def produce(args: argparse.Namespace) -> int:
    settings = cli_support.load_settings()
    from app.config import bootstrap_servers as plain_servers

    servers = args.bootstrap_servers or plain_servers(settings.broker_url)
    topic = args.topic or settings.topics.readings
    step = args.interval if args.interval > 0 else 1.0
    events = generate_events(
        args.count,
        seed=args.seed,
        sensors=args.sensors,
        include_bad=args.include_bad,
        start_time=first_event_time(args, step),
        step=step,
    )
    await ensure_topic(servers, topic, settings.topic_partitions)
    producer = AIOKafkaProducer(
        bootstrap_servers=servers,
        acks="all",
        enable_idempotence=True,  # a retried batch is never written twice or out of order
        linger_ms=LINGER_MS,
        max_batch_size=MAX_BATCH_BYTES,
        request_timeout_ms=int(cli_support.CONNECT_TIMEOUT * 1000),
    )
    bar = ProgressBar(args.count)
    try:
        await cli_support.start_within_timeout(producer, servers)
        tally = await send_events(producer, topic, events, args.interval, bar)
        await producer.flush()
    finally:
        bar.close()
        # stop() flushes what is still queued; a broker that stopped answering must not
        # turn that into a wait without end.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(cli_support.CONNECT_TIMEOUT):
                await producer.stop()
    print(tally.summary())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return cli_support.run(lambda: produce(args))


if __name__ == "__main__":
    sys.exit(main())
