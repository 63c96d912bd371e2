"""Where is the table data actually stored? Real workers against a real broker answer it.

Each test runs YOUR pipeline of phases 2 and 3 (``KATA_PHASES=2,3``; the reference solutions
only under ``--solutions``) in real workers: raw readings in, enrichment, then the counts.
The counts are read back from the worker's web server (Faust's ``/table/sensor-counts/<sensor>/``
page) and from the changelog topic itself.

- changelog + recovery: the changelog topic is compacted and holds the latest count per sensor;
  a new worker with an EMPTY working directory gets exactly those counts back;
- crash: SIGKILL mid-stream, restart: nobody undercounts (at_least_once may count twice);
- scale out: two workers share the partitions; one is killed; the other takes over its
  partitions, recovers their counts from the changelog and finishes the stream.

Figures (overcount, takeover time) are printed (``pytest -s``), never asserted.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from app.catalogue import SensorFleet, to_bytes, valid_reading
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import (
    Worker,
    create_topics,
    end_offsets,
    group_offsets,
    read_records,
    running_worker,
)

# The phases the workers load. A stub left in any of their tasks fails these tests at once,
# before a broker is asked for (the kata plugin reads this name).
KATA_PHASES = "2,3"
PARTITIONS = 4
SENSORS = 20
WAIT_S = 90.0  # a guard against a hang, not a performance assertion
MALFORMED = b'{"sensor_id": "sensor-001", "temperature": "hot"}'  # a dead letter, never counted
# A killed worker sends no goodbye: the group notices it only when its session times out
# (Faust's default: 60 s), and until then a takeover, or a restarted worker's first assignment,
# waits. The broker accepts 6 s at the least (group.min.session.timeout.ms); the heartbeat must
# come several times per session. Faust reads both from the environment. README: "Settings".
FAST_FAILOVER = {"BROKER_SESSION_TIMEOUT": "6", "BROKER_HEARTBEAT_INTERVAL": "1"}


def readings(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """``count`` valid readings of SENSORS sensors, keyed by sensor, plus one malformed in 20."""
    rng = random.Random(seed)
    fleet = SensorFleet.create(SENSORS, random.Random(seed))
    events: list[tuple[bytes, bytes]] = []
    for n in range(count):
        reading = valid_reading(rng, fleet, n, 1_700_000_000.0 + n)
        events.append((str(reading["sensor_id"]).encode(), to_bytes(reading)))
        if n % 20 == 0:
            events.append((b"sensor-001", MALFORMED))
    return events


def expected_counts(events: list[tuple[bytes, bytes]]) -> Counter[str]:
    return Counter(key.decode() for key, value in events if value != MALFORMED)


async def produce(servers: str, topic: str, events: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=5)
    await producer.start()
    try:
        for key, value in events:
            await producer.send(topic, value=value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


def web_count(worker: Worker, sensor: str) -> int:
    url = f"http://127.0.0.1:{worker.web_port}/table/sensor-counts/{sensor}/"
    with urllib.request.urlopen(url, timeout=5) as response:
        return int(json.loads(response.read()))


def worker_counts(worker: Worker, sensors: list[str]) -> dict[str, int]:
    """The counts as the worker holds them in memory, read through its web server."""
    worker.check_alive()
    try:
        return {sensor: web_count(worker, sensor) for sensor in sensors}
    except OSError:  # the web server is not up yet
        return {}


# The rules these tests wait on, said in their failure messages.
COUNT_RULE = (
    "task 3.1: count_by_sensor adds one to sensor_counts[sensor_id] per enriched reading, "
    "through the table (sensor_counts[...] = ...), so the count reaches the changelog"
)
HOOK_RULE = (
    "task 3.4: after each rebalance the start-up hook logs one INFO line 'recovered <n> sensors "
    "(<m> readings) from the changelog; partitions [<p>, ...] of <topic>', naming the "
    "partitions of enriched-readings this worker owns as a sorted list"
)


def wait_for(
    what: str, check: Callable[[], bool], worker: Worker, rule: str, timeout: float = WAIT_S
) -> None:
    """Until ``check()``; else fail, saying which ``rule`` the wait depends on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.check_alive()
        if check():
            return
        time.sleep(0.25)
    hooks = recovered_lines(worker)[-2:]
    raise AssertionError(
        f"waited {timeout:g} s for {what}. The rule it depends on: {rule}. The worker's last "
        f"start-up hook lines: {hooks or 'none'}; its log ends:\n{worker.log_tail()}"
    )


def recovered_lines(worker: Worker) -> list[str]:
    """The start-up hook's lines (task 3.4) in the worker's log."""
    text = worker.log.read_text(errors="replace")
    return re.findall(r"recovered \d+ sensors \(\d+ readings\) from the changelog.*", text)


