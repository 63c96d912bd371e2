"""Nothing vanishes: every record the broker accepts on sensor-readings gets exactly one outcome.

Real worker (the pipeline's solutions, or the learner's code in learner mode), real broker:
records at 0.5x, 0.9x and 1.0x the broker's ``message.max.bytes``, as value and as key, valid and
malformed, among normal traffic. Each source record must come out exactly once (an enriched
reading, or a dead letter that identifies it), and the worker must never crash.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from app.catalogue import MALFORMED_KINDS, SensorFleet, to_bytes, valid_reading
from app.config import ErrorCode, settings
from app.models import DeadLetter, EnrichedReading
from kata_engine.pytest_plugin import KafkaIsolation
from kata_engine.worker import Record, Worker, read_records, running_worker

PARTITIONS = 4
CASE_HEADER = "x-case"
FRACTIONS = {"0.5x": 0.5, "0.9x": 0.9, "1.0x": 1.0}
SOURCE_TOPICS = ("sensor-readings", "enriched-readings", "sensor-dead-letter")


@dataclass(frozen=True)
class Case:
    """One source record and the outcome the README promises for it."""

    name: str
    key: bytes | None
    value: bytes | None
    topic: str  # "enriched" or "dead_letter"
    code: ErrorCode | None = None


async def broker_message_max_bytes(servers: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        node = str(cluster["brokers"][0]["node_id"])
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, node)])
        entries = response.resources[0][4]
        return next(int(entry[1]) for entry in entries if entry[0] == "message.max.bytes")
    finally:
        await admin.close()


async def create_topics_with(servers: str, topics: dict[str, dict[str, str]]) -> None:
    """Create each topic with PARTITIONS partitions and its own topic-level configs."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(name, PARTITIONS, 1, topic_configs=configs)
                for name, configs in topics.items()
            ]
        )
    finally:
        await admin.close()


def largest(fill: Callable[[int], bytes], other: bytes | None, limit: int, as_key: bool) -> bytes:
    """The longest ``fill(n)`` whose one-record batch is at most ``limit`` bytes."""
    headers = [(CASE_HEADER, b"x" * 40)]

    def size(n: int) -> int:
        data = fill(n)
        key, value = (data, other) if as_key else (other, data)
        return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers))

    n = limit - size(0)
    while size(n) > limit:
        n -= 1
    return fill(n)


