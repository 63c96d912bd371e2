"""Where the Kafka broker comes from: one chain used by the tests, the demo and you.

``provide_broker()`` tries, in order:

1. ``KAFKA_BOOTSTRAP_SERVERS`` is set: use that broker (it must answer within 10 s).
2. Something listens on 127.0.0.1:9092 (``docker compose up -d``, ``kata broker``): use it
   (it must answer as a Kafka broker within 10 s). Nothing is started while it runs.
3. ``KATA_START_BROKER=0``: stop here (``kata status`` uses only a broker that already runs).
4. A Docker engine answers: a throw-away ``apache/kafka:4.1.1`` container (docker.py).
5. Java 17+ is installed: a local broker from Maven Central jars (jars.py).
6. Otherwise: BrokerUnavailable, saying what to install.

Before it starts a broker (4, 5), the chain says so in one line: which broker, where, why, and
how long that usually takes.

Without Docker, ``python -m kata_engine.broker [--port 9092]`` runs a broker in the foreground
until Ctrl-C, for the hands-on part of the katas; ``--nodes 3`` runs a three-node cluster
(cluster.py) on that port and the next two.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

from app.cli_support import port_number
from kata_engine.broker.common import (
    ANSWER_TIMEOUT_S,
    CLUSTER_NODES,
    KAFKA_VERSION,
    START_ENV,
    BrokerUnavailable,
    check_answers,
    cluster_settings,
    node_count,
    port_in_use,
)
from kata_engine.broker.docker import docker_broker, docker_unavailable_reason
from kata_engine.broker.jars import MIN_JAVA, jar_dir, java_major_version, local_broker

__all__ = ["Broker", "BrokerUnavailable", "main", "provide_broker", "serve"]

NOTHING_FOUND = (
    "no broker: set KAFKA_BOOTSTRAP_SERVERS, start Docker, or install Java 17+ and Maven"
)
DEFAULT_PORT = 9092  # docker-compose.yml and `kata broker` listen here
DEFAULT_BOOTSTRAP = f"127.0.0.1:{DEFAULT_PORT}"
NONE_RUNNING = (
    f"no broker running: none answers on {DEFAULT_BOOTSTRAP} and KAFKA_BOOTSTRAP_SERVERS "
    "is not set (start one: docker compose up -d, or uv run kata broker)"
)


def may_start_a_broker() -> bool:
    """False when ``KATA_START_BROKER=0``: only a broker that already runs may be used."""
    return os.environ.get(START_ENV, "").strip() != "0"


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Broker:
    """A broker you can use now."""

    bootstrap_servers: str  # "127.0.0.1:PORT"
    source: str  # "KAFKA_BOOTSTRAP_SERVERS", "already running on ...", "docker" or "local jars"
    log_path: Path | None = None  # the local broker's log, for diagnosis


@contextmanager
def provide_broker(announce: Callable[[str], None] = _to_stderr) -> Iterator[Broker]:
    """Provide a broker through the chain; a broker started here is stopped on exit.

    ``announce`` gets one line before a broker is started (never when one is only used).
    """
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
    if port_in_use(DEFAULT_PORT):
        # The learner's own broker (docker compose, kata broker): use it, start nothing.
        try:
            check_answers(DEFAULT_BOOTSTRAP, ANSWER_TIMEOUT_S)
        except BrokerUnavailable as exc:
            raise BrokerUnavailable(
                f"something listens on {DEFAULT_BOOTSTRAP} but did not answer as a Kafka broker "
                f"within {ANSWER_TIMEOUT_S:.0f} s: {exc} (stop it, or set KAFKA_BOOTSTRAP_SERVERS)"
            ) from None
        yield Broker(DEFAULT_BOOTSTRAP, f"already running on {DEFAULT_BOOTSTRAP}")
        return
    if not may_start_a_broker():
        raise BrokerUnavailable(NONE_RUNNING)
    with ExitStack() as stack:
        yield _start_a_broker(stack, announce)


def _why() -> str:
    return f"none answers on {DEFAULT_BOOTSTRAP} and KAFKA_BOOTSTRAP_SERVERS is not set"


def _start_a_broker(stack: ExitStack, announce: Callable[[str], None]) -> Broker:
    docker_failure = ""
    if docker_unavailable_reason() is None:
        announce(
            f"kata: starting a throw-away Apache Kafka {KAFKA_VERSION} in Docker on a free "
            f"127.0.0.1 port ({_why()}); usually 10-30 s, longer when the image is pulled"
        )
        try:
            return Broker(stack.enter_context(docker_broker()), "docker")
        except BrokerUnavailable as exc:
            # Docker answers but the container failed (say, no image pull): try Java next.
            docker_failure = f" (Docker answered, but: {exc})"
    version = java_major_version()
    if version is None or version < MIN_JAVA:
        found = "" if version is None else f" (found Java {version})"
        raise BrokerUnavailable(NOTHING_FOUND + found + docker_failure)
    announce(
        f"kata: starting a throw-away Apache Kafka {KAFKA_VERSION} from local jars (Java "
        f"{version}) on a free 127.0.0.1 port ({_why()}); usually 10-20 s, minutes the first "
        f"time while Maven downloads the jars to {jar_dir()}"
    )
    local = stack.enter_context(local_broker())
    return Broker(local.bootstrap_servers, "local jars", local.log_path)


class _Stop(Exception):
    """Raised by the signal handler: Ctrl-C or SIGTERM asked us to stop."""


def serve(port: int = 9092, nodes: int = 1) -> int:
    """Run a local broker on 127.0.0.1:``port`` in the foreground until Ctrl-C or SIGTERM;
    ``nodes`` > 1: a cluster on ``port`` and the ports after it.

    Returns the exit code: 0 after a requested stop, 1 if the broker could not start or died.
    """

    def run() -> int:
        return _serve(port) if nodes == 1 else _serve_cluster(port, nodes)

    if threading.current_thread() is not threading.main_thread():
        return run()  # signals can only be caught in the main thread
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def request_stop(signum: int, frame: FrameType | None) -> NoReturn:
        # Ignore a second Ctrl-C: it would cut the orderly shutdown short.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        raise _Stop(signal.Signals(signum).name)

    for sig in previous:
        signal.signal(sig, request_stop)
    try:
        return run()
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


def _serve_cluster(port: int, nodes: int) -> int:
    from kata_engine.broker.cluster import local_cluster

    ports = [port + offset for offset in range(nodes)]
    listed = ",".join(f"127.0.0.1:{each}" for each in ports)
    print(
        f"Starting {nodes} Apache Kafka {KAFKA_VERSION} nodes (KRaft, {nodes} controller "
        f"voters) on {listed} (jars: {jar_dir()}) ...",
        flush=True,
    )
    try:
        with local_cluster(nodes, ports) as cluster:
            defaults = cluster_settings(nodes)
            print(
                f"Kafka cluster ready in {cluster.started_s:.1f} s: {nodes} nodes, quorum leader: "
                f"node {cluster.quorum_leader()}"
            )
            for node in cluster.nodes:
                print(f"  node {node.node_id}: {node.address} (log: {node.log_path})")
            print(
                f"Defaults: replication factor {defaults['default.replication.factor']}, "
                f"min.insync.replicas {defaults['min.insync.replicas']}, the same for "
                "__consumer_offsets and __transaction_state"
            )
            print(
                "Use it from another terminal: "
                f"export KAFKA_BOOTSTRAP_SERVERS={cluster.bootstrap_servers}"
            )
            print("Press Ctrl-C to stop.", flush=True)
            while all(node.running() for node in cluster.nodes):
                time.sleep(0.5)
            dead = next(node for node in cluster.nodes if not node.running())
            assert dead.broker is not None
            print(
                f"error: node {dead.node_id} stopped by itself (exit "
                f"{dead.broker.process.returncode}); see {dead.log_path}",
                file=sys.stderr,
            )
            return 1
    except BrokerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (_Stop, KeyboardInterrupt):
        print("Kafka cluster stopped.", flush=True)
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
    parser.add_argument(
        "--nodes",
        type=node_count,
        default=1,
        help=f"nodes (1; {CLUSTER_NODES}: a cluster on --port and the next ports)",
    )
    args = parser.parse_args(argv)
    if args.port + args.nodes - 1 > 65535:
        parser.error(f"--nodes {args.nodes} from --port {args.port} goes past port 65535")
    return serve(args.port, args.nodes)
