"""Task 3.2: count_by_status counts readings per status, repartitioned through group_by.

No broker needed: in the test context the repartition channel lives in memory, and the harness
(``record_forwards``) shows what group_by re-sent, and with which key.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import faust
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.config import Status
from kata_engine.testing import Forwarded, record_forwards, run_agent
from katas.phase3.status_counts import count_by_status, status_counts
from katas.phase3.test_counting import enriched

STATUSES = [status.value for status in Status]
SENSORS = ("sensor-a", "sensor-b", "sensor-c", "sensor-d")


async def put_all(readings: list[tuple[str, str]]) -> tuple[list[Any], list[Forwarded]]:
    """Put (sensor_id, status) readings, keyed and partitioned by sensor.

    Returns the agent's results and what it re-sent (repartitioned) on the way.
    """
    with record_forwards() as forwarded:
        async with run_agent(count_by_status) as run:
            for sequence, (sensor_id, status) in enumerate(readings):
                reading = enriched(sensor_id, sequence, status=status)
                await run.put(reading, key=sensor_id, partition=SENSORS.index(sensor_id))
    return run.results, forwarded


async def test_counts_per_status_across_sensors(faust_app: faust.App) -> None:
    readings = [
        ("sensor-a", "normal"),
        ("sensor-b", "critical"),
        ("sensor-c", "normal"),
        ("sensor-a", "warning"),
        ("sensor-d", "normal"),
    ]
    results, _forwarded = await put_all(readings)
    counts = dict(status_counts.items())
    assert counts == {"normal": 3, "critical": 1, "warning": 1}, (
        f"readings {readings} gave the status counts {counts}; "
        "expected {'normal': 3, 'critical': 1, 'warning': 1}"
    )
    expected = [("normal", 1), ("critical", 1), ("normal", 2), ("warning", 1), ("normal", 3)]
    assert sorted(results) == sorted(expected), (
        f"the agent yielded {results}; expected (status, new count) per reading: {expected}"
    )


async def test_every_reading_is_repartitioned_by_its_status(faust_app: faust.App) -> None:
    readings = [("sensor-a", "normal"), ("sensor-b", "critical"), ("sensor-c", "warning")]
    _results, forwarded = await put_all(readings)
    keys = [item.key for item in forwarded]
    expected = [status for _sensor, status in readings]
    assert keys == expected, (
        f"readings keyed by sensor were re-sent with the keys {keys}; expected one re-send per "
        f"reading keyed by its status {expected}. The table is keyed by status, so each status's "
        "readings must meet in one partition: stream.group_by(EnrichedReading.status, ...)"
    )


async def test_the_repartition_topic_is_named_status(faust_app: faust.App) -> None:
    _results, forwarded = await put_all([("sensor-a", "normal"), ("sensor-b", "critical")])
    suffixes = sorted({str(item.suffix) for item in forwarded})
    assert suffixes == ["-status-repartition"], (
        f"group_by re-sent the readings to a topic whose name ends {suffixes}; expected "
        "['-status-repartition']: group_by(..., name=\"status\") names the repartition topic "
        "count_by_status-<enriched-readings>-status-repartition (README: Repartitioning). "
        "Another name is another topic: a worker upgraded to it starts an empty one, and "
        "what the old topic still holds is never counted"
    )


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    readings=st.lists(st.tuples(st.sampled_from(SENSORS), st.sampled_from(STATUSES)), max_size=20)
)
async def test_the_status_table_equals_a_counter_of_statuses(
    faust_app: faust.App, readings: list[tuple[str, str]]
) -> None:
    status_counts.data.clear()
    await put_all(readings)
    counts = dict(status_counts.items())
    expected = dict(Counter(status for _sensor, status in readings))
    assert counts == expected, f"readings {readings} gave {counts}; expected {expected}"
