"""The provided app in a real worker: it creates its topics and listens on loopback only."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import Worker, running_worker, topic_partitions

PARTITIONS = 3  # not the default 4 nor the broker's: proves the setting is what counts
TOPICS = ("sensor-readings", "enriched-readings", "sensor-dead-letter", "window-aggregates")
WAIT_S = 60.0  # a bound on a hang, not a performance assertion


def listening_addresses(port: int) -> set[str]:
    """The local IPv4/IPv6 addresses (hex, as /proc/net shows them) listening on ``port``."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                addresses.add(address)
    return addresses


def wait_until_listening(worker: Worker) -> set[str]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        worker.check_alive()
        if addresses := listening_addresses(worker.web_port):
            return addresses
        time.sleep(0.2)
    raise AssertionError(f"the web server never listened:\n{worker.log_tail()}")


async def wait_for_topics(servers: str, names: list[str], worker: Worker) -> dict[str, int]:
    deadline = time.monotonic() + WAIT_S
    while True:
        worker.check_alive()
        try:
            found = await topic_partitions(servers, names)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
            continue
        return {name: sum(1 for tp in found if tp.topic == name) for name in names}


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")
def test_a_worker_creates_its_topics_and_serves_on_loopback_only(
    kafka_isolation: KafkaIsolation, tmp_path: Path
) -> None:
    env = {**kafka_isolation.env(), "KATA_TOPIC_PARTITIONS": str(PARTITIONS)}
    names = [kafka_isolation.topic(name) for name in TOPICS]

    with running_worker(env, tmp_path, phases="2") as worker:
        addresses = wait_until_listening(worker)
        partitions = asyncio.run(wait_for_topics(kafka_isolation.bootstrap_servers, names, worker))

    loopback = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}
    assert addresses <= loopback, (
        f"the web server on port {worker.web_port} listens on {addresses} (hex); "
        "expected 127.0.0.1 only (KATA_WEB_BIND defaults to loopback)"
    )
    assert partitions == dict.fromkeys(names, PARTITIONS), (
        f"the worker created {partitions}; expected {PARTITIONS} partitions each "
        "(KATA_TOPIC_PARTITIONS)"
    )
