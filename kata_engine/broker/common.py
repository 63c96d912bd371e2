"""What every way of providing a broker shares: the error, the settings, the "answers?" check.

The single-node settings here are the ones docker-compose.yml, the Docker path and the local-jar
path all use, so a test that passes on one broker passes on the others (tests/test_broker_chain.py
checks that docker-compose.yml carries them).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

KAFKA_VERSION = "4.1.1"
KAFKA_IMAGE = f"apache/kafka:{KAFKA_VERSION}"
ANSWER_TIMEOUT_S = 10.0  # how long a broker gets to answer a metadata request
START_ENV = "KATA_START_BROKER"  # "0": the chain uses a running broker only, never starts one

# A single node must not wait for replicas it will never have: without replication 1 and min ISR 1
# on the internal topics, consumer groups and transactions hang.
SINGLE_NODE_SETTINGS: dict[str, str] = {
    "num.partitions": "4",  # = KATA_TOPIC_PARTITIONS default: auto-created topics match the app
    "auto.create.topics.enable": "true",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",  # first rebalance at once: faster tests
}


CLUSTER_NODES = 3  # `kata broker --nodes 3`, docker compose's "cluster" profile


def cluster_settings(nodes: int = CLUSTER_NODES) -> dict[str, str]:
    """The defaults of a cluster of ``nodes`` KRaft nodes: every topic on up to 3 of them.

    A write is acknowledged (acks=all) once ``min.insync.replicas`` replicas hold it, so one node
    can die without losing an acknowledged record and the cluster still takes writes. The internal
    topics (group offsets, transactions) get the same protection: without it, losing the one node
    that holds them stalls every consumer group and every exactly_once commit.
    """
    replicas = str(min(3, nodes))
    min_isr = str(max(1, min(3, nodes) - 1))
    return {
        **SINGLE_NODE_SETTINGS,
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        # A node that stops heartbeating is fenced (its leaderships move) after 6 s, not 9 s.
        "broker.session.timeout.ms": "6000",
        "broker.heartbeat.interval.ms": "1000",
    }


def node_count(text: str) -> int:
    """argparse type: how many nodes, 1 to 9 (ports are consecutive from --port)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 9:
        raise argparse.ArgumentTypeError(f"{value} must be between 1 and 9")
    return value


class BrokerUnavailable(RuntimeError):
    """No broker could be provided; the message is one line saying why and what to do."""


def docker_env_name(setting: str) -> str:
    """The apache/kafka image's env var for a setting: ``a.b_c-d`` -> ``KAFKA_A_B__C___D``."""
    return "KAFKA_" + setting.replace("_", "__").replace("-", "___").replace(".", "_").upper()


def new_cluster_id() -> str:
    """A fresh KRaft cluster id: a random UUID as 22 characters of unpadded base64url."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        # Like Kafka's own Uuid.randomUuid(): an id starting with "-" reads as a command option.
        if not cluster_id.startswith("-"):
            return cluster_id


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    """True when something already listens on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port in TIME_WAIT from a previous broker is free for a new one.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def cache_root() -> Path:
    """This project's per-user cache directory (honours ``XDG_CACHE_HOME``)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "faust-katas"


def one_line(text: str, limit: int = 300) -> str:
    """Squeeze ``text`` onto one line of at most ``limit`` characters (for error messages)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


async def _metadata_answer(bootstrap_servers: str, timeout: float) -> None:
    # Imported here: importing aiokafka costs time that a broker-free run should not pay.
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=max(1000, int(timeout * 1000))
    )
    try:
        await admin.start()  # bootstrap = a metadata request that the broker must answer
        await admin.describe_cluster()
    finally:
        await admin.close()


async def _answers_within(bootstrap_servers: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    # Retry until the deadline: a broker that is still starting refuses connections for a while.
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            await asyncio.wait_for(_metadata_answer(bootstrap_servers, remaining), remaining)
            return
        except Exception as exc:  # any failure means "not yet"; the last one is reported
            last_error = exc
        await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    raise BrokerUnavailable(one_line(describe(last_error) if last_error else "timed out"))


def describe(error: BaseException) -> str:
    """``Type: message``, without repeating the type when the message already names it."""
    name, text = type(error).__name__, str(error)
    return text if text.startswith(name) else f"{name}: {text}".rstrip(": ")


def check_answers(bootstrap_servers: str, timeout: float = ANSWER_TIMEOUT_S) -> None:
    """Raise BrokerUnavailable(reason) unless ``bootstrap_servers`` answers metadata in time."""
    # aiokafka logs every refused connection at ERROR; the one-line BrokerUnavailable says it all.
    aiokafka_log = logging.getLogger("aiokafka")
    level = aiokafka_log.level
    aiokafka_log.setLevel(logging.CRITICAL)
    try:
        run_coroutine(lambda: _answers_within(bootstrap_servers, timeout))
    finally:
        aiokafka_log.setLevel(level)


def run_coroutine(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion from sync code, even if the caller is inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_a_loop = False
    else:
        in_a_loop = True
    if not in_a_loop:
        asyncio.run(make())
        return
    # A running loop cannot be blocked on itself: use a private loop in a helper thread.
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(make())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, name="broker-check")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
