"""A cluster of local Apache Kafka nodes from the same jars: ``kata broker --nodes 3``.

Every node is broker and controller (KRaft combined mode) and one of the quorum's voters, with
its own ports, data dir and log (``~/.cache/faust-katas/logs/broker-<port>.log``). All nodes are
formatted with one cluster id and started together: a KRaft quorum elects a leader only once a
majority of its voters run. The cluster is ready when every node has logged "Kafka Server
started" and every node's metadata lists every node (a broker is listed only once the active
controller, the quorum's leader, has registered it).

The fault tests use the nodes one by one: ``kill()`` (SIGKILL), ``pause()``/``resume()``
(SIGSTOP/SIGCONT, a hung machine), ``stop()`` (a controlled shutdown) and ``start()`` again on the
same data dir.
"""

from __future__ import annotations

import asyncio
import re
import signal
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from kata_engine.broker.common import (
    CLUSTER_NODES,
    BrokerUnavailable,
    cache_root,
    check_answers,
    cluster_settings,
    free_port,
    new_cluster_id,
    one_line,
    port_in_use,
    run_coroutine,
)
from kata_engine.broker.jars import (
    MIN_JAVA,
    START_TIMEOUT_S,
    LocalBroker,
    _format_storage,
    _launch,
    _wait_until_ready,
    ensure_jars,
    java_major_version,
    node_properties,
)

# Three JVMs share the machine: a small heap each is plenty for test traffic.
NODE_HEAP = "384m"
# The quorum's leader says so in its log:
# "[RaftManager id=2] Completed transition to Leader(localVoterNode=..., epoch=1, ...".
LEADER_LINE = re.compile(
    r"\[RaftManager id=(\d+)\] Completed transition to Leader\(.*?, epoch=(\d+),"
)


