"""What the producer and inspector CLIs share (provided).

The rules both follow: a bad argument or a broker that does not answer ends in ONE clear line
on stderr and a non-zero exit code (2 for usage, 1 for runtime problems), never a traceback;
Ctrl-C exits 130; no call to Kafka can hang forever.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.config import Settings

CONNECT_TIMEOUT = 10.0  # seconds to reach the broker before giving up
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's convention for "killed by SIGINT"


class CliError(Exception):
    """A problem the user can fix: printed as one line, then the CLI exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_RUNTIME) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_settings() -> Settings:
    """The pipeline settings, or a CliError naming the bad environment variable."""
    # Imported here, not at the top: app.config reads the environment when it is imported,
    # and a bad variable must end in one clear line, not an import-time traceback.
    try:
        from app.config import settings
    except ValueError as exc:
        raise CliError(f"bad configuration: {exc}", EXIT_USAGE) from None
    return settings


def run(main: Callable[[], Awaitable[int]]) -> int:
    """Run an async CLI body and turn every expected failure into one line and an exit code."""
    # aiokafka is imported where it is used: `kata` takes its argparse types from this module
    # and must start fast.
    from aiokafka.errors import KafkaError

    # aiokafka logs connection failures itself; we report them once, in our own words.
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    logging.getLogger("aiokafka").propagate = False
    if threading.current_thread() is threading.main_thread():
        # Started with SIGINT ignored (a shell's background job, CI), Python leaves it ignored
        # and asyncio.run does not handle it: Ctrl-C or ``kill -INT`` would not stop us.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return asyncio.run(_call(main))
    except CliError as exc:
        return _fail(str(exc), exc.exit_code)
    except KafkaError as exc:
        return _fail(f"kafka error: {exc}", EXIT_RUNTIME)
    except TimeoutError:
        return _fail("Kafka stopped answering; is the broker still running?", EXIT_RUNTIME)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, like other Unix tools, and point
        # stdout at /dev/null so Python's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_RUNTIME


async def _call(main: Callable[[], Awaitable[int]]) -> int:
    return await main()


def _fail(message: str, exit_code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return exit_code


def unreachable(bootstrap_servers: str) -> CliError:
    return CliError(
        f"cannot reach Kafka at {bootstrap_servers} within {CONNECT_TIMEOUT:g} s; "
        "start a broker: see README"
    )


@asynccontextmanager
async def admin_client(bootstrap_servers: str) -> AsyncIterator[Any]:
    """A started AIOKafkaAdminClient, or a CliError within CONNECT_TIMEOUT seconds."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=int(CONNECT_TIMEOUT * 1000)
    )
    try:
        await start_within_timeout(admin, bootstrap_servers)
        yield admin
    finally:
        await admin.close()


async def start_within_timeout(client: Any, bootstrap_servers: str) -> None:
    """``await client.start()``, turning a silent or refusing broker into one clear error."""
    from aiokafka.errors import KafkaError

    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await client.start()
    except (TimeoutError, KafkaError, OSError):
        raise unreachable(bootstrap_servers) from None


async def topic_partitions(admin: Any) -> dict[str, list[int]]:
    """Every topic of the cluster with its partition numbers.

    Asks for ALL topics on purpose: a metadata request that names a missing topic makes a
    broker with auto-create enabled create it, and looking must never change anything.
    """
    async with asyncio.timeout(CONNECT_TIMEOUT):
        described = await admin.describe_topics(None)
    return {
        entry["topic"]: sorted(p["partition"] for p in entry["partitions"])
        for entry in described
        if entry["error_code"] == 0
    }


# --- argparse value types: each raises ArgumentTypeError, which argparse turns into exit 2 ---


def positive_int(text: str) -> int:
    value = _parse(int, text, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = _parse(float, text, "a number")
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def bootstrap_servers(text: str) -> str:
    """``host:port[,host:port...]``, checked so a typo fails here rather than as a timeout."""
    entries = [entry.strip() for entry in text.split(",")]
    for entry in entries:
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise argparse.ArgumentTypeError(f"expected host:port, got {entry!r}")
    return ",".join(entries)


def port_number(text: str) -> int:
    value = _parse(int, text, "a port number")
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port between 1 and 65535, got {text!r}")
    return value


def non_empty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _parse[T](convert: Callable[[str], T], text: str, what: str) -> T:
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
