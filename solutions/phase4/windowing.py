"""Task 4.5: the window agents (reference solution)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Sequence
from typing import cast

import faust
from faust.types import EventT, StreamT

from app.config import settings
from app.faust_app import app, topics
from app.models import DeadLetter, EnrichedReading, WindowAggregate, WindowTick
from katas.phase2.dead_letter import dead_letter_headers
from katas.phase4.aggregation import WindowStats, add_reading, to_aggregate
from katas.phase4.emission import (
    advance_horizon,
    consensus_horizon,
    idle_horizon,
    split_closed,
)
from katas.phase4.late_events import is_late, late_dead_letter
from katas.phase4.windows import window_for


class SensorWindows(faust.Record, serializer="json"):
    """One sensor's open windows, and the partition its readings arrive on."""

    partition: int
    windows: list[WindowStats]


class PartitionClock(faust.Record, serializer="json"):
    """A partition's event time: every sensor's own horizon, their consensus, the last offset.

    A sensor's windows close at ``horizon_of(sensor)``: its own horizon (its latest timestamp
    minus the grace), or the consensus (the horizon ``settings.window_quorum`` sensors of the
    partition have reached), whichever is later. One sensor's clock can close only its own
    windows; a sensor that went quiet is closed by the others' consensus.
    """

    sensors: dict[str, float]  # sensor_id -> its own horizon
    consensus: float
    offset: int  # the last enriched-readings offset this partition's window state took in

    def horizon_of(self, sensor: str) -> float:
        return max(self.sensors.get(sensor, 0.0), self.consensus)


NO_CLOCK = PartitionClock(sensors={}, consensus=0.0, offset=-1)  # a partition never seen


class PartitionActivity:
    """When each partition last delivered a reading (processing time, this worker's memory)."""

    def __init__(self) -> None:
        self.last_seen: dict[int, float] = {}

    def saw(self, partition: int, at: float) -> None:
        self.last_seen[partition] = at

    def quiet_for(self, partition: int, now: float) -> float:
        """Seconds since ``partition`` last delivered a reading; 0 the first time it is asked."""
        return now - self.last_seen.setdefault(partition, now)


class PartitionLocks:
    """One lock per partition: the two agents change the same state of a partition."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}

    def __call__(self, partition: int) -> asyncio.Lock:
        return self._locks.setdefault(partition, asyncio.Lock())


# sensor_id -> open windows. Changelog-backed: a restarted worker recovers them.
window_state = app.Table("window-state", default=None, value_type=SensorWindows)
# partition number (as text) -> its PartitionClock: the horizons, and the last offset taken in.
window_horizon = app.Table("window-horizon", default=None, value_type=PartitionClock)
# sensor_id -> how many of its readings arrived after their window had closed.
late_events = app.Table("late-events", default=int)
# partition number (as text) -> how many readings came again after their offset was taken in.
replays = app.Table("window-replays", default=int)
activity = PartitionActivity()
# Hold ``partition_lock(partition)`` for each event's whole work, in both agents: a close awaits
# the broker, and a reading folded meanwhile into the same sensor's windows would be lost.
partition_lock = PartitionLocks()


@app.agent(topics.enriched)
async def aggregate_windows(
    stream: StreamT[EnrichedReading],
) -> AsyncIterator[list[WindowAggregate | DeadLetter]]:
    """Fold every reading into its window; yields what it sent for that reading."""
    async for event in stream.events():
        async with partition_lock(event.message.partition):
            outcome = await on_reading(event)
        yield outcome


@app.agent(topics.window_ticks)
async def close_idle_windows(stream: StreamT[WindowTick]) -> AsyncIterator[list[WindowAggregate]]:
    """Close every open window of a partition that has been quiet for the close delay."""
    async for event in stream.events():
        partition = event.message.partition
        async with partition_lock(partition):
            aggregates = await on_tick(partition, event.value.sent_at)
        yield aggregates


async def send_window_ticks() -> None:
    """Send one tick to every partition of enriched-readings this worker owns."""
    if app.rebalancing:
        # Ownership is changing: under exactly_once a tick for a partition that just went to
        # another worker would go into that worker's transaction and fence it.
        return
    enriched = topics.enriched.get_topic_name()
    ticks = topics.window_ticks.get_topic_name()
    owned = app.assignor.assigned_actives()  # not the standbys
    for tp in sorted(owned & app.consumer.assignment()):
        if tp.topic == enriched and tp._replace(topic=ticks) in owned:
            tick = WindowTick(sent_at=time.time())
            await topics.window_ticks.send(value=tick, partition=tp.partition)


# Registered by a call rather than as a decorator: Faust's timer decorator is untyped.
app.timer(interval=settings.window_tick_interval)(send_window_ticks)


def clock_of(partition: int) -> PartitionClock:
    """The partition's clock, or NO_CLOCK before its first reading (provided)."""
    return window_horizon.get(str(partition)) or NO_CLOCK


