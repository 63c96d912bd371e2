"""A real Faust worker in a subprocess, and a reader for its output topics (provided).

Integration tests use it to run ``faust -A app.main worker`` against a real broker::

    with running_worker(isolation.env(), tmp_path, phases="2") as worker:
        ...  # produce input
        records = asyncio.run(read_records(servers, [topic], expected=500, worker=worker))

The worker inherits ``KATA_IMPL``, so it runs your modules, or the solutions under --solutions.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app import cli_support
from kata_engine.broker.common import free_port

STOP_TIMEOUT_S = 30.0  # SIGTERM first: a clean stop commits offsets; then SIGKILL
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl, loaded here in the parent: loading a library in a forked child of a
    threaded process can deadlock (the loader's lock may be held by a thread that is gone)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


_PRCTL = _load_prctl()
_RUNNING: set[subprocess.Popen[bytes]] = set()


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that only calls the already loaded prctl (nothing to import or load):
    the kernel sends the child SIGKILL when its parent dies, even by SIGKILL."""
    prctl = _PRCTL
    if prctl is None:
        return None

    def set_parent_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # the parent died before prctl: nobody will stop us
            os._exit(1)

    return set_parent_death_signal


@atexit.register
def _kill_leftover_workers() -> None:
    # pytest ended without running a worker's `finally` (an internal error, sys.exit).
    for process in list(_RUNNING):
        _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # the worker leads its own process group
    process.wait(timeout=10)
    _RUNNING.discard(process)


class Record(NamedTuple):
    """One Kafka record as a test sees it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


class WorkerDied(AssertionError):
    """The worker exited while a test still needed it; the message ends with its log."""


@dataclass(frozen=True)
class Worker:
    """A running worker subprocess and its log file."""

    process: subprocess.Popen[bytes]
    log: Path
    web_port: int

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def check_alive(self) -> None:
        """Raise WorkerDied (with the log's tail) if the worker has exited."""
        if self.process.poll() is not None:
            raise WorkerDied(
                f"the worker exited with {self.process.returncode}; its log ends:\n"
                + self.log_tail()
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT_S)
        _kill_group(self.process)  # anything the worker left in its group goes too


@contextmanager
def running_worker(
    env: Mapping[str, str],
    workdir: Path,
    *,
    phases: str,
    loglevel: str = "info",
    web_port: int | None = None,
) -> Iterator[Worker]:
    """Start a worker for ``phases`` (``KATA_PHASES``) in ``workdir``; stop it on exit.

    ``loglevel`` is the worker's ``-l``: ``debug`` shows Faust's transactional commits.
    ``web_port``: its web server's port (default: a free one); a restarted worker given the
    port of the one before it serves the same URLs (the dashboard's browser test).
    """
    web_port = free_port() if web_port is None else web_port
    log = workdir / "worker.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "app.main", "worker", "-l", loglevel],
            cwd=workdir,  # the worker writes its <app-id>-data/ directory here
            env={**env, "KATA_PHASES": phases, "KATA_WEB_PORT": str(web_port)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Tied to this process: its own group (stopped as a whole), killed when we die.
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
    _RUNNING.add(process)
    worker = Worker(process, log, web_port)
    try:
        yield worker
    finally:
        worker.stop()


async def create_topics(
    servers: str, names: list[str], partitions: int, *, replication: int = 1
) -> None:
    """Create ``names`` with ``partitions`` partitions and ``replication`` copies each (they
    must not exist yet)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(name, num_partitions=partitions, replication_factor=replication)
                for name in names
            ]
        )
    finally:
        await admin.close()


async def delete_topics(servers: str, *prefixes: str) -> None:
    """Delete every topic whose name starts with one of ``prefixes`` (a run's topic prefix, its
    app id for Faust's own topics): leave the broker as we found it. Best effort: the names are
    unique to the run, so a failure only leaves garbage behind."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    with suppress(Exception):
        async with asyncio.timeout(15):
            await admin.start()
        try:
            async with asyncio.timeout(30):
                names = [name for name in await admin.list_topics() if name.startswith(prefixes)]
                if names:
                    await admin.delete_topics(names)
        finally:
            await admin.close()


async def topic_partitions(servers: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of ``topics``; AssertionError if one does not exist (it is not created)."""
    async with cli_support.admin_client(servers) as admin:
        known = await cli_support.topic_partitions(admin)
    missing = sorted(set(topics) - set(known))
    if missing:
        raise AssertionError(f"these topics do not exist: {missing}")
    return [TopicPartition(topic, partition) for topic in topics for partition in known[topic]]


async def group_offsets(servers: str, group: str) -> dict[TopicPartition, int]:
    """The offsets ``group`` has committed, as the broker reports them (no group is joined)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def end_offsets(servers: str, topics: list[str]) -> dict[TopicPartition, int]:
    """The end offset of every partition of ``topics``: every write, committed or not."""
    partitions = await topic_partitions(servers, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=servers)  # read_uncommitted
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return ends


async def read_records(
    servers: str,
    topics: list[str],
    expected: int,
    *,
    worker: Worker | None = None,
    timeout: float = 120.0,
    settle_ms: int = 2000,
) -> list[Record]:
    """Records of ``topics`` from the beginning (read_committed) until ``expected`` arrived.

    Returns early only after ``settle_ms`` of silence once ``expected`` is reached, so that
    duplicates that would follow are caught too. ``timeout`` bounds the wait; it is a guard
    against a hang, not a performance assertion.
    """
    records: list[Record] = []
    async with committed_reader(servers, topics) as consumer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker is not None:
                worker.check_alive()
            enough = len(records) >= expected
            batches = await consumer.getmany(timeout_ms=settle_ms if enough else 500)
            for batch in batches.values():
                records.extend(
                    Record(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.key,
                        r.value,
                        {name: bytes(value) for name, value in r.headers},
                    )
                    for r in batch
                )
            if enough and not batches:
                break
    return records


@asynccontextmanager
async def committed_reader(
    servers: str, topics: list[str], *, at_end: bool = False
) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of every partition of ``topics``, at their start (or end), read_committed.

    It joins no group and commits nothing: reading the outputs never disturbs the pipeline.
    """
    partitions = await topic_partitions(servers, topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=servers, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        if at_end:
            await consumer.seek_to_end(*partitions)
            for tp in partitions:
                await consumer.position(tp)  # resolve the end now, before anything is produced
        else:
            await consumer.seek_to_beginning(*partitions)
        yield consumer
    finally:
        await consumer.stop()
