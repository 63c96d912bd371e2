"""The broker chain's decisions, checked for real: env var, nothing installed, local jars, the CLI.

Broker starts cost seconds, so only two tests start one: the local-jar path in-process and the
foreground command in a subprocess. Both are marked ``kafka`` so ``--require-kafka`` (CI) turns a
skip for missing Java into a failure.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import pytest
import yaml

from kata_engine.broker import NONE_RUNNING, NOTHING_FOUND, BrokerUnavailable, provide_broker
from kata_engine.broker.cluster import registered_nodes
from kata_engine.broker.common import (
    ANSWER_TIMEOUT_S,
    CLUSTER_NODES,
    SINGLE_NODE_SETTINGS,
    check_answers,
    cluster_settings,
    docker_env_name,
    free_port,
    new_cluster_id,
)
from kata_engine.broker.docker import container_env, docker_broker, docker_unavailable_reason
from kata_engine.broker.jars import (
    MIN_JAVA,
    ensure_jars,
    jar_dir,
    java_major_version,
    local_broker,
)

REPO = Path(__file__).resolve().parents[1]
HANG_GUARD_S = 120.0  # not a timing assertion: only stops a broken test from hanging CI
READY_GUARD_S = 900.0  # the first start may download the jars with Maven


def accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
    )


def env_without_brokers(path: str) -> dict[str, str]:
    """The environment of a machine with no broker configured, no Docker engine and PATH=path."""
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env["PATH"] = path
    env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"  # no engine, even where one runs
    return env


PROVIDE_AND_PRINT = """
from kata_engine.broker import BrokerUnavailable, provide_broker
try:
    with provide_broker() as broker:
        print("provided:", broker.source)
except BrokerUnavailable as exc:
    print(exc)
    raise SystemExit(3)
"""


@pytest.fixture
def needs_java() -> None:
    version = java_major_version()
    if version is None or version < MIN_JAVA:
        pytest.skip(f"the local-jar broker needs Java {MIN_JAVA}+ on PATH")


# --- 1. KAFKA_BOOTSTRAP_SERVERS ------------------------------------------------------------------


def test_an_unreachable_configured_broker_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", closed)
    started = time.monotonic()

    with pytest.raises(BrokerUnavailable) as raised, provide_broker():
        pass

    print(f"unreachable broker reported after {time.monotonic() - started:.1f} s: {raised.value}")
    message = str(raised.value)
    assert message.startswith(
        f"KAFKA_BOOTSTRAP_SERVERS={closed} did not answer within {ANSWER_TIMEOUT_S:.0f} s: "
    )
    assert "\n" not in message


# --- 4. nothing installed ------------------------------------------------------------------------


def test_with_nothing_installed_the_chain_says_what_to_install(tmp_path: Path) -> None:
    done = run_python("-c", PROVIDE_AND_PRINT, env=env_without_brokers(str(tmp_path)))

    assert (done.returncode, done.stdout, done.stderr) == (3, NOTHING_FOUND + "\n", "")


def test_a_java_older_than_17_does_not_count(tmp_path: Path) -> None:
    fake_java = tmp_path / "java"
    fake_java.write_text("#!/bin/sh\necho 'java version \"1.8.0_392\"' >&2\n")
    fake_java.chmod(0o755)

    done = run_python("-c", PROVIDE_AND_PRINT, env=env_without_brokers(str(tmp_path)))

    assert (done.returncode, done.stdout) == (3, NOTHING_FOUND + " (found Java 8)\n")


# --- 2. Docker ---------------------------------------------------------------------------------


def test_the_docker_path_gives_a_broker_or_says_why_not_in_one_line() -> None:
    # Where Docker runs, this starts apache/kafka for real; where it does not (the machines this
    # project is built on), the failure must still be a BrokerUnavailable, not a Docker traceback.
    if docker_unavailable_reason() is None:
        with docker_broker() as bootstrap_servers:
            check_answers(bootstrap_servers)
        return
    with pytest.raises(BrokerUnavailable) as raised, docker_broker():
        pass

    assert str(raised.value).startswith("the apache/kafka:4.1.1 container did not start: ")
    assert "\n" not in str(raised.value)


# --- 3. local jars -------------------------------------------------------------------------------


@pytest.mark.kafka
@pytest.mark.usefixtures("needs_java")
def test_the_local_jar_broker_answers_and_stops_cleanly() -> None:
    with local_broker() as broker:
        check_answers(broker.bootstrap_servers)
        port = int(broker.bootstrap_servers.rsplit(":", 1)[1])
        assert accepts_connections(port)

    assert broker.stopped_cleanly is True
    assert broker.log_says_started()
    assert not accepts_connections(port)


@pytest.mark.usefixtures("needs_java")
def test_a_half_copied_jar_cache_is_copied_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    if shutil.which("mvn") is None:
        pytest.skip("needs Maven to copy the jars")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    leftover = jar_dir() / "half-copied.jar"  # a copy that died: jars, but no marker
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"truncated")

    libs = ensure_jars()
    assert not leftover.exists()
    assert any(libs.glob("kafka_2.13-4.1.1.jar"))

    # The marker now says the copy is complete: no Maven is needed a second time.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert ensure_jars() == libs


# --- the foreground command ----------------------------------------------------------------------


@pytest.fixture
def serving_port() -> Iterator[int]:
    port = free_port()
    yield port
    assert not accepts_connections(port), "the broker is still running after the test"


def lines_of(stream: IO[str]) -> tuple[queue.Queue[str], threading.Thread]:
    """Read a pipe line by line in a thread, so the test can wait with a bound."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    pumping = threading.Thread(target=pump, daemon=True)
    pumping.start()
    return lines, pumping