async def on_reading(event: EventT[EnrichedReading]) -> list[WindowAggregate | DeadLetter]:
    reading = cast(EnrichedReading, event.value)  # the topic's value_type
    message = event.message
    partition, sensor = message.partition, reading.sensor_id
    activity.saw(partition, time.time())
    clock = clock_of(partition)
    if message.offset <= clock.offset:
        # Seen before: the state already holds this reading (folded, emitted or dead-lettered)
        # and its offset; the consumer went back (a restart before the commit). Not late.
        replays[str(partition)] += 1
        return []
    window = window_for(reading.timestamp, settings.window_size)
    horizon = clock.horizon_of(sensor)
    if is_late(window, horizon):
        dead = late_dead_letter(reading, window, horizon, message.topic, partition, message.offset)
        # partition=: the outcome stays in its source event's partition, so phase 5's
        # transactions commit it together with that event's offset (phase 5 README).
        await topics.dead_letter.send(
            key=sensor.encode(),
            value=dead,
            headers=dead_letter_headers(dead),
            partition=partition,
        )
        late_events[sensor] += 1
        window_horizon[str(partition)] = PartitionClock(
            sensors=clock.sensors, consensus=clock.consensus, offset=message.offset
        )
        return [dead]
    state = window_state.get(sensor) or SensorWindows(partition=partition, windows=[])
    current = next((stats for stats in state.windows if stats.start == window.start), None)
    others = [stats for stats in state.windows if stats is not current]
    updated = add_reading(current, window, reading.temperature)
    window_state[sensor] = SensorWindows(partition=partition, windows=[*others, updated])
    own = clock.sensors.get(sensor, 0.0)
    sensors = {
        **clock.sensors,
        sensor: advance_horizon(own, reading.timestamp, settings.window_grace),
    }
    consensus = max(clock.consensus, consensus_horizon(sensors.values(), settings.window_quorum))
    moved = PartitionClock(sensors=sensors, consensus=consensus, offset=message.offset)
    window_horizon[str(partition)] = moved
    if sensors[sensor] == own and consensus == clock.consensus:
        return []
    return list(await close_windows(partition, moved))


async def on_tick(partition: int, now: float) -> list[WindowAggregate]:
    if activity.quiet_for(partition, now) < settings.window_close_delay:
        return []
    states = states_of(partition)
    if not any(state.windows for _, state in states):
        return []
    # Each sensor closes its own open windows: a far-ahead window of one sensor must not
    # become the others' horizon.
    clock = clock_of(partition)
    sensors = dict(clock.sensors)
    for sensor, state in states:
        sensors[sensor] = idle_horizon(sensors.get(sensor, 0.0), state.windows)
    idle = PartitionClock(sensors=sensors, consensus=clock.consensus, offset=clock.offset)
    window_horizon[str(partition)] = idle
    return await close_windows(partition, idle)


async def delivered(deliveries: Sequence[object]) -> None:
    """Wait for the broker's acknowledgement of each send (a real send returns a future)."""
    for delivery in deliveries:
        if inspect.isawaitable(delivery):
            await delivery


def states_of(partition: int) -> list[tuple[str, SensorWindows]]:
    """The sensors of one partition with their open windows, in sensor order."""
    return sorted(
        (sensor, state)
        for sensor, state in window_state.items()
        if state is not None and state.partition == partition
    )


async def close_windows(partition: int, clock: PartitionClock) -> list[WindowAggregate]:
    """Emit every window of ``partition`` that ends at or before its sensor's horizon, once."""
    sent: list[WindowAggregate] = []
    for sensor, state in states_of(partition):
        closed, still_open = split_closed(state.windows, clock.horizon_of(sensor))
        if not closed:
            continue
        deliveries = []
        for stats in closed:
            aggregate = to_aggregate(sensor, stats)
            deliveries.append(
                await topics.window_aggregates.send(
                    key=sensor, value=aggregate, partition=partition
                )
            )
            sent.append(aggregate)
        # Forget the windows only once the broker has their aggregates: under at_least_once a
        # crash between the two would otherwise lose them (phase 5's crash test). Written after
        # the sends, in the same event: under exactly_once both are one transaction.
        await delivered(deliveries)
        if still_open:
            window_state[sensor] = SensorWindows(partition=partition, windows=still_open)
        else:
            del window_state[sensor]
    return sent
