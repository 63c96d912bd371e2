"""Task 3.1: count_by_sensor keeps a lifetime count per sensor in the sensor-counts table.

No broker needed: the harness runs the agent in Faust's test context. The table is the real one
(module level), emptied before and after each test by the ``faust_app`` fixture.
"""

from __future__ import annotations

import random
from collections import Counter

import faust
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.catalogue import SensorFleet, to_bytes, valid_reading
from app.faust_app import topics
from app.models import EnrichedReading
from kata_engine.testing import record_changelog, run_agent
from katas.phase3.counting import count_by_sensor, sensor_counts

SENSORS = ("sensor-a", "sensor-b", "sensor-c", "sensor-d")


def enriched(sensor_id: str, sequence: int = 1, status: str = "normal") -> EnrichedReading:
    """An enriched reading of ``sensor_id``, as the phase 2 agent sends it."""
    return EnrichedReading(
        reading_id=f"r-{sequence:08d}",
        sensor_id=sensor_id,
        temperature=21.5,
        humidity=40.0,
        timestamp=1_700_000_000.0 + sequence,
        status=status,
        processed_at=1_700_000_001.0 + sequence,
    )


async def put_all(sensor_ids: list[str]) -> list[object]:
    """Put one enriched reading per sensor_id, keyed and partitioned by sensor; the results."""
    async with run_agent(count_by_sensor) as run:
        for sequence, sensor_id in enumerate(sensor_ids):
            partition = SENSORS.index(sensor_id) if sensor_id in SENSORS else 0
            await run.put(enriched(sensor_id, sequence), key=sensor_id, partition=partition)
    return run.results


async def test_counts_after_a_sequence_of_readings(faust_app: faust.App) -> None:
    sequence = ["sensor-a", "sensor-b", "sensor-a", "sensor-c", "sensor-a", "sensor-b"]
    results = await put_all(sequence)
    counts = dict(sensor_counts.items())
    assert counts == {"sensor-a": 3, "sensor-b": 2, "sensor-c": 1}, (
        f"after readings from {sequence} the table holds {counts}; "
        "expected {'sensor-a': 3, 'sensor-b': 2, 'sensor-c': 1}"
    )
    expected = [("sensor-a", 1), ("sensor-b", 1), ("sensor-a", 2), ("sensor-c", 1)]
    expected += [("sensor-a", 3), ("sensor-b", 2)]
    assert results == expected, (
        f"the agent yielded {results}; expected (sensor_id, new count) per reading: {expected}"
    )


async def test_sensors_are_independent(faust_app: faust.App) -> None:
    sensor_counts.data["sensor-a"] = 41  # as if recovered from the changelog
    await put_all(["sensor-b", "sensor-b"])
    counts = dict(sensor_counts.items())
    assert counts == {"sensor-a": 41, "sensor-b": 2}, (
        f"two readings of sensor-b changed the table to {counts}; "
        "expected sensor-a to stay at 41 and sensor-b to be 2"
    )


async def test_a_lifetime_count_continues_from_what_the_table_holds(
    faust_app: faust.App,
) -> None:
    sensor_counts.data["sensor-c"] = 7  # as if recovered from the changelog
    results = await put_all(["sensor-c"])
    assert sensor_counts["sensor-c"] == 8, (
        f"sensor-c had 7 readings and one more arrived; the table says "
        f"{sensor_counts['sensor-c']}, expected 8 (the count never resets)"
    )
    assert results == [("sensor-c", 8)], f"the agent yielded {results}; expected [('sensor-c', 8)]"


async def test_every_change_is_written_to_the_changelog(faust_app: faust.App) -> None:
    with record_changelog(sensor_counts) as writes:
        await put_all(["sensor-a", "sensor-b", "sensor-a"])
    got = [(write.key, write.value, write.partition) for write in writes]
    expected = [("sensor-a", 1, 0), ("sensor-b", 1, 1), ("sensor-a", 2, 0)]
    assert got == expected, (
        f"three readings sent {got} to the changelog (key, value, partition); expected "
        f"{expected}: change the table through `sensor_counts[sensor_id] = ...` (or +=) inside "
        "the agent. Writing sensor_counts.data[...] changes this worker's dict only: nothing "
        "reaches the changelog topic, and a restarted worker recovers nothing"
    )


async def test_the_agent_counts_enriched_readings_only(faust_app: faust.App) -> None:
    await put_all(["sensor-a"])
    # Dead letters never reach enriched-readings: counting there counts valid readings only.
    # An agent on sensor-readings would count the malformed events too.
    consumed = sorted(topic for topic in count_by_sensor.channel.topics)  # type: ignore[attr-defined]
    expected = [topics.enriched.get_topic_name()]
    assert consumed == expected, (
        f"count_by_sensor consumes {consumed}; expected {expected}: only validated, "
        "enriched readings may be counted"
    )


async def test_dead_letters_are_not_counted(faust_app: faust.App) -> None:
    # Phase 2 and phase 3 in one pipeline, without a broker: what enrichment sends on, we count.
    from katas.phase2.enrichment import enrich_readings

    fleet = SensorFleet.create(3, random.Random(5))
    rng = random.Random(5)
    raws = [to_bytes(valid_reading(rng, fleet, n, 1_700_000_000.0 + n)) for n in range(12)]
    raws += [b"not json", b"", b'{"sensor_id": "sensor-001"}']
    async with run_agent(enrich_readings) as enrichment:
        for raw in raws:
            await enrichment.put(raw, key=b"k")
    outputs = enrichment.sent_to(topics.enriched)
    async with run_agent(count_by_sensor) as counting:
        for message in outputs:
            await counting.put(message.value, key=message.key)
    counts = dict(sensor_counts.items())
    expected = dict(Counter(message.value.sensor_id for message in outputs))
    assert counts == expected, (
        f"12 valid and 3 malformed readings gave the counts {counts}; expected {expected} "
        "(the valid readings only)"
    )


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    # The fixture only prepares the app; each example empties the table itself.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sensor_ids=st.lists(st.sampled_from(SENSORS), max_size=25))
async def test_the_table_equals_a_counter_of_sensor_ids(
    faust_app: faust.App, sensor_ids: list[str]
) -> None:
    sensor_counts.data.clear()
    await put_all(sensor_ids)
    counts = dict(sensor_counts.items())
    expected = dict(Counter(sensor_ids))
    assert counts == expected, f"readings from {sensor_ids} gave {counts}; expected {expected}"