def wait_for_line(lines: queue.Queue[str], pattern: str, seen: list[str]) -> str:
    deadline = time.monotonic() + READY_GUARD_S
    while (remaining := deadline - time.monotonic()) > 0:
        line = lines.get(timeout=remaining)
        seen.append(line)
        if re.search(pattern, line):
            return line
    raise AssertionError(f"no line matching {pattern!r} in: {seen}")


@pytest.mark.kafka
@pytest.mark.usefixtures("needs_java")
def test_the_foreground_broker_serves_until_ctrl_c(serving_port: int, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "kata_engine.broker", "--port", str(serving_port)]
    stdout: list[str] = []
    with (
        (tmp_path / "stderr").open("w") as stderr_file,
        subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr_file, text=True
        ) as process,
    ):
        assert process.stdout is not None
        lines, pumping = lines_of(process.stdout)
        try:
            ready = wait_for_line(lines, r"Kafka broker ready on", stdout)
            check_answers(f"127.0.0.1:{serving_port}")
            process.send_signal(signal.SIGINT)
            process.wait(timeout=HANG_GUARD_S)
        finally:
            if process.poll() is None:
                process.kill()
        pumping.join(timeout=HANG_GUARD_S)
    stdout.extend(lines.queue)
    stderr = (tmp_path / "stderr").read_text()

    assert f"127.0.0.1:{serving_port}" in ready
    assert any(f"export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{serving_port}" in s for s in stdout)
    assert (process.returncode, stderr) == (0, "")
    assert stdout[-1] == "Kafka broker stopped.\n"


def test_a_port_already_taken_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_python("-m", "kata_engine.broker", "--port", str(port), env=dict(os.environ))

    assert done.returncode == 1
    assert done.stderr == f"error: 127.0.0.1:{port} is already in use (another broker running?)\n"


@pytest.mark.parametrize("bad", ["nine", "0", "70000"])
def test_a_bad_port_is_a_one_line_usage_error(bad: str) -> None:
    done = run_python("-m", "kata_engine.broker", "--port", bad, env=dict(os.environ))

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("python -m kata_engine.broker: error: argument --port:")


# --- the same settings everywhere ----------------------------------------------------------------


def compose_service() -> dict[str, Any]:
    """The ``kafka`` service of docker-compose.yml, parsed as YAML."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    return cast(dict[str, Any], compose["services"]["kafka"])


def compose_environment() -> dict[str, str]:
    """The kafka service's environment; every value is a string, as Docker passes it."""
    environment = compose_service()["environment"]
    assert all(isinstance(value, str) for value in environment.values()), environment
    return cast(dict[str, str], environment)