def oversize_cases(limit: int, fleet: SensorFleet) -> list[Case]:
    rng = random.Random(5)
    cases: list[Case] = []
    for label, fraction in FRACTIONS.items():
        target = int(limit * fraction)
        reading = valid_reading(rng, fleet, 900 + len(cases), 1_735_689_600.0)
        # Another reading: every valid source record has its own reading_id.
        small_valid = to_bytes(valid_reading(rng, fleet, 950 + len(cases), 1_735_689_601.0))
        broken = b'{"sensor_id": "oops'
        skeleton = to_bytes({**reading, "sensor_id": ""})

        def with_sensor_id(n: int, skeleton: bytes = skeleton) -> bytes:
            return skeleton.replace(b'"sensor_id":""', b'"sensor_id":"' + b"s" * n + b'"')

        def padded(n: int, reading: dict[str, object] = reading) -> bytes:
            return to_bytes(reading)[:-1] + b',"note":"' + b"n" * n + b'"}'

        def text(n: int) -> bytes:
            return b"not json " * (n // 9) + b"x" * (n % 9)

        def key_of(n: int) -> bytes:
            return bytes(range(256)) * (n // 256) + bytes(n % 256)

        key = b"sensor-big"
        cases += [
            Case(
                f"value-not-json-{label}",
                key,
                largest(text, key, target, as_key=False),
                "dead_letter",
                ErrorCode.NOT_JSON,
            ),
            Case(
                f"value-huge-sensor-id-{label}",
                key,
                largest(with_sensor_id, key, target, as_key=False),
                "dead_letter",
                ErrorCode.ID_TOO_LONG,
            ),
            Case(
                f"value-valid-padded-{label}",
                key,
                largest(padded, key, target, as_key=False),
                "enriched",
            ),
            Case(
                f"key-huge-value-valid-{label}",
                largest(key_of, small_valid, target, as_key=True),
                small_valid,
                "enriched",
            ),
            Case(
                f"key-huge-value-broken-{label}",
                largest(key_of, broken, target, as_key=True),
                broken,
                "dead_letter",
                ErrorCode.NOT_JSON,
            ),
        ]
    return cases


def normal_cases(fleet: SensorFleet, count: int) -> list[Case]:
    rng = random.Random(11)
    cases: list[Case] = []
    for n in range(count):
        reading = valid_reading(rng, fleet, n, 1_735_689_600.0 + n)
        key = str(reading["sensor_id"]).encode()
        cases.append(Case(f"valid-{n}", key, to_bytes(reading), "enriched"))
    for kind in MALFORMED_KINDS:
        reading = valid_reading(rng, fleet, 5000 + len(cases), 1_735_689_600.0)
        key = str(reading["sensor_id"]).encode()
        cases.append(
            Case(f"kind-{kind.name}", key, kind.build(reading), "dead_letter", kind.expected)
        )
    return cases


async def produce(servers: str, topic: str, cases: list[Case], limit: int) -> None:
    # The client-side limit is raised so that the broker alone decides what it accepts.
    producer = AIOKafkaProducer(bootstrap_servers=servers, max_request_size=4 * limit)
    await producer.start()
    try:
        for case in cases:  # one record per batch: each is judged against the limit alone
            try:
                await producer.send_and_wait(
                    topic,
                    case.value,
                    key=case.key,
                    headers=[(CASE_HEADER, case.name.encode())],
                )
            except Exception as error:
                raise AssertionError(
                    f"the broker refused the test's own record {case.name} "
                    f"({len(case.key or b''):,} + {len(case.value or b''):,} bytes): {error!r}; "
                    "the test must send only records the broker accepts"
                ) from error
    finally:
        await producer.stop()


def crashed_lines(worker: Worker) -> list[str]:
    text = worker.log.read_text(errors="replace")
    return [line for line in text.splitlines() if "Crashed" in line or "halted" in line]


def assert_exactly_one_outcome(
    cases: dict[str, Case], source: list[Record], outputs: list[Record], names: dict[str, str]
) -> Counter[str]:
    """Every source record has exactly one outcome, the one its case promises; returns a tally."""
    by_coordinates = {(r.partition, r.offset): r for r in source}
    by_reading_id: dict[str, tuple[int, int]] = {}
    for record in source:
        try:
            document = json.loads((record.value or b"").decode("utf-8"))
            by_reading_id[str(document["reading_id"])] = (record.partition, record.offset)
        except Exception:  # malformed records have no usable reading_id
            continue
    outcomes: Counter[tuple[int, int]] = Counter()
    tally: Counter[str] = Counter()
    for output in outputs:
        if output.topic == names["enriched"]:
            reading = EnrichedReading.loads(output.value or b"", serializer="json")
            where = by_reading_id.get(reading.reading_id)
            assert where is not None, f"an enriched reading came from no source: {reading!r}"
            case = cases[by_coordinates[where].headers[CASE_HEADER].decode()]
            assert case.topic == "enriched", (
                f"{case.name} came out as an enriched reading; expected a dead letter "
                f"with code {case.code}"
            )
            tally["enriched"] += 1
        else:
            dead = DeadLetter.loads(output.value or b"", serializer="json")
            where = (dead.source_partition, dead.source_offset)
            original = by_coordinates.get(where)
            assert original is not None, f"a dead letter points at no source record: {where}"
            case = cases[original.headers[CASE_HEADER].decode()]
            assert (case.topic, case.code) == ("dead_letter", dead.error_code), (
                f"{case.name} came out as a dead letter with code {dead.error_code!r} "
                f"({dead.reason[:200]!r}); expected {case.topic} {case.code}"
            )
            assert dead.matches(original.value, original.key), (
                f"the dead letter of {case.name} does not identify its original: stored "
                f"{len(dead.payload() or b''):,} payload bytes of {dead.payload_size} "
                f"(sha256 {dead.payload_sha256}), {len(dead.key() or b''):,} key bytes of "
                f"{dead.key_size}; the source record has {len(original.value or b''):,} + "
                f"{len(original.key or b''):,} bytes"
            )
            truncated = "truncated" if dead.payload_truncated or dead.key_truncated else "exact"
            tally[f"dead_letter {dead.error_code} {truncated}"] += 1
        outcomes[where] += 1
    missing = sorted(
        r.headers[CASE_HEADER].decode() for r in source if outcomes[(r.partition, r.offset)] == 0
    )
    doubled = sorted(
        by_coordinates[where].headers[CASE_HEADER].decode()
        for where, count in outcomes.items()
        if count > 1
    )
    assert not missing and not doubled, (
        f"of {len(source)} source records, these had no outcome: {missing}; these had more than "
        f"one: {doubled}; expected exactly one outcome each"
    )
    return tally


@pytest.mark.kafka
def test_records_up_to_the_broker_limit_each_get_exactly_one_outcome(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")
    servers = isolation.bootstrap_servers
    names = {
        "readings": isolation.topic("sensor-readings"),
        "enriched": isolation.topic("enriched-readings"),
        "dead_letter": isolation.topic("sensor-dead-letter"),
    }
    asyncio.run(create_topics_with(servers, {name: {} for name in names.values()}))
    limit = asyncio.run(broker_message_max_bytes(servers))
    fleet = SensorFleet.create(5, random.Random(3))
    big, normal = oversize_cases(limit, fleet), normal_cases(fleet, 40)
    mixed = [case for pair in zip(normal, big, strict=False) for case in pair]
    mixed += normal[len(big) :]
    cases = {case.name: case for case in mixed}
    env = {**isolation.env(), "KATA_TOPIC_PARTITIONS": str(PARTITIONS)}

    with running_worker(env, tmp_path, phases="2") as worker:
        asyncio.run(produce(servers, names["readings"], mixed, limit))
        source = asyncio.run(read_records(servers, [names["readings"]], len(mixed)))
        outputs = asyncio.run(
            read_records(
                servers,
                [names["enriched"], names["dead_letter"]],
                len(mixed),
                worker=worker,
                timeout=240.0,
                settle_ms=4000,
            )
        )
        worker.check_alive()
    crashes = crashed_lines(worker)
    print(
        f"\nworker log: {len(crashes)} Crashed lines; {len(source)} records in, {len(outputs)} out"
    )

    assert len(source) == len(mixed), f"read back {len(source)} of {len(mixed)} source records"
    tally = assert_exactly_one_outcome(cases, source, outputs, names)
    print("outcomes:", dict(sorted(tally.items())))
    assert not crashes, f"the worker log has crash lines: {crashes[:5]}; expected none"
    assert settings.dead_letter_payload_bytes < int(limit * 0.9), "0.9x must exercise truncation"


def isolated_names(isolation: KafkaIsolation) -> dict[str, str]:
    return {
        "readings": isolation.topic("sensor-readings"),
        "enriched": isolation.topic("enriched-readings"),
        "dead_letter": isolation.topic("sensor-dead-letter"),
    }


TINY = {"max.message.bytes": "200"}  # smaller than any enriched reading or dead letter


@pytest.mark.kafka
def test_an_enriched_reading_the_broker_refuses_becomes_a_send_failed_dead_letter(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")
    servers, names = isolation.bootstrap_servers, isolated_names(isolation)
    # enriched-readings refuses every record (topic-level max.message.bytes): a broker-side
    # refusal, which the producer learns only from the delivery future.
    topics = {names["readings"]: {}, names["enriched"]: TINY, names["dead_letter"]: {}}
    asyncio.run(create_topics_with(servers, topics))
    fleet = SensorFleet.create(3, random.Random(4))
    cases = normal_cases(fleet, 10)[:13]  # 10 valid readings, then the first 3 malformed kinds
    env = {**isolation.env(), "KATA_TOPIC_PARTITIONS": str(PARTITIONS)}

    with running_worker(env, tmp_path, phases="2") as worker:
        asyncio.run(produce(servers, names["readings"], cases, 1_048_588))
        source = asyncio.run(read_records(servers, [names["readings"]], len(cases)))
        outputs = asyncio.run(
            read_records(
                servers, [names["dead_letter"], names["enriched"]], len(cases), worker=worker
            )
        )
        worker.check_alive()
    crashes = crashed_lines(worker)

    by_case = {(r.partition, r.offset): r.headers[CASE_HEADER].decode() for r in source}
    got: Counter[tuple[bool, str]] = Counter()
    for output in outputs:
        assert output.topic == names["dead_letter"], "the broker accepted an enriched reading"
        dead = DeadLetter.loads(output.value or b"", serializer="json")
        name = by_case[(dead.source_partition, dead.source_offset)]
        got[(name.startswith("valid"), dead.error_code)] += 1
    expected: Counter[tuple[bool, str]] = Counter({(True, ErrorCode.SEND_FAILED.value): 10})
    for malformed in cases[10:]:
        expected[(False, str(malformed.code))] += 1
    assert got == expected, (
        f"with enriched-readings refusing every record, the outcomes (valid?, code) were "
        f"{dict(got)}; expected {dict(expected)}: each refused reading dead-lettered as "
        "send_failed, each malformed one as usual"
    )
    assert not crashes, f"the worker log has crash lines: {crashes[:5]}; expected none"


async def committed_offsets(servers: str, group: str) -> dict[tuple[str, int], int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


async def alter_topic(servers: str, topic: str, configs: dict[str, str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15_000)
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs)])
    finally:
        await admin.close()


@pytest.mark.kafka
def test_an_event_without_any_possible_outcome_stops_the_worker_unacknowledged(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    isolation: KafkaIsolation = request.getfixturevalue("kafka_isolation")
    servers, names = isolation.bootstrap_servers, isolated_names(isolation)
    topics = {names["readings"]: {}, names["enriched"]: TINY, names["dead_letter"]: TINY}
    asyncio.run(create_topics_with(servers, topics))
    fleet = SensorFleet.create(3, random.Random(6))
    [case] = normal_cases(fleet, 1)[:1]
    env = {**isolation.env(), "KATA_TOPIC_PARTITIONS": str(PARTITIONS)}
    first = tmp_path / "first"
    first.mkdir()

    with running_worker(env, first, phases="2") as worker:
        asyncio.run(produce(servers, names["readings"], [case], 1_048_588))
        try:
            worker.process.wait(timeout=120)
        except Exception as error:
            raise AssertionError(
                f"the worker kept running although no outcome could be written: {error!r}; "
                f"its log ends:\n{worker.log_tail()}"
            ) from None
        code = worker.process.returncode
        log = worker.log.read_text(errors="replace")
    halted = [line for line in log.splitlines() if "halted without acknowledging" in line]
    assert code == 70 and len(halted) == 1, (
        f"the worker exited with {code} and {len(halted)} 'halted' log line(s); expected exit "
        f"code 70 and one line that says why. Log ends:\n{log[-3000:]}"
    )
    [source] = asyncio.run(read_records(servers, [names["readings"]], 1))
    committed = asyncio.run(committed_offsets(servers, isolation.app_id))
    where = (names["readings"], source.partition)
    assert committed.get(where, -1) <= source.offset, (
        f"after the halt the group committed {committed.get(where)} for {where}; expected at most "
        f"{source.offset}: the event was not acknowledged, so a restart must retry it"
    )

    # The operator fixes the topics; the next worker retries the event and writes its outcome.
    for topic in (names["enriched"], names["dead_letter"]):
        asyncio.run(alter_topic(servers, topic, {"max.message.bytes": "1048588"}))
    second = tmp_path / "second"
    second.mkdir()
    with running_worker(env, second, phases="2") as worker:
        [output] = asyncio.run(read_records(servers, [names["enriched"]], 1, worker=worker))
        worker.check_alive()
    reading = EnrichedReading.loads(output.value or b"", serializer="json")
    assert reading.reading_id == json.loads(case.value or b"")["reading_id"], (
        f"the restarted worker wrote {reading!r}; expected the event the first worker halted on"
    )
