"""Show the latest messages of any topic (provided): ``uv run python -m app.inspector <topic>``.

"Latest" means: the last ``--limit`` records of every partition are read, then the newest
``--limit`` of them by record timestamp (ties broken by partition and offset) are printed,
oldest first, like ``tail``. Transactions: by default only committed records are shown
(read_committed, as the pipeline's readers see them); ``--read-uncommitted`` also shows records
of aborted or still open transactions.

Everything printed from a record is escaped, never interpreted: payloads come from anywhere,
and a crafted one must not be able to move your cursor, retitle your terminal or hide text.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from app import cli_support

READ_TIMEOUT = 10.0  # seconds to wait for records the broker says exist
MAX_VALUE_CHARS = 2_000  # longer values are cut, so one huge record cannot flood the screen


@dataclass(frozen=True)
class Record:
    """The parts of a Kafka record the inspector shows."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


# --- escaping: what makes untrusted bytes safe to print --------------------------------------


def escape_text(text: str) -> str:
    """``text`` as is when every character is printable, else as a quoted Python literal.

    ``repr`` escapes exactly what ``str.isprintable`` rejects: control characters (ESC, CR,
    BEL...), invisible format characters such as right-to-left overrides, and line breaks.
    Square brackets (rich-style markup) are plain characters: they print literally anyway.
    """
    return text if text.isprintable() and text.strip() == text and text else repr(text)


def escape_json(document: object) -> str:
    """Compact one-line JSON whose strings carry every unprintable character as ``\\uXXXX``."""
    text = json.dumps(document, ensure_ascii=False, separators=(", ", ": "))
    return "".join(char if char.isprintable() else _json_escape(char) for char in text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the Basic Multilingual Plane JSON needs a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def render_bytes(data: bytes | None) -> str:
    """A value for humans: JSON compactly, other text or binary escaped."""
    if data is None:
        return "null (no value)"
    if not data:
        return "(empty)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary {data!r}"  # bytes repr shows every non-ASCII byte as \xNN
    try:
        return f"json {escape_json(json.loads(text))}"
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python allows
        return f"text {text!r}"


def dead_letter_payload(data: bytes | None) -> str | None:
    """For a DeadLetter record: its original bytes, decoded from ``payload_base64``."""
    try:
        document = json.loads(data or b"")
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("payload_base64"), str):
        return None
    try:
        original = base64.b64decode(document["payload_base64"], validate=True)
    except (binascii.Error, ValueError):
        return None
    return render_bytes(original)


def cut(text: str) -> str:
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return f"{text[:MAX_VALUE_CHARS]}... ({len(text) - MAX_VALUE_CHARS} more characters)"


def iso_utc(timestamp_ms: int) -> str:
    if timestamp_ms < 0:
        return "(no timestamp)"
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_record(record: Record, key_width: int = 0) -> list[str]:
    headers = ", ".join(
        f"{escape_text(name)}={_render_key(value)}" for name, value in record.headers
    )
    lines = [
        f"{record.partition:>9}  {record.offset:>8}  {iso_utc(record.timestamp_ms):<24}  "
        f"{_render_key(record.key):<{key_width}}  {headers or '-'}",
        f"    value    {cut(render_bytes(record.value))}",
    ]
    original = dead_letter_payload(record.value)
    if original is not None:
        lines.append(f"    payload  {cut(original)}  (payload_base64 decoded)")
    return lines


def _render_key(data: bytes | None) -> str:
    if data is None:
        return "(none)"
    try:
        return escape_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        return repr(data)


# --- reading --------------------------------------------------------------------------------


def newest(records: Iterable[Record], limit: int) -> list[Record]:
    """The ``limit`` newest records, oldest first."""
    ordered = sorted(records, key=lambda r: (r.timestamp_ms, r.partition, r.offset))
    return ordered[-limit:]


async def read_latest(consumer: Any, partitions: list[TopicPartition], limit: int) -> list[Record]:
    """Up to ``limit`` of the newest records of every partition.

    Starts ``limit`` offsets before the end; when that window holds fewer records than wanted
    (aborted transactions and commit markers take offsets too), it widens the window.
    """
    consumer.assign(partitions)
    first = await consumer.beginning_offsets(partitions)
    end = await consumer.end_offsets(partitions)  # read_committed: the last stable offset
    found: dict[TopicPartition, list[Record]] = {}
    deadline = time.monotonic() + READ_TIMEOUT
    for tp in partitions:
        span = limit
        while True:
            start = max(first[tp], end[tp] - span)
            found[tp] = await _read_range(consumer, tp, start, end[tp], deadline)
            if len(found[tp]) >= limit or start == first[tp] or time.monotonic() > deadline:
                break
            span *= 2
    return [record for records in found.values() for record in records[-limit:]]


