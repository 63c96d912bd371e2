"""A local Apache Kafka broker run from Maven Central jars (needs Java 17+; Maven once).

The jars are copied once per user into ``~/.cache/faust-katas/kafka-4.1.1/libs`` (a marker says the
copy finished). Every start formats fresh storage in a temp dir, so each broker begins empty.
The broker's log is kept in ``~/.cache/faust-katas/logs/broker-<port>.log`` for diagnosis.
"""

from __future__ import annotations

import ctypes
import fcntl
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kata_engine.broker.common import (
    KAFKA_VERSION,
    SINGLE_NODE_SETTINGS,
    BrokerUnavailable,
    cache_root,
    check_answers,
    free_port,
    new_cluster_id,
    one_line,
    port_in_use,
)

MIN_JAVA = 17
STARTED_LINE = "Kafka Server started"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
DOWNLOAD_TIMEOUT_S = 900.0  # first run: Maven fetches ~100 jars from Maven Central
KEEP_LOGS = 10
POM = Path(__file__).with_name("pom.xml")
LOG4J2_CONFIG = Path(__file__).with_name("log4j2.properties")
COPY_DEPENDENCIES = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"


def java_major_version() -> int | None:
    """The major version of the ``java`` on PATH (8 for "1.8.0_392"), or None if there is none."""
    java = shutil.which("java")
    if java is None:
        return None
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def jar_dir() -> Path:
    """Where the broker's jars are cached for this user."""
    return cache_root() / f"kafka-{KAFKA_VERSION}" / "libs"