def test_docker_compose_carries_every_single_node_setting() -> None:
    compose = compose_environment()

    for setting, value in SINGLE_NODE_SETTINGS.items():
        assert compose.get(docker_env_name(setting)) == value, setting
    assert compose["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"
    assert "PLAINTEXT_HOST://127.0.0.1:9092" in compose["KAFKA_ADVERTISED_LISTENERS"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", compose["CLUSTER_ID"])


def test_docker_compose_publishes_on_loopback_only() -> None:
    service = compose_service()

    assert service["ports"] == ["127.0.0.1:9092:9092"]
    assert service["image"] == "apache/kafka:4.1.1"
    assert "kafka-broker-api-versions.sh" in " ".join(service["healthcheck"]["test"])


def test_the_testcontainers_broker_matches_docker_compose_and_advertises_its_port() -> None:
    env = container_env(host_port=49321)
    compose = compose_environment()

    for name in (docker_env_name(setting) for setting in SINGLE_NODE_SETTINGS):
        assert env[name] == compose[name], name
    assert (
        env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        == (compose["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"])
    )
    assert "PLAINTEXT_HOST://127.0.0.1:49321" in env["KAFKA_ADVERTISED_LISTENERS"]


def test_setting_names_become_the_images_env_var_names() -> None:
    assert docker_env_name("transaction.state.log.min.isr") == "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"
    assert docker_env_name("a.b_c-d") == "KAFKA_A_B__C___D"


def test_a_cluster_id_is_22_characters_of_base64url_not_starting_with_a_dash() -> None:
    ids = {new_cluster_id() for _ in range(500)}  # 1 in 64 random ids would start with "-"

    assert len(ids) == 500
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", cluster_id) for cluster_id in ids)


# --- a broker that already runs on the default address ------------------------------------------


def test_a_running_broker_on_the_default_address_is_used_and_nothing_starts(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The learner's `docker compose up -d` broker, played by the session's broker.
    import kata_engine.broker as chain

    port = kafka_bootstrap.split(",")[0].rsplit(":", 1)[1]
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setattr(chain, "DEFAULT_PORT", int(port))
    monkeypatch.setattr(chain, "DEFAULT_BOOTSTRAP", f"127.0.0.1:{port}")
    announced: list[str] = []

    with provide_broker(announced.append) as broker:
        pass

    assert broker.bootstrap_servers == f"127.0.0.1:{port}", broker
    assert broker.source == f"already running on 127.0.0.1:{port}", broker
    assert announced == [], f"nothing was started, yet the chain announced: {announced}"


def test_with_start_forbidden_and_nothing_running_the_chain_says_so(tmp_path: Path) -> None:
    env = {**env_without_brokers(os.environ["PATH"]), "KATA_START_BROKER": "0"}
    if accepts_connections(9092):
        pytest.skip("something listens on 127.0.0.1:9092 on this machine")

    done = run_python("-c", PROVIDE_AND_PRINT, env=env)

    assert (done.returncode, done.stdout, done.stderr) == (3, NONE_RUNNING + "\n", "")


def test_a_listener_that_is_not_kafka_on_the_default_address_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import kata_engine.broker as chain

    with socket.socket() as listener:  # accepts connections, never answers a Kafka request
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
        monkeypatch.setattr(chain, "DEFAULT_PORT", port)
        monkeypatch.setattr(chain, "DEFAULT_BOOTSTRAP", f"127.0.0.1:{port}")
        monkeypatch.setattr(chain, "ANSWER_TIMEOUT_S", 2.0)

        with pytest.raises(BrokerUnavailable) as raised, provide_broker():
            pass

    message = str(raised.value)
    assert message.startswith(f"something listens on 127.0.0.1:{port} but did not answer"), message
    assert "\n" not in message


# --- the three-node cluster ----------------------------------------------------------------------


def cluster_services() -> dict[str, dict[str, Any]]:
    """The services of docker-compose.yml's "cluster" profile, by name."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = cast(dict[str, dict[str, Any]], compose["services"])
    return {name: s for name, s in services.items() if "cluster" in s.get("profiles", [])}


def test_the_single_node_service_starts_by_default_and_the_cluster_only_on_request() -> None:
    # `docker compose up -d` (no profile) starts only the services without a profile.
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    default = [name for name, s in compose["services"].items() if not s.get("profiles")]

    assert default == ["kafka"], f"docker compose up -d would start {default}, not just kafka"
    assert sorted(cluster_services()) == ["kafka-1", "kafka-2", "kafka-3"]


def test_the_compose_cluster_is_three_voters_with_the_cluster_defaults() -> None:
    services = cluster_services()
    defaults = cluster_settings(CLUSTER_NODES)
    voters = "1@kafka-1:29093,2@kafka-2:29093,3@kafka-3:29093"

    for number, name in enumerate(sorted(services), start=1):
        service = services[name]
        env = service["environment"]
        assert all(isinstance(value, str) for value in env.values()), env
        for setting, value in defaults.items():
            assert env.get(docker_env_name(setting)) == value, f"{name}: {setting}"
        assert env["KAFKA_NODE_ID"] == str(number)
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == voters
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"
        host_port = 9091 + number  # the ports `kata broker --nodes 3` uses too
        assert service["ports"] == [f"127.0.0.1:{host_port}:{host_port}"], name
        assert f"PLAINTEXT_HOST://127.0.0.1:{host_port}" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert f"PLAINTEXT://{name}:19092" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert service["volumes"] == [f"{name}-data:/var/lib/kafka/data"], name
        assert service["image"] == "apache/kafka:4.1.1"
        assert "kafka-broker-api-versions.sh" in " ".join(service["healthcheck"]["test"])
    cluster_ids = {s["environment"]["CLUSTER_ID"] for s in services.values()}
    assert len(cluster_ids) == 1, f"the three nodes must share one cluster id: {cluster_ids}"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_ids.pop())


def test_cluster_defaults_protect_every_write_with_two_copies() -> None:
    three, one = cluster_settings(3), cluster_settings(1)

    assert three["default.replication.factor"] == "3"
    assert three["min.insync.replicas"] == "2"
    assert three["offsets.topic.replication.factor"] == "3"
    assert three["transaction.state.log.replication.factor"] == "3"
    assert three["transaction.state.log.min.isr"] == "2"
    # One node cannot wait for replicas it will never have.
    assert one["default.replication.factor"] == one["min.insync.replicas"] == "1"
    assert one["transaction.state.log.min.isr"] == "1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nodes", "0"], "argument --nodes: 0 must be between 1 and 9"),
        (["--nodes", "three"], "argument --nodes: 'three' is not a whole number"),
        (["--nodes", "3", "--port", "65534"], "--nodes 3 from --port 65534 goes past port 65535"),
    ],
)
def test_a_bad_node_count_is_a_one_line_usage_error(argv: list[str], message: str) -> None:
    done = run_python("-m", "kata_engine.broker", *argv, env=dict(os.environ))

    assert done.returncode == 2
    assert done.stderr == f"python -m kata_engine.broker: error: {message} (try --help)\n"


def free_consecutive_ports(count: int) -> int:
    """The first of ``count`` consecutive loopback ports that nobody listens on right now."""
    for _ in range(50):
        first = free_port()
        if first + count - 1 <= 65535 and not any(
            accepts_connections(first + offset) for offset in range(1, count)
        ):
            return first
    raise AssertionError(f"no {count} consecutive free ports found")


@pytest.mark.kafka
@pytest.mark.cluster
@pytest.mark.usefixtures("needs_java")
def test_the_foreground_cluster_serves_three_nodes_until_ctrl_c(tmp_path: Path) -> None:
    first = free_consecutive_ports(CLUSTER_NODES)
    addresses = [f"127.0.0.1:{first + offset}" for offset in range(CLUSTER_NODES)]
    command = [sys.executable, "-m", "kata_engine.broker", "--nodes", "3", "--port", str(first)]
    stdout: list[str] = []
    started = time.monotonic()
    with (
        (tmp_path / "stderr").open("w") as stderr_file,
        subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr_file, text=True
        ) as process,
    ):
        assert process.stdout is not None
        lines, pumping = lines_of(process.stdout)
        try:
            wait_for_line(lines, r"Press Ctrl-C to stop", stdout)
            print(f"\nkata broker --nodes 3 ready after {time.monotonic() - started:.1f} s")
            listed = {address: registered_nodes(address) for address in addresses}
            process.send_signal(signal.SIGINT)
            process.wait(timeout=HANG_GUARD_S)
        finally:
            if process.poll() is None:
                process.kill()
        pumping.join(timeout=HANG_GUARD_S)
    stdout.extend(lines.queue)
    stderr = (tmp_path / "stderr").read_text()

    assert listed == {address: {1, 2, 3} for address in addresses}, (
        f"every node should list all three nodes once the cluster is ready: {listed}"
    )
    assert re.search(r"quorum leader: node [123]$", "".join(stdout), re.MULTILINE), stdout
    assert f"export KAFKA_BOOTSTRAP_SERVERS={','.join(addresses)}\n" in "".join(stdout)
    assert (process.returncode, stderr) == (0, "")
    assert stdout[-1] == "Kafka cluster stopped.\n"
    assert not any(accepts_connections(first + offset) for offset in range(CLUSTER_NODES))
