"""A throw-away broker in Docker (testcontainers), configured like docker-compose.yml.

testcontainers' own KafkaContainer drives Confluent's image and cannot run ``apache/kafka``, so this
uses a generic container. The advertised address must be the one clients reach from the host, so
the host port is chosen first and published on 127.0.0.1 only.

No Docker engine exists where this project is built: this path is written to the image's documented
settings and is not exercised by CI (the local-jar path is).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from kata_engine.broker.common import (
    KAFKA_IMAGE,
    SINGLE_NODE_SETTINGS,
    BrokerUnavailable,
    check_answers,
    describe,
    docker_env_name,
    free_port,
    new_cluster_id,
    one_line,
)

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

CONTAINER_PORT = 9092  # PLAINTEXT_HOST inside the container; published on the chosen host port
STARTED_LINE = "Kafka Server started"
START_TIMEOUT_S = 120  # includes pulling the image the first time


def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers a ping, else a short reason why not."""
    try:
        from testcontainers.core.docker_client import DockerClient
    except ImportError:
        return "the testcontainers package is not installed"
    try:
        # The same client testcontainers uses, so DOCKER_HOST and its config file are honoured.
        DockerClient(timeout=5).client.ping()
    except Exception as exc:  # the SDK raises many kinds; any of them means "no engine"
        return one_line(describe(exc), 160)
    return None


def container_env(host_port: int) -> dict[str, str]:
    """The image's environment: one KRaft node, the same settings as docker-compose.yml."""
    settings = {
        "node.id": "1",
        "process.roles": "broker,controller",
        "controller.quorum.voters": "1@localhost:9093",
        "listeners": f"CONTROLLER://:9093,PLAINTEXT://:19092,PLAINTEXT_HOST://:{CONTAINER_PORT}",
        "advertised.listeners": (
            f"PLAINTEXT://localhost:19092,PLAINTEXT_HOST://127.0.0.1:{host_port}"
        ),
        "listener.security.protocol.map": (
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT"
        ),
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        **SINGLE_NODE_SETTINGS,
    }
    env = {docker_env_name(key): value for key, value in settings.items()}
    env["CLUSTER_ID"] = new_cluster_id()
    return env


@contextmanager
def docker_broker() -> Iterator[str]:
    """Run ``apache/kafka`` in a container; yield its bootstrap servers; remove it on exit."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    host_port = free_port()
    container: DockerContainer | None = None
    try:
        # Creating the container object already talks to Docker, so it belongs inside the try.
        container = DockerContainer(KAFKA_IMAGE).with_envs(**container_env(host_port))
        # (host ip, host port): published on loopback only, at the port the broker advertises.
        container.ports[f"{CONTAINER_PORT}/tcp"] = ("127.0.0.1", host_port)  # type: ignore[assignment]
        container.waiting_for(
            LogMessageWaitStrategy(STARTED_LINE).with_startup_timeout(START_TIMEOUT_S)
        )
        container.start()
    except Exception as exc:
        if container is not None:
            _remove_quietly(container)
        raise BrokerUnavailable(
            one_line(f"the {KAFKA_IMAGE} container did not start: {describe(exc)}")
        ) from None
    try:
        bootstrap_servers = f"127.0.0.1:{host_port}"
        check_answers(bootstrap_servers)
        yield bootstrap_servers
    finally:
        _remove_quietly(container)


def _remove_quietly(container: DockerContainer) -> None:
    # Cleanup must not hide the error that brought us here.
    with contextlib.suppress(Exception):
        container.stop()