@dataclass
class ClusterNode:
    """One node of the cluster: its ports, its properties file, and its current process."""

    node_id: int
    port: int
    controller_port: int
    properties: Path
    libs: Path
    broker: LocalBroker | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return cache_root() / "logs" / f"broker-{self.port}.log"  # where _launch writes it

    def launch(self, *, restart: bool = False) -> None:
        """Start the node's JVM (on its existing data dir when ``restart``); do not wait."""
        if self.broker is not None and self.broker.process.poll() is None:
            raise RuntimeError(f"node {self.node_id} is already running")
        self.broker = _launch(
            self.libs, self.properties, self.port, heap=NODE_HEAP, restart=restart
        )

    def wait_started(self, timeout: float = START_TIMEOUT_S) -> None:
        """Until the node logged "Kafka Server started" and answers a metadata request."""
        assert self.broker is not None, "launch() first"
        _wait_until_ready(self.broker, timeout)

    def start(self) -> None:
        """Restart a stopped or killed node on its data dir and wait until it serves."""
        self.launch(restart=True)
        self.wait_started()

    def kill(self) -> None:
        """SIGKILL: the machine is gone, nothing is flushed, no leadership handed over."""
        assert self.broker is not None
        self.broker.process.kill()
        self.broker.process.wait()
        self.broker.stopped_cleanly = False

    def stop(self) -> bool:
        """A controlled shutdown (SIGTERM): leaderships are moved away first. True if clean."""
        assert self.broker is not None
        return self.broker.stop()

    def pause(self) -> None:
        """SIGSTOP: a hung machine. Its sockets stay open, it answers nobody."""
        assert self.broker is not None
        self.broker.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT: the hung machine wakes up and finds it is no longer a leader."""
        assert self.broker is not None
        self.broker.process.send_signal(signal.SIGCONT)

    def running(self) -> bool:
        return self.broker is not None and self.broker.process.poll() is None


@dataclass
class LocalCluster:
    """Running nodes; ``bootstrap_servers`` lists them all (any one is enough for a client)."""

    nodes: list[ClusterNode]
    cluster_id: str
    data_root: Path
    started_s: float = field(default=0.0)  # seconds from formatting the storage to ready

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.address for node in self.nodes)

    def live_servers(self) -> str:
        """The addresses of the nodes running now (admin requests to a dead node fail)."""
        return ",".join(node.address for node in self.nodes if node.running())

    def node(self, node_id: int) -> ClusterNode:
        return next(node for node in self.nodes if node.node_id == node_id)

    def quorum_leader(self) -> int | None:
        """The node that most recently became the quorum's leader, read from the nodes' logs."""
        latest: tuple[int, int] | None = None  # (epoch, node id)
        for node in self.nodes:
            if node.broker is None:
                continue
            for found in LEADER_LINE.finditer(node.broker.log_text()):
                candidate = (int(found.group(2)), int(found.group(1)))
                if latest is None or candidate > latest:
                    latest = candidate
        return None if latest is None else latest[1]

    def partition_leader(self, topic: str, partition: int) -> int:
        """The node that leads ``topic``'s ``partition`` now, as the cluster's metadata says."""
        leaders = partition_leaders(self.live_servers(), topic)
        if partition not in leaders:
            raise BrokerUnavailable(f"{topic} has no partition {partition}: {leaders}")
        return leaders[partition]

    def stop_all(self) -> None:
        """Stop every node at once: stopped one by one, the last ones lose their quorum's
        majority and their controlled shutdown waits for it in vain."""
        running = [node for node in self.nodes if node.running()]
        for node in running:
            node.resume()  # a paused node cannot shut down
            assert node.broker is not None
            node.broker.request_stop()
        for node in running:
            node.stop()  # waits for the SIGTERM sent above; SIGKILL after STOP_TIMEOUT_S


@contextmanager
def local_cluster(
    nodes: int = CLUSTER_NODES, ports: Sequence[int] | None = None
) -> Iterator[LocalCluster]:
    """Start ``nodes`` KRaft nodes on ``ports`` (default: free ones); stop them all on exit."""
    if nodes < 1:
        raise BrokerUnavailable(f"a cluster needs at least one node, not {nodes}")
    chosen = list(ports) if ports is not None else [free_port() for _ in range(nodes)]
    if len(chosen) != nodes or len(set(chosen)) != nodes:
        raise BrokerUnavailable(f"{nodes} nodes need {nodes} different ports, not {chosen}")
    taken = [port for port in chosen if port_in_use(port)]
    if taken:
        listed = ", ".join(f"127.0.0.1:{port}" for port in taken)
        raise BrokerUnavailable(f"{listed} already in use (another broker running?)")
    version = java_major_version()
    if version is None or version < MIN_JAVA:
        found = "no java on PATH" if version is None else f"found Java {version}"
        raise BrokerUnavailable(f"the local cluster needs Java {MIN_JAVA}+ ({found})")
    libs = ensure_jars()
    controller_ports = [free_port() for _ in chosen]
    voters = ",".join(
        f"{number}@127.0.0.1:{cport}" for number, cport in enumerate(controller_ports, start=1)
    )
    with tempfile.TemporaryDirectory(prefix="faust-katas-cluster-") as work:
        root = Path(work)
        cluster = LocalCluster([], new_cluster_id(), root)
        defaults = cluster_settings(nodes)
        for number, (port, cport) in enumerate(zip(chosen, controller_ports, strict=True), 1):
            node_dir = root / f"node-{number}"
            node_dir.mkdir()
            properties = node_dir / "server.properties"
            properties.write_text(
                node_properties(number, port, cport, voters, node_dir / "data", defaults)
            )
            cluster.nodes.append(ClusterNode(number, port, cport, properties, libs))
        began = time.monotonic()
        with ThreadPoolExecutor(len(cluster.nodes)) as pool:  # each format is a JVM start
            for formatted in [
                pool.submit(_format_storage, libs, node.properties, cluster.cluster_id)
                for node in cluster.nodes
            ]:
                formatted.result()
        try:
            for node in cluster.nodes:
                node.launch()
            for node in cluster.nodes:
                node.wait_started()
            wait_for_every_node(cluster)
            cluster.started_s = time.monotonic() - began
            yield cluster
        finally:
            cluster.stop_all()


def wait_for_every_node(cluster: LocalCluster, timeout: float = START_TIMEOUT_S) -> None:
    """Until every node answers and lists every node (the quorum has a leader that registered
    them all)."""
    wanted = {node.node_id for node in cluster.nodes}
    deadline = time.monotonic() + timeout
    seen: dict[str, set[int]] = {}
    while time.monotonic() < deadline:
        seen = {}
        for node in cluster.nodes:
            with suppress(Exception):  # "not yet": checked again until the deadline
                seen[node.address] = registered_nodes(node.address)
        every_node_lists_all = all(seen.get(node.address) == wanted for node in cluster.nodes)
        if every_node_lists_all and cluster.quorum_leader() is not None:
            return
        time.sleep(0.3)
    raise BrokerUnavailable(
        one_line(
            f"the cluster did not come together within {timeout:.0f} s: each node lists {seen}, "
            f"expected {sorted(wanted)} (logs: "
            + ", ".join(str(node.log_path) for node in cluster.nodes)
            + ")",
            600,
        )
    )


def registered_nodes(address: str) -> set[int]:
    """The node ids ``address`` lists in its metadata (the brokers the controller registered)."""
    check_answers(address, 5.0)
    found: set[int] = set()

    async def ask() -> None:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=address, request_timeout_ms=5000)
        await admin.start()
        try:
            described = await admin.describe_cluster()
            found.update(int(broker["node_id"]) for broker in described["brokers"])
        finally:
            await admin.close()

    run_coroutine(lambda: asyncio.wait_for(ask(), 10.0))
    return found


def partition_leaders(servers: str, topic: str, timeout: float = 30.0) -> dict[int, int]:
    """``topic``'s partitions and the node leading each (-1: none right now).

    Retried until ``timeout``: while a node is down, a request sent to it fails.
    """
    leaders: dict[int, int] = {}

    async def ask() -> None:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=5_000)
        await admin.start()
        try:
            [described] = await admin.describe_topics([topic])
            leaders.update({int(p["partition"]): int(p["leader"]) for p in described["partitions"]})
        finally:
            await admin.close()

    deadline = time.monotonic() + timeout
    while True:
        try:
            run_coroutine(lambda: asyncio.wait_for(ask(), 10.0))
            return leaders
        except Exception:  # a dead node answered nothing: ask again (another node)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