def at_least(expected: Counter[str]) -> Callable[[dict[str, int]], bool]:
    return lambda got: bool(got) and all(got[s] >= n for s, n in expected.items())


def setup_topics(isolation: KafkaIsolation) -> tuple[str, dict[str, str]]:
    """Create the pipeline's topics; the readings topic and the env for the workers."""
    names = [
        isolation.topic(n) for n in ("sensor-readings", "enriched-readings", "sensor-dead-letter")
    ]
    asyncio.run(create_topics(isolation.bootstrap_servers, names, PARTITIONS))
    env = {**isolation.env(), "KATA_TOPIC_PARTITIONS": str(PARTITIONS)}
    return names[0], env


async def changelog_state(servers: str, topic: str) -> tuple[str, dict[str, int]]:
    """The changelog topic's cleanup.policy and its latest value per key."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        [described] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
    finally:
        await admin.close()
    configs = {name: value for name, value, *_rest in described.resources[0][4]}
    records = await read_records(servers, [topic], expected=1, settle_ms=1500)
    latest: dict[str, int] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        # Key and value are JSON on the wire: '"sensor-001"' -> 27.
        latest[json.loads(record.key or b"null")] = json.loads(record.value or b"null")
    return str(configs.get("cleanup.policy")), latest


@pytest.mark.kafka
def test_the_changelog_holds_the_counts_and_a_fresh_worker_recovers_them(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")
    servers = isolation.bootstrap_servers
    source, env = setup_topics(isolation)
    events = readings(600, seed=3)
    expected = expected_counts(events)
    sensors = sorted(expected)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()

    with running_worker(env, first, phases=KATA_PHASES) as worker:
        asyncio.run(produce(servers, source, events))
        wait_for(
            "the first worker to count every reading",
            lambda: worker_counts(worker, sensors) == dict(expected),
            worker,
            COUNT_RULE,
        )
    # SIGTERM: a clean stop. Its memory is gone; only Kafka remains.

    changelog = f"{isolation.app_id}-sensor-counts-changelog"
    policy, latest = asyncio.run(changelog_state(servers, changelog))
    assert policy == "compact", (
        f"{changelog} has cleanup.policy={policy!r}; expected 'compact': only the latest count "
        "per sensor matters"
    )
    assert latest == dict(expected), (
        f"the latest value per key in {changelog} is {latest}; expected the counts {dict(expected)}"
    )

    with running_worker(env, second, phases=KATA_PHASES) as fresh:  # an empty working directory
        wait_for("the start-up hook's line", lambda: bool(recovered_lines(fresh)), fresh, HOOK_RULE)
        got = worker_counts(fresh, sensors)
        lines = recovered_lines(fresh)
    assert got == dict(expected), (
        f"a fresh worker in an empty directory holds {got}; expected exactly {dict(expected)}, "
        "recovered from the changelog"
    )
    total = sum(expected.values())
    assert any(f"recovered {len(expected)} sensors ({total} readings)" in line for line in lines), (
        f"the fresh worker's start-up hook logged {lines}; expected "
        f"'recovered {len(expected)} sensors ({total} readings) ...'"
    )


@pytest.mark.kafka
def test_a_crash_mid_stream_never_undercounts(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")
    servers = isolation.bootstrap_servers
    source, env = setup_topics(isolation)
    env = {**env, **FAST_FAILOVER}  # the restarted worker waits for the dead one's session
    warm_up, rest = readings(300, seed=5), readings(1500, seed=6)
    expected = expected_counts(warm_up) + expected_counts(rest)
    sensors = sorted(expected)

    with running_worker(env, tmp_path, phases=KATA_PHASES) as worker:
        asyncio.run(produce(servers, source, warm_up))
        wait_for(
            "the warm-up",
            lambda: at_least(expected_counts(warm_up))(worker_counts(worker, sensors)),
            worker,
            COUNT_RULE,
        )
        asyncio.run(produce(servers, source, rest))
        time.sleep(0.5)  # mid-stream: the worker is busy with `rest`
        worker.process.kill()  # SIGKILL: no commit, no flush, no goodbye
        worker.process.wait(timeout=10)

    with running_worker(env, tmp_path, phases=KATA_PHASES) as restarted:
        wait_for(
            "the restarted worker to finish the stream",
            lambda: at_least(expected)(worker_counts(restarted, sensors)),
            restarted,
            COUNT_RULE,
        )
        time.sleep(3.0)  # let duplicates still in flight arrive
        got = worker_counts(restarted, sensors)
    under = {s: (got[s], n) for s, n in expected.items() if got[s] < n}
    assert not under, f"after a crash these sensors undercount (got, expected): {under}"
    over = sum(got.values()) - sum(expected.values())
    print(
        f"\ncrash overcount: {over} counts more than the {sum(expected.values())} readings "
        "(at_least_once: what ran after the last commit runs again)"
    )


def ready(worker: Worker) -> bool:
    """The worker logged Faust's "[^Worker]: Ready": started, assigned, recovered."""
    return "[^Worker]: Ready" in worker.log.read_text(errors="replace")


