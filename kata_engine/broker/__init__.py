"""Where the Kafka broker comes from: one chain used by the tests, the demo and you.

``provide_broker()`` tries, in order:

1. ``KAFKA_BOOTSTRAP_SERVERS`` is set: use that broker (it must answer within 10 s).
2. A Docker engine answers: a throw-away ``apache/kafka:4.1.1`` container (docker.py).
3. Java 17+ is installed: a local broker from Maven Central jars (jars.py).
4. Otherwise: BrokerUnavailable, saying what to install.

Without Docker, ``python -m kata_engine.broker [--port 9092]`` runs a broker in the foreground
until Ctrl-C, for the hands-on part of the katas.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

from app.cli_support import port_number
from kata_engine.broker.common import (
    ANSWER_TIMEOUT_S,
    KAFKA_VERSION,
    BrokerUnavailable,
    check_answers,
)
from kata_engine.broker.docker import docker_broker, docker_unavailable_reason
from kata_engine.broker.jars import MIN_JAVA, jar_dir, java_major_version, local_broker

__all__ = ["Broker", "BrokerUnavailable", "main", "provide_broker", "serve"]

NOTHING_FOUND = (
    "no broker: set KAFKA_BOOTSTRAP_SERVERS, start Docker, or install Java 17+ and Maven"
)


@dataclass(frozen=True)
class Broker:
    """A broker you can use now."""

    bootstrap_servers: str  # "127.0.0.1:PORT"
    source: str  # how it was provided: "KAFKA_BOOTSTRAP_SERVERS", "docker" or "local jars"
    log_path: Path | None = None  # the local broker's log, for diagnosis


@contextmanager
def provide_broker() -> Iterator[Broker]:
    """Provide a broker through the chain; a broker started here is stopped on exit."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if configured:
        try:
            check_answers(configured, ANSWER_TIMEOUT_S)
        except BrokerUnavailable as exc:
            raise BrokerUnavailable(
                f"KAFKA_BOOTSTRAP_SERVERS={configured} did not answer within "
                f"{ANSWER_TIMEOUT_S:.0f} s: {exc}"
            ) from None
        yield Broker(configured, "KAFKA_BOOTSTRAP_SERVERS")
        return
    with ExitStack() as stack:
        yield _start_a_broker(stack)


def _start_a_broker(stack: ExitStack) -> Broker:
    docker_failure = ""
    if docker_unavailable_reason() is None:
        try:
            return Broker(stack.enter_context(docker_broker()), "docker")
        except BrokerUnavailable as exc:
            # Docker answers but the container failed (say, no image pull): try Java next.
            docker_failure = f" (Docker answered, but: {exc})"
    version = java_major_version()
    if version is None or version < MIN_JAVA:
        found = "" if version is None else f" (found Java {version})"
        raise BrokerUnavailable(NOTHING_FOUND + found + docker_failure)
    local = stack.enter_context(local_broker())
    return Broker(local.bootstrap_servers, "local jars", local.log_path)


class _Stop(Exception):
    """Raised by the signal handler: Ctrl-C or SIGTERM asked us to stop."""


def serve(port: int = 9092) -> int:
    """Run a local broker on 127.0.0.1:``port`` in the foreground until Ctrl-C or SIGTERM.

    Returns the exit code: 0 after a requested stop, 1 if the broker could not start or died.
    """
    if threading.current_thread() is not threading.main_thread():
        return _serve(port)  # signals can only be caught in the main thread
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def request_stop(signum: int, frame: FrameType | None) -> NoReturn:
        # Ignore a second Ctrl-C: it would cut the orderly shutdown short.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        raise _Stop(signal.Signals(signum).name)

    for sig in previous:
        signal.signal(sig, request_stop)
    try:
        return _serve(port)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(port: int) -> int:
    print(f"Starting Apache Kafka {KAFKA_VERSION} on 127.0.0.1:{port} (jars: {jar_dir()}) ...")
    print("The first start downloads the jars with Maven; later starts reuse them.", flush=True)
    try:
        with local_broker(port) as broker:
            print(f"Kafka broker ready on {broker.bootstrap_servers} (log: {broker.log_path})")
            print(
                "Use it from another terminal: "
                f"export KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap_servers}"
            )
            print("Press Ctrl-C to stop.", flush=True)
            exit_code = broker.process.wait()
            print(
                f"error: the broker stopped by itself (exit {exit_code}); see {broker.log_path}",
                file=sys.stderr,
            )
            return 1
    except BrokerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (_Stop, KeyboardInterrupt):
        # Leaving the `with` block above has already shut the broker down in order.
        print("Kafka broker stopped.", flush=True)
        return 0


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (try --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _OneLineParser(
        prog="python -m kata_engine.broker",
        description="Run a local Apache Kafka broker (Java 17+) in the foreground until Ctrl-C.",
    )
    parser.add_argument("--port", type=port_number, default=9092, help="port on 127.0.0.1 (9092)")
    args = parser.parse_args(argv)
    return serve(args.port)
