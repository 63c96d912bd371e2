"""Task 4.5: the window agents, in Faust's test context (no broker).

``aggregate_windows`` folds readings from enriched-readings; ``close_idle_windows`` receives the
ticks a timer sends to every partition. The tests play the timer: a tick carries its own wall
clock (``sent_at``), so "the close delay has passed" is a tick dated later, not a sleep.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import faust
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.config import ErrorCode, settings
from app.faust_app import topics
from app.models import DeadLetter, EnrichedReading, WindowAggregate, WindowTick
from kata_engine.testing import AgentRun, reset_tables, run_agent
from katas.phase4.windowing import (
    activity,
    aggregate_windows,
    close_idle_windows,
    late_events,
    replays,
)

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
        self,
        sensor: str,
        timestamp: float,
        temperature: float = 20.0,
        *,
        partition: int = 0,
        offset: int | None = None,
    ) -> None:
        await self.run.put(
            reading(sensor, timestamp, temperature), key=sensor, partition=partition, offset=offset
        )

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
async def pipeline(slow: float | None = None) -> AsyncIterator[Pipeline]:
    # The tick agent captures nothing itself: the first context records every send.
    # slow: each aggregate's delivery takes that many seconds (a broker under load).
    delays = None if slow is None else {topics.window_aggregates: slow}
    async with (
        run_agent(aggregate_windows, slow=delays) as run,
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
# Explicit examples run first, every time: a wrong solution they catch fails at once, without
# depending on what the random search happens to find.
SAME_START_ON_TWO_PARTITIONS = [("sensor-0", START + 1.0, 1.0), ("sensor-1", START + 2.0, 2.0)]
ONE_CLOSED_BY_A_READING = [
    ("sensor-0", START + 1.0, 1.0),
    ("sensor-0", START + SIZE + GRACE + 1.0, 2.0),
]
LATE_AFTER_ITS_WINDOW_WAS_EMITTED = [
    ("sensor-0", START + 1.0, 1.0),
    ("sensor-0", START + 2 * SIZE, 2.0),
    ("sensor-0", START + 2.0, 3.0),
]
hypothesis_options = hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@hypothesis_options
@given(readings=readings_strategy)
@example(readings=SAME_START_ON_TWO_PARTITIONS).via("the same window start on two partitions")
@example(readings=ONE_CLOSED_BY_A_READING).via(
    "one window closes on a reading, one on a quiet partition"
)
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
@example(readings=LATE_AFTER_ITS_WINDOW_WAS_EMITTED).via(
    "the third reading's window was emitted: late"
)
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


async def test_aggregates_and_late_dead_letters_stay_in_the_readings_partition(
    faust_app: faust.App,
) -> None:
    async with pipeline() as p:
        await p.read("sensor-a", START + 1.0, partition=3)
        await p.read("sensor-a", START + SIZE + GRACE, partition=3)  # closes [START, START + 60)
        await p.read("sensor-a", START + 2.0, partition=3)  # late
        await p.quiet(3)
    got = sorted({(m.topic, m.partition) for m in p.run.sent})
    expected = sorted(
        {(topics.window_aggregates.get_topic_name(), 3), (topics.dead_letter.get_topic_name(), 3)}
    )
    assert got == expected, (
        f"readings of partition 3 gave sends to (topic, partition) {got}; expected {expected}: "
        "send every outcome with partition=partition, so phase 5's transaction commits it with "
        "the offset of the event it came from (a key's hash would agree only by luck)"
    )


async def test_a_reading_that_arrives_while_a_tick_closes_windows_is_not_lost(
    faust_app: faust.App,
) -> None:
    async with pipeline(slow=0.3) as p:
        await p.read("sensor-a", START + 1.0)
        closing = asyncio.create_task(p.quiet())  # closes sensor-a's window; the broker is slow
        await asyncio.sleep(0.1)  # the tick agent now waits for the aggregate's delivery
        await p.read("sensor-a", START + SIZE + 1.0)  # the next window: not late
        await closing
        await p.quiet()
    counted = sum(a.count for a in p.aggregates())
    late = len([d for d in p.dead_letters() if d.error_code == ErrorCode.LATE_EVENT.value])
    assert counted + late == 2, (
        f"two readings became {counted} counted in aggregates + {late} late dead letters; "
        "expected each in exactly one. The second reading arrived while a tick was closing "
        "the first one's window (its delivery took 0.3 s): without `async with "
        "partition_lock(partition)` around each event's whole work, the tick writes back the "
        "windows it read before the wait and the reading folded meanwhile is lost"
    )


async def test_one_sensor_running_ahead_does_not_make_its_neighbours_late(
    faust_app: faust.App,
) -> None:
    async with pipeline() as p:
        await p.read("sensor-a", START + 1.0)
        await p.read("sensor-b", START + 2.0)
        await p.read("sensor-a", START + 10 * SIZE)  # sensor-a's clock jumps 10 minutes ahead
        for offset in (3.0, 30.0, SIZE + 5.0):  # sensor-b, same partition, carries on on time
            await p.read("sensor-b", START + offset)
        await p.quiet()
    late_b = [d.reason for d in p.dead_letters() if d.key() == b"sensor-b"]
    assert not late_b, (
        f"sensor-a's clock jumped 10 minutes ahead, and sensor-b's on-time readings were "
        f"dead-lettered: {late_b}. A sensor's windows close on its OWN horizon, or on the "
        f"consensus of settings.window_quorum ({settings.window_quorum}) sensors, never on one "
        "other sensor's clock"
    )
    got = sorted((a.window_start, a.count) for a in p.aggregates() if a.sensor_id == "sensor-b")
    expected = [(START, 3), (START + SIZE, 1)]
    assert got == expected, (
        f"sensor-b's aggregates (window_start, count) are {got}; expected {expected}"
    )


async def test_a_replayed_reading_is_a_replay_not_a_late_event(faust_app: faust.App) -> None:
    async with pipeline() as p:
        await p.read("sensor-a", START + 1.0, offset=0)
        await p.read("sensor-a", START + SIZE + GRACE, offset=1)  # closes [START, START + 60)
        # The consumer goes back (a restart before its offsets were committed): offsets 0 and 1
        # again. Their readings are already in the state: neither late nor counted twice.
        await p.read("sensor-a", START + 1.0, offset=0)
        await p.read("sensor-a", START + SIZE + GRACE, offset=1)
        await p.read("sensor-a", START + SIZE + 20.0, offset=2)  # new
        await p.quiet()
    assert p.dead_letters() == [], (
        f"re-delivered offsets 0 and 1 gave dead letters {[d.reason for d in p.dead_letters()]}; "
        "expected none: a reading whose offset the window state already took in is a replay, "
        "not late (late is a NEW reading whose window has closed)"
    )
    got = sorted((a.window_start, a.count) for a in p.aggregates())
    assert got == [(START, 1), (START + SIZE, 2)], (
        f"the aggregates (window_start, count) are {got}; expected [({START}, 1), "
        f"({START + SIZE}, 2)]: a replayed reading is not folded a second time"
    )
    assert replays["0"] == 2, (
        f"replays['0'] is {replays['0']}; expected 2 (the two re-delivered offsets of partition 0)"
    )


# --- property tests: clock jumps and replays across sensors and partitions ----------------------

Event = tuple[str, float, int, int]  # sensor, timestamp, partition, offset in that partition


def with_offsets(readings: list[tuple[str, float]]) -> list[Event]:
    """Each reading on its sensor's partition, with that partition's next offset."""
    offsets = Counter[int]()
    events = []
    for sensor, timestamp in readings:
        partition = PARTITION[sensor]
        events.append((sensor, timestamp, partition, offsets[partition]))
        offsets[partition] += 1
    return events


def clock_jumps(
    on_time: list[tuple[str, float]], jumps: list[tuple[str, int, float, int]]
) -> tuple[list[Event], set[str]]:
    """``on_time`` with, per jump (sensor, position, seconds ahead, readings), that many readings
    of the sensor dated ahead of the stream inserted at the position. At most one jumping sensor
    per partition: a quorum of 2 promises nothing when two sensors of one partition jump."""
    jumpers: dict[int, str] = {}
    stream = list(on_time)
    for sensor, position, ahead, count in sorted(jumps, key=lambda jump: -jump[1]):
        if jumpers.setdefault(PARTITION[sensor], sensor) != sensor:
            continue
        at = min(position, len(stream))
        now = stream[at - 1][1] if at else START
        stream[at:at] = [(sensor, now + ahead + n) for n in range(count)]
    return with_offsets(stream), set(jumpers.values())


def fixed_clock_jumps() -> tuple[list[Event], set[str]]:
    on_time = [(SENSORS[n % len(SENSORS)], START + 7.0 * n) for n in range(60)]
    jumps = [
        ("sensor-0", 12, 5 * SIZE, 2),  # partition 0, shared with sensor-4
        ("sensor-1", 20, 3 * SIZE, 1),  # partition 1, shared with sensor-5
        ("sensor-2", 30, 8 * SIZE, 3),  # partition 2, alone
    ]
    return clock_jumps(on_time, jumps)


@st.composite
def clock_jump_streams(draw: st.DrawFn) -> tuple[list[Event], set[str]]:
    stamps = sorted(draw(st.lists(st.integers(0, 600_000), max_size=40)))
    on_time = [(draw(st.sampled_from(SENSORS)), START + ms / 1000) for ms in stamps]
    jumps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(SENSORS),
                st.integers(0, 40),
                st.integers(int(SIZE + GRACE), int(20 * SIZE)).map(float),
                st.integers(1, 3),
            ),
            max_size=4,
        )
    )
    return clock_jumps(on_time, jumps)


async def run_events(events: list[Event]) -> Pipeline:
    async with pipeline() as p:
        for sensor, timestamp, partition, offset in events:
            await p.read(sensor, timestamp, partition=partition, offset=offset)
        for partition in range(4):
            await p.quiet(partition)
    return p


@hypothesis_options
@given(stream=clock_jump_streams())
@example(stream=fixed_clock_jumps())
async def test_a_jumping_clock_never_costs_another_sensor_a_reading(
    faust_app: faust.App, stream: tuple[list[Event], set[str]]
) -> None:
    reset_tables(faust_app)  # hypothesis runs many examples in one test: start each empty
    activity.last_seen.clear()
    events, jumpers = stream
    p = await run_events(events)
    emitted = Counter(keys(p.aggregates()))
    twice = [key for key, times in emitted.items() if times > 1]
    assert not twice, f"these windows were emitted more than once: {twice}"
    late = [d for d in p.dead_letters() if d.error_code == ErrorCode.LATE_EVENT.value]
    counted = sum(a.count for a in p.aggregates())
    assert counted + len(late) == len(events), (
        f"{len(events)} readings became {counted} counted in aggregates + {len(late)} late dead "
        "letters; expected every reading in exactly one of them (each partition numbers its "
        "offsets from 0: one partition's offsets say nothing about another's)"
    )
    others = [(s, t, 0.0) for s, t, _, _ in events if s not in jumpers]
    expected = {key: len(temps) for key, temps in brute_force(others).items()}
    got = {
        (a.sensor_id, a.window_start): a.count for a in p.aggregates() if a.sensor_id not in jumpers
    }
    late_others = sorted({d.key() or b"" for d in late} - {s.encode() for s in jumpers})
    assert got == expected and not late_others, (
        f"sensors {sorted(jumpers)} jumped ahead (at most one per partition); the others' "
        f"on-time readings gave windows {sorted(got.items())} and late dead letters for "
        f"{late_others}; expected every one of their readings in its window, each once: "
        f"{sorted(expected.items())}. One sensor's clock must close only its own windows"
    )


@hypothesis_options
@given(readings=readings_strategy, replayed=st.integers(min_value=0, max_value=40))
@example(
    readings=[("sensor-0", START + 1.0, 1.0), ("sensor-0", START + 2 * SIZE, 2.0)],
    replayed=2,
).via("a closed window's reading comes again")
@example(
    readings=[
        ("sensor-0", START + 1.0, 1.0),
        ("sensor-1", START + 2.0, 2.0),
        ("sensor-0", START + 2 * SIZE, 3.0),
        ("sensor-1", START + 2 * SIZE, 4.0),
    ],
    replayed=1,
).via("two partitions, each numbering its offsets from 0")
@example(
    readings=[("sensor-0", START + 2 * SIZE, 1.0), ("sensor-0", START + 1.0, 2.0)],
    replayed=1,
).via("a late reading comes again: it was dead-lettered once, it is a replay now")
async def test_replayed_offsets_change_nothing_and_are_counted(
    faust_app: faust.App, readings: list[tuple[str, float, float]], replayed: int
) -> None:
    reset_tables(faust_app)  # hypothesis runs many examples in one test: start each empty
    activity.last_seen.clear()
    events = with_offsets([(sensor, timestamp) for sensor, timestamp, _ in readings])
    again = events[len(events) - min(replayed, len(events)) :]  # the last ones, delivered twice
    async with pipeline() as p:
        for sensor, timestamp, partition, offset in [*events, *again]:
            await p.read(sensor, timestamp, partition=partition, offset=offset)
        for partition in range(4):
            await p.quiet(partition)
    late = [d for d in p.dead_letters() if d.error_code == ErrorCode.LATE_EVENT.value]
    counted = sum(a.count for a in p.aggregates())
    assert counted + len(late) == len(events), (
        f"{len(events)} readings, of which the last {len(again)} were delivered a second time, "
        f"became {counted} counted in aggregates + {len(late)} late dead letters; expected each "
        "reading once: a re-delivered offset is a replay, neither folded again nor late"
    )
    counted_replays = sum(replays[str(partition)] for partition in range(4))
    assert counted_replays == len(again), (
        f"replays per partition add up to {counted_replays}; expected {len(again)}, one per "
        "re-delivered reading"
    )