def partitions_named(line: str) -> list[int]:
    """The partitions a start-up hook line names: '... partitions [0, 2] of ...' -> [0, 2]."""
    found = re.search(r"partitions \[([\d, ]*)\]", line)
    return [int(p) for p in found.group(1).split(",") if p.strip()] if found else []


def recovered_readings(line: str) -> int:
    """The readings a start-up hook line reports: '... (635 readings) ...' -> 635; -1 if none."""
    found = re.search(r"recovered \d+ sensors \((\d+) readings\)", line)
    return int(found.group(1)) if found else -1


async def uncommitted(servers: str, group: str, topics: list[str]) -> int:
    """How many records of ``topics`` the group has not committed yet (end offset - committed)."""
    committed = await group_offsets(servers, group)
    ends = await end_offsets(servers, topics)
    return sum(end - committed.get(tp, 0) for tp, end in ends.items())


@pytest.mark.kafka
def test_a_second_worker_takes_over_when_one_is_killed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")
    servers = isolation.bootstrap_servers
    source, env = setup_topics(isolation)
    env = {**env, **FAST_FAILOVER}
    before, after = readings(400, seed=8), readings(400, seed=9)
    expected = expected_counts(before) + expected_counts(after)
    sensors = sorted(expected)
    everything = list(range(PARTITIONS))
    streams = [source, isolation.topic("enriched-readings")]
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    dir_a.mkdir()
    dir_b.mkdir()

    with running_worker(env, dir_a, phases=KATA_PHASES) as survivor:
        wait_for("worker A to be ready", lambda: ready(survivor), survivor, "the worker starts")
        with running_worker(env, dir_b, phases=KATA_PHASES) as victim:

            def shared() -> bool:
                mine, theirs = recovered_lines(survivor), recovered_lines(victim)
                return (
                    ready(victim)
                    and bool(mine and theirs)
                    and partitions_named(mine[-1]) != everything
                    and bool(partitions_named(theirs[-1]))
                )

            wait_for("the two workers to share the partitions", shared, victim, HOOK_RULE)
            owned_by_a = partitions_named(recovered_lines(survivor)[-1])
            owned_by_b = partitions_named(recovered_lines(victim)[-1])
            asyncio.run(produce(servers, source, before))
            # Kill B only once the group has committed everything B read: see the README
            # ("Scale out") for what Faust 0.15.3 loses when a partition has no committed offset.
            wait_for(
                "the two workers to count and commit the first half",
                lambda: asyncio.run(uncommitted(servers, isolation.app_id, streams)) == 0,
                victim,
                "task 3.4's worker commits as it goes: phases 2 and 3 together must keep up",
            )
            seen = len(recovered_lines(survivor))
            victim.process.kill()  # SIGKILL: no goodbye to the group
            killed = time.monotonic()
            victim.process.wait(timeout=10)
        asyncio.run(produce(servers, source, after))

        def takeover_line() -> str:
            """A's first hook line after the kill that names every partition ('' until then)."""
            lines = recovered_lines(survivor)[seen:]
            return next((x for x in lines if partitions_named(x) == everything), "")

        wait_for(
            "worker A to take over every partition",
            lambda: bool(takeover_line()),
            survivor,
            HOOK_RULE,
        )
        takeover = time.monotonic() - killed
        line = takeover_line()
        wait_for(
            "worker A to finish the stream",
            lambda: at_least(expected)(worker_counts(survivor, sensors)),
            survivor,
            COUNT_RULE,
        )
        time.sleep(3.0)  # let duplicates still in flight arrive
        got = worker_counts(survivor, sensors)
    assert owned_by_a and owned_by_b and not set(owned_by_a) & set(owned_by_b), (
        f"worker A reported partitions {owned_by_a} and worker B {owned_by_b}; expected each a "
        "share, no partition twice"
    )
    first_half = sum(expected_counts(before).values())
    assert recovered_readings(line) >= first_half, (
        f"after the takeover worker A logged {line!r}; expected at least the {first_half} "
        "readings of the first half, B's share recovered from the changelog"
    )
    under = {s: (got[s], n) for s, n in expected.items() if got[s] < n}
    assert not under, f"after the takeover these sensors undercount (got, expected): {under}"
    over = sum(got.values()) - sum(expected.values())
    print(
        f"\nscale-out: A had {owned_by_a}, B had {owned_by_b}; takeover {takeover:.1f} s after "
        f"SIGKILL (session timeout {FAST_FAILOVER['BROKER_SESSION_TIMEOUT']} s); overcount {over}"
    )
