"""Task 4.5: the window agents, in Faust's test context (no broker).

``aggregate_windows`` folds readings from enriched-readings; ``close_idle_windows`` receives the
ticks a timer sends to every partition. The tests play the timer: a tick carries its own wall
clock (``sent_at``), so "the close delay has passed" is a tick dated later, not a sleep.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import faust
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.config import ErrorCode, settings
from app.faust_app import topics
from app.models import DeadLetter, EnrichedReading, WindowAggregate, WindowTick
from kata_engine.testing import AgentRun, reset_tables, run_agent
from katas.phase4.windowing import activity, aggregate_windows, close_idle_windows, late_events

SIZE = settings.window_size
GRACE = settings.window_grace
START = 1_700_000_040.0  # a whole multiple of 60: the start of a window


def reading(sensor: str, timestamp: float, temperature: float = 20.0) -> EnrichedReading:
    return EnrichedReading(
        reading_id=f"{sensor}@{timestamp}",
        sensor_id=sensor,
        temperature=temperature,
        humidity=50.0,
        timestamp=timestamp,
        status="normal",
        processed_at=time.time(),
    )


@dataclass
class Pipeline:
    """Both agents; every send of either lands in ``run.sent``."""

    run: AgentRun
    ticks: AgentRun

    async def read(
        self, sensor: str, timestamp: float, temperature: float = 20.0, *, partition: int = 0
    ) -> None:
        await self.run.put(reading(sensor, timestamp, temperature), key=sensor, partition=partition)

    async def quiet(self, partition: int = 0) -> None:
        """A tick dated after the close delay: the partition has been quiet long enough."""
        sent_at = time.time() + settings.window_close_delay + 1.0
        await self.ticks.put(WindowTick(sent_at=sent_at), partition=partition)

    def aggregates(self) -> list[WindowAggregate]:
        return [m.value for m in self.run.sent_to(topics.window_aggregates)]

    def dead_letters(self) -> list[DeadLetter]:
        return [m.value for m in self.run.sent_to(topics.dead_letter)]


@pytest.fixture(autouse=True)
def fresh_activity() -> None:
    activity.last_seen.clear()  # the agents' memory of quiet partitions, per test


@asynccontextmanager
async def pipeline() -> AsyncIterator[Pipeline]:
    # The tick agent captures nothing itself: the first context records every send.
    async with (
        run_agent(aggregate_windows) as run,
        run_agent(close_idle_windows, capture=[]) as ticks,
    ):
        yield Pipeline(run, ticks)


def keys(aggregates: list[WindowAggregate]) -> list[tuple[str, float]]:
    return sorted((a.sensor_id, a.window_start) for a in aggregates)


async def test_readings_in_one_window_give_one_exact_aggregate(faust_app: faust.App) -> None:
    async with pipeline() as p:
        for offset, temperature in [(1.0, 10.0), (5.0, 20.0), (30.0, 60.0)]:
            await p.read("sensor-a", START + offset, temperature)
        assert p.aggregates() == [], (
            f"the agent emitted {p.aggregates()} while the window was still open"
        )
        await p.read("sensor-a", START + SIZE + GRACE, 25.0)  # moves the horizon to the end
    expected = WindowAggregate(
        sensor_id="sensor-a",
        window_start=START,
        window_end=START + SIZE,
        count=3,
        min_temperature=10.0,
        max_temperature=60.0,
        avg_temperature=30.0,
    )
    assert p.aggregates() == [expected], (
        f"after readings at +1, +5, +30 s and one at end + grace, the agent emitted "
        f"{p.aggregates()}; expected exactly {expected}"
    )
    [message] = p.run.sent_to(topics.window_aggregates)
    assert message.key == "sensor-a", (
        f"the aggregate was keyed {message.key!r}; expected the sensor"
    )


async def test_a_reading_just_before_the_end_and_one_at_it_fall_in_two_windows(
    faust_app: faust.App,
) -> None:
    async with pipeline() as p:
        await p.read("sensor-a", START + 59.999)
        await p.read("sensor-a", START + 60.0)
        await p.quiet()
    got = [(a.window_start, a.count) for a in p.aggregates()]
    expected = [(START, 1), (START + SIZE, 1)]
    assert got == expected, (
        f"readings at +59.999 s and +60.0 s gave (window_start, count) {got}; expected {expected}"
    )


async def test_interleaved_sensors_are_aggregated_apart(faust_app: faust.App) -> None:
    async with pipeline() as p:
        for step in range(6):
            sensor = "sensor-a" if step % 2 else "sensor-b"
            await p.read(sensor, START + step, temperature=float(step))
        await p.quiet()
    got = {(a.sensor_id, a.count, a.min_temperature, a.max_temperature) for a in p.aggregates()}
    expected = {("sensor-a", 3, 1.0, 5.0), ("sensor-b", 3, 0.0, 4.0)}
    assert got == expected, f"interleaved sensors gave {got}; expected {expected}"


async def test_event_time_decides_not_the_wall_clock(faust_app: faust.App) -> None:
    # Readings from 2020, processed now: they must still be aggregated, not called late.
    old = 1_600_000_020.0
    async with pipeline() as p:
        await p.read("sensor-a", old)
        await p.read("sensor-a", old + SIZE + GRACE)
    assert p.dead_letters() == [], (
        f"readings from 2020 were dead-lettered: {p.dead_letters()}; their windows are decided "
        "by their timestamps, not by the wall clock"
    )
    assert keys(p.aggregates()) == [("sensor-a", old - old % SIZE)], (
        f"the agent emitted {p.aggregates()}; expected the 2020 window of sensor-a"
    )


async def test_a_window_closes_with_no_later_event_once_the_partition_is_quiet(
    faust_app: faust.App,
) -> None:
    async with pipeline() as p:
        await p.read("sensor-a", START + 1.0)
        await p.ticks.put(WindowTick(sent_at=time.time()), partition=0)  # not quiet yet
        assert p.aggregates() == [], (
            "a tick right after a reading closed the window; expected it to wait for the "
            f"close delay ({settings.window_close_delay} s of silence)"
        )
        await p.quiet()
        await p.quiet()  # a second tick finds nothing left to close
    assert keys(p.aggregates()) == [("sensor-a", START)], (
        f"after the partition was quiet for the close delay the agent emitted "
        f"{p.aggregates()}; expected sensor-a's window, exactly once"
    )


async def test_a_late_reading_is_dead_lettered_and_the_window_not_re_emitted(
    faust_app: faust.App,
) -> None:
    async with pipeline() as p:
        await p.read("sensor-a", START + 1.0, 20.0)
        await p.read("sensor-a", START + SIZE + GRACE, 20.0)  # closes [START, START + 60)
        await p.read("sensor-a", START + 2.0, 99.0)  # late: its window is closed
        await p.quiet()
    late = [d for d in p.dead_letters() if d.error_code == ErrorCode.LATE_EVENT.value]
    assert len(late) == 1, (
        f"a reading for a closed window gave {len(late)} late_event dead letters "
        f"({p.dead_letters()}); expected one"
    )
    first = [a for a in p.aggregates() if a.window_start == START]
    assert len(first) == 1 and first[0].max_temperature == 20.0, (
        f"the closed window was emitted as {first}; expected once, without the late reading"
    )
    assert late_events["sensor-a"] == 1, (
        f"late_events['sensor-a'] is {late_events['sensor-a']}; expected the late reading counted"
    )


async def test_no_window_is_lost_on_any_partition(faust_app: faust.App) -> None:
    sensors = {f"sensor-{p}": p for p in range(4)}
    async with pipeline() as p:
        for sensor, partition in sensors.items():
            await p.read(sensor, START + 5.0, partition=partition)
        for sensor, partition in sensors.items():
            await p.read(sensor, START + SIZE + GRACE, partition=partition)
        for partition in sensors.values():
            await p.quiet(partition)
    got = keys(p.aggregates())
    expected = sorted([(s, START) for s in sensors] + [(s, START + SIZE) for s in sensors])
    assert got == expected, (
        f"the same windows on four partitions gave {got}; expected each sensor's two windows once"
    )


def brute_force(readings: list[tuple[str, float, float]]) -> dict[tuple[str, float], list[float]]:
    groups: dict[tuple[str, float], list[float]] = {}
    for sensor, timestamp, temperature in readings:
        start = (timestamp // SIZE) * SIZE
        groups.setdefault((sensor, start), []).append(temperature)
    return groups


SENSORS = [f"sensor-{n}" for n in range(6)]
PARTITION = {sensor: n % 4 for n, sensor in enumerate(SENSORS)}
readings_strategy = st.lists(
    st.tuples(
        st.sampled_from(SENSORS),
        st.integers(min_value=0, max_value=600_000).map(lambda ms: START + ms / 1000),
        st.integers(min_value=0, max_value=1000).map(lambda tenths: tenths / 10),
    ),
    max_size=40,
)
hypothesis_options = hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@hypothesis_options
@given(readings=readings_strategy)
async def test_in_order_readings_give_the_brute_force_windows_each_once(
    faust_app: faust.App, readings: list[tuple[str, float, float]]
) -> None:
    reset_tables(faust_app)  # hypothesis runs many examples in one test: start each empty
    activity.last_seen.clear()
    ordered = sorted(readings, key=lambda r: r[1])  # event time order: nothing is late
    async with pipeline() as p:
        for sensor, timestamp, temperature in ordered:
            await p.read(sensor, timestamp, temperature, partition=PARTITION[sensor])
        for partition in range(4):
            await p.quiet(partition)
    emitted = Counter(keys(p.aggregates()))
    groups = brute_force(ordered)
    twice = [key for key, times in emitted.items() if times > 1]
    assert not twice, f"these windows were emitted more than once: {twice}"
    assert set(emitted) == set(groups), (
        f"emitted windows {sorted(emitted)}; expected the brute-force grouping {sorted(groups)}"
    )
    for aggregate in p.aggregates():
        temps = groups[(aggregate.sensor_id, aggregate.window_start)]
        got = (aggregate.count, aggregate.min_temperature, aggregate.max_temperature)
        assert got == (len(temps), min(temps), max(temps)), (
            f"{aggregate} does not match its readings {temps}"
        )
        assert aggregate.avg_temperature == pytest.approx(sum(temps) / len(temps), rel=1e-12), (
            f"{aggregate} has avg {aggregate.avg_temperature}; expected {sum(temps) / len(temps)}"
        )


@hypothesis_options
@given(readings=readings_strategy)
async def test_any_order_every_reading_is_in_one_aggregate_or_one_late_dead_letter(
    faust_app: faust.App, readings: list[tuple[str, float, float]]
) -> None:
    reset_tables(faust_app)  # hypothesis runs many examples in one test: start each empty
    activity.last_seen.clear()
    async with pipeline() as p:
        for sensor, timestamp, temperature in readings:  # arrival order = any order
            await p.read(sensor, timestamp, temperature, partition=PARTITION[sensor])
        for partition in range(4):
            await p.quiet(partition)
    emitted = Counter(keys(p.aggregates()))
    twice = [key for key, times in emitted.items() if times > 1]
    assert not twice, f"these windows were emitted more than once: {twice}"
    late = [d for d in p.dead_letters() if d.error_code == ErrorCode.LATE_EVENT.value]
    counted = sum(a.count for a in p.aggregates())
    assert counted + len(late) == len(readings), (
        f"{len(readings)} readings became {counted} counted in aggregates + {len(late)} late "
        "dead letters; expected every reading in exactly one of them"
    )