async def _read_range(
    consumer: Any, tp: TopicPartition, start: int, end: int, deadline: float
) -> list[Record]:
    records: list[Record] = []
    if start >= end:
        return records
    consumer.seek(tp, start)
    while await consumer.position(tp) < end and time.monotonic() < deadline:
        batch = await consumer.getmany(tp, timeout_ms=200)
        for message in batch.get(tp, []):
            if message.offset < end:
                records.append(
                    Record(
                        message.partition,
                        message.offset,
                        message.timestamp,
                        message.key,
                        message.value,
                        tuple(message.headers or ()),
                    )
                )
    if await consumer.position(tp) < end:
        print(
            f"warning: partition {tp.partition}: stopped waiting after {READ_TIMEOUT:g} s",
            file=sys.stderr,
        )
    return records


async def inspect(args: argparse.Namespace) -> int:
    settings = cli_support.load_settings()
    from app.config import bootstrap_servers as plain_servers

    servers = args.bootstrap_servers or plain_servers(settings.broker_url)
    async with cli_support.admin_client(servers) as admin:
        known = await cli_support.topic_partitions(admin)
    if args.topic not in known:
        raise cli_support.CliError(
            f"topic {args.topic!r} does not exist (known topics: {_list_topics(known)})"
        )
    isolation = "read_uncommitted" if args.read_uncommitted else "read_committed"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=servers,
        group_id=None,  # no consumer group: looking commits nothing and moves nobody's offsets
        enable_auto_commit=False,
        isolation_level=isolation,
        request_timeout_ms=int(cli_support.CONNECT_TIMEOUT * 1000),
    )
    try:
        await cli_support.start_within_timeout(consumer, servers)
        partitions = [TopicPartition(args.topic, p) for p in known[args.topic]]
        async with asyncio.timeout(READ_TIMEOUT + cli_support.CONNECT_TIMEOUT):
            records = newest(await read_latest(consumer, partitions, args.limit), args.limit)
    finally:
        await consumer.stop()
    print_records(args.topic, records, len(partitions), isolation)
    return 0


def print_records(topic: str, records: list[Record], partitions: int, isolation: str) -> None:
    name = escape_text(topic)
    if not records:
        print(f"no messages in {name}")
        return
    spread = f"{partitions} partition{'s' if partitions != 1 else ''}"
    print(f"latest {len(records)} messages of {name} ({spread}, {isolation})")
    key_width = max(len(_render_key(record.key)) for record in records)
    print(
        f"{'PARTITION':>9}  {'OFFSET':>8}  {'TIMESTAMP (UTC)':<24}  {'KEY':<{key_width}}  HEADERS"
    )
    for record in records:
        print("\n".join(format_record(record, key_width)))


def _list_topics(known: dict[str, list[int]]) -> str:
    # Internal topics (__consumer_offsets...) are noise here.
    names = sorted(escape_text(name) for name in known if not name.startswith("__"))
    if not names:
        return "none"
    shown = ", ".join(names[:15])
    return shown if len(names) <= 15 else f"{shown}, ... {len(names) - 15} more"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.inspector",
        usage="%(prog)s TOPIC [--limit N] [--read-uncommitted] [--bootstrap-servers HOST:PORT]",
        description="Print the latest messages of a Kafka topic, safely escaped.",
    )
    parser.add_argument("topic", type=cli_support.non_empty, help="topic name, exactly")
    parser.add_argument(
        "--limit", type=cli_support.positive_int, default=20, help="messages to show (20)"
    )
    parser.add_argument(
        "--read-uncommitted",
        action="store_true",
        help="also show records of aborted or open transactions",
    )
    parser.add_argument(
        "--bootstrap-servers",
        type=cli_support.bootstrap_servers,
        help="host:port of the broker (default: KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return cli_support.run(lambda: inspect(args))


if __name__ == "__main__":
    sys.exit(main())