def ensure_jars() -> Path:
    """Return the jar directory, copying the jars with Maven first if the cache is not complete."""
    libs = jar_dir()
    marker = libs.with_name("libs.complete")
    wanted = POM.read_text(encoding="utf-8")  # the marker holds the pom it was made from
    libs.parent.mkdir(parents=True, exist_ok=True)
    # The lock keeps two processes (say, two test runs) from copying into the same place at once.
    with (libs.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
            return libs
        marker.unlink(missing_ok=True)
        partial = libs.with_name("libs.partial")
        shutil.rmtree(partial, ignore_errors=True)
        _copy_jars_with_maven(partial)
        shutil.rmtree(libs, ignore_errors=True)
        partial.rename(libs)
        marker.write_text(wanted, encoding="utf-8")  # written last: only a finished copy counts
    return libs


def _copy_jars_with_maven(target: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerUnavailable(
            "the local broker needs Maven once to download the Kafka jars: install Maven "
            "(or start Docker, or set KAFKA_BOOTSTRAP_SERVERS)"
        )
    command = [mvn, "-B", "-q", "-f", str(POM), COPY_DEPENDENCIES, "-DincludeScope=runtime"]
    try:
        done = subprocess.run(
            [*command, f"-DoutputDirectory={target}"],
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BrokerUnavailable(
            f"Maven did not finish downloading the Kafka jars within {DOWNLOAD_TIMEOUT_S:.0f} s"
        ) from None
    if done.returncode != 0 or not any(target.glob("kafka_2.13-*.jar")):
        output = (done.stdout + done.stderr).strip().splitlines() or ["no output"]
        raise BrokerUnavailable(
            f"Maven could not download the Kafka jars (exit {done.returncode}): "
            f"{one_line(output[-1])}"
        )


def server_properties(port: int, controller_port: int, data_dir: Path) -> str:
    """The broker's configuration: one KRaft node (broker + controller) on loopback ports."""
    return node_properties(
        1, port, controller_port, f"1@127.0.0.1:{controller_port}", data_dir, SINGLE_NODE_SETTINGS
    )


def node_properties(
    node_id: int,
    port: int,
    controller_port: int,
    voters: str,
    data_dir: Path,
    defaults: Mapping[str, str],
    extra_listeners: Mapping[str, int] | None = None,
) -> str:
    """One KRaft node (broker + controller) on loopback ports, one of the quorum ``voters``;
    ``extra_listeners`` (security protocol -> port) listen beside PLAINTEXT."""
    extra = extra_listeners or {}
    added = "".join(f",{name}://127.0.0.1:{extra_port}" for name, extra_port in extra.items())
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters,
        "listeners": (
            f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}{added}"
        ),
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}{added}",
        # Brokers must talk over PLAINTEXT, not CONTROLLER, or transaction commits hang.
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
        + "".join(f",{name}:{name}" for name in extra),
        "log.dirs": str(data_dir),
        **defaults,
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


@dataclass
class LocalBroker:
    """A running broker process; ``stop()`` shuts it down and says whether that went cleanly."""

    bootstrap_servers: str
    process: subprocess.Popen[bytes]
    log_path: Path
    stopped_cleanly: bool | None = None  # set by stop(): False if it had to be killed
    log_start: int = 0  # where this process's lines begin (a restarted node appends to its log)
    stop_requested: bool = False  # request_stop() sent SIGTERM

    def log_text(self) -> str:
        """What this process has logged so far."""
        with self.log_path.open("rb") as log:
            log.seek(self.log_start)
            return log.read().decode("utf-8", errors="replace")

    def last_log_lines(self, count: int = 5) -> str:
        lines = self.log_text().splitlines()
        return " | ".join(line.strip() for line in lines[-count:]) or "(empty log)"

    def log_says_started(self) -> bool:
        return STARTED_LINE in self.log_text()

    def request_stop(self) -> None:
        """Send SIGTERM (a controlled shutdown) without waiting; ``stop()`` waits."""
        if self.process.poll() is None and not self.stop_requested:
            self.process.send_signal(signal.SIGTERM)
            self.stop_requested = True

    def stop(self) -> bool:
        """SIGTERM (a controlled shutdown), then SIGKILL if that takes too long. True if clean."""
        if self.stopped_cleanly is not None:
            return self.stopped_cleanly  # stopped before
        if self.process.poll() is not None and not self.stop_requested:
            self.stopped_cleanly = False  # it had already died
            return False
        self.request_stop()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
            self.stopped_cleanly = True
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self.stopped_cleanly = False
        return self.stopped_cleanly


@contextmanager
def local_broker(
    port: int | None = None,
    *,
    extra_listeners: Mapping[str, int] | None = None,
    extra_settings: Mapping[str, str] | None = None,
) -> Iterator[LocalBroker]:
    """Start a broker from the cached jars on ``port`` (default: a free one); stop it on exit.

    ``extra_listeners`` (security protocol -> port, say ``{"SASL_PLAINTEXT": 9094}``) listen
    beside PLAINTEXT on 127.0.0.1; ``extra_settings`` are added to the broker's properties (what
    such a listener needs, say its JAAS config). Both are for tests.
    """
    if port is not None and port_in_use(port):
        raise BrokerUnavailable(f"127.0.0.1:{port} is already in use (another broker running?)")
    version = java_major_version()
    if version is None or version < MIN_JAVA:
        found = "no java on PATH" if version is None else f"found Java {version}"
        raise BrokerUnavailable(f"the local broker needs Java {MIN_JAVA}+ ({found})")
    libs = ensure_jars()
    port = port if port is not None else free_port()
    with tempfile.TemporaryDirectory(prefix="faust-katas-kafka-") as work:
        properties = Path(work) / "server.properties"
        controller_port = free_port()
        text = node_properties(
            1,
            port,
            controller_port,
            f"1@127.0.0.1:{controller_port}",
            Path(work) / "data",
            {**SINGLE_NODE_SETTINGS, **(extra_settings or {})},
            extra_listeners or {},
        )
        properties.write_text(text)
        _format_storage(libs, properties)
        broker = _launch(libs, properties, port)
        try:
            _wait_until_ready(broker)
            yield broker
        finally:
            broker.stop()


def _java_command(libs: Path, *arguments: str, heap: str = "512m") -> list[str]:
    # The JVM expands the quoted '*' itself: every jar in the directory is on the classpath.
    java = shutil.which("java") or "java"
    logging = f"-Dlog4j2.configurationFile={LOG4J2_CONFIG}"
    # A test broker lives for minutes: the quick C1 compiler and the serial GC start it in less
    # than half the time (measured: ~2.6 s instead of ~6 s to "started" on 2 cores).
    quick_start = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    return [java, f"-Xmx{heap}", *quick_start, logging, "-cp", f"{libs}/*", *arguments]


def _format_storage(libs: Path, properties: Path, cluster_id: str | None = None) -> None:
    """Format a node's storage; the nodes of one cluster share ``cluster_id``."""
    command = _java_command(libs, "kafka.tools.StorageTool", "format")
    command += [f"--cluster-id={cluster_id or new_cluster_id()}", "--config", str(properties)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines() or ["no output"]
        raise BrokerUnavailable(f"formatting the broker's storage failed: {one_line(output[-1])}")


def _launch(
    libs: Path, properties: Path, port: int, *, heap: str = "512m", restart: bool = False
) -> LocalBroker:
    """Start ``kafka.Kafka``; a ``restart`` appends to the node's log instead of replacing it."""
    logs = cache_root() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for old in sorted(logs.glob("broker-*.log"), key=lambda p: p.stat().st_mtime)[:-KEEP_LOGS]:
        old.unlink(missing_ok=True)
    log_path = logs / f"broker-{port}.log"
    log_start = log_path.stat().st_size if restart and log_path.exists() else 0
    with log_path.open("ab" if restart else "wb") as log:
        process = subprocess.Popen(
            _java_command(libs, "kafka.Kafka", str(properties), heap=heap),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own session: a Ctrl-C in the terminal reaches us, and we stop the broker in order.
            start_new_session=True,
            preexec_fn=_die_with_parent if _can_tie_to_parent() else None,
        )
    return LocalBroker(f"127.0.0.1:{port}", process, log_path, log_start=log_start)


def _wait_until_ready(broker: LocalBroker, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not broker.log_says_started():
        if broker.process.poll() is not None:
            raise BrokerUnavailable(
                f"the local broker exited with code {broker.process.returncode} while starting: "
                f"{one_line(broker.last_log_lines(), 600)} (full log: {broker.log_path})"
            )
        if time.monotonic() > deadline:
            raise BrokerUnavailable(
                f"the local broker did not start within {timeout:.0f} s: "
                f"{one_line(broker.last_log_lines(), 600)} (full log: {broker.log_path})"
            )
        time.sleep(0.2)
    try:
        check_answers(broker.bootstrap_servers, max(5.0, deadline - time.monotonic()))
    except BrokerUnavailable as exc:
        raise BrokerUnavailable(
            f"the local broker started but does not answer: {exc} (full log: {broker.log_path})"
        ) from None


def _can_tie_to_parent() -> bool:
    # PR_SET_PDEATHSIG fires when the *thread* that started the child ends, so only use it from
    # the main thread (which lives as long as the process). Linux only.
    return sys.platform == "linux" and threading.current_thread() is threading.main_thread()


def _die_with_parent() -> None:
    # Runs in the child before exec: if our process is killed (say, CI kills pytest), the kernel
    # sends the broker SIGTERM, so no broker is left running behind us.
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
