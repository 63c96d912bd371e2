"""Teaching truth: what Faust does with an event whose agent body raised (phase 2 README).

A plain Faust agent (tests/demo_apps/raises_once.py, no pipeline code) raises on one event, in a
real worker against a real broker. Faust acknowledges that event anyway (``Stream.__aiter__``
acks in a ``finally``): its offset is committed, the agent is restarted and carries on after it,
and a new worker never retries it. The event is gone. The pipeline's own guarantee, that every
event gets an outcome, is shown next door in tests/test_nothing_vanishes.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from kata_engine.broker.common import free_port
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import Worker, create_topics, read_records
from tests.demo_apps.raises_once import RAISED
from tests.test_nothing_vanishes import committed_offsets

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def plain_worker(env: dict[str, str], workdir: Path) -> Iterator[Worker]:
    """A worker of the plain demo app (kata_engine.worker.running_worker runs app.main only)."""
    web_port = free_port()
    log = workdir / "worker.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faust",
                "-A",
                "tests.demo_apps.raises_once",
                "worker",
                "-l",
                "info",
            ],
            cwd=workdir,
            env={
                **env,
                "KATA_WEB_PORT": str(web_port),
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
            },
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: never signalled with pytest's
        )
    worker = Worker(process, log, web_port)
    try:
        yield worker
    finally:
        worker.stop()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


async def produce(servers: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, partition=0)
    finally:
        await producer.stop()


def wait_for_commit(servers: str, group: str, topic: str, at_least: int) -> int:
    """The committed offset of ``topic`` partition 0, once it reaches ``at_least`` (or 60 s)."""
    deadline = time.monotonic() + 60.0
    committed = -1
    while time.monotonic() < deadline:
        committed = asyncio.run(committed_offsets(servers, group)).get((topic, 0), -1)
        if committed >= at_least:
            break
        time.sleep(1.0)
    return committed


@pytest.mark.kafka
def test_faust_acknowledges_an_event_whose_agent_raised_and_never_retries_it(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")
    servers = isolation.bootstrap_servers
    source, copies = isolation.topic("plain-source"), isolation.topic("plain-copies")
    asyncio.run(create_topics(servers, [source, copies], 1))
    env = isolation.env()
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()

    with plain_worker(env, first) as worker:
        asyncio.run(produce(servers, source, [b"a", b"boom", b"c"]))
        asyncio.run(read_records(servers, [copies], 2, worker=worker))
        committed = wait_for_commit(servers, isolation.app_id, source, at_least=3)
    first_log = worker.log.read_text(errors="replace")
    assert RAISED in first_log, f"the agent never raised; its log ends:\n{first_log[-3000:]}"
    assert committed >= 3, (
        f"the group committed offset {committed} for {source}; expected 3: past 'boom' (offset "
        "1), although its agent body raised. Faust acknowledges an event in a finally."
    )

    with plain_worker(env, second) as worker:
        asyncio.run(produce(servers, source, [b"d"]))
        copied = asyncio.run(read_records(servers, [copies], 3, worker=worker, settle_ms=4000))
    second_log = worker.log.read_text(errors="replace")
    values = [record.value for record in copied]
    again = "raised again" if RAISED in second_log else "did not raise"
    assert values == [b"a", b"c", b"d"] and RAISED not in second_log, (
        f"a new worker copied {values} and {again}; "
        "expected [a, c, d] and no second raise: the event the agent raised on was acknowledged "
        "and is never retried: it is lost"
    )
