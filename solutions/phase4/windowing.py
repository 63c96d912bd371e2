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
from katas.phase4.emission import advance_horizon, idle_horizon, split_closed
from katas.phase4.late_events import is_late, late_dead_letter
from katas.phase4.windows import window_for


class SensorWindows(faust.Record, serializer="json"):
    """One sensor's open windows, and the partition its readings arrive on."""

    partition: int
    windows: list[WindowStats]


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
# partition number (as text) -> horizon: every window ending at or before it is closed there.
window_horizon = app.Table("window-horizon", default=float)
# sensor_id -> how many of its readings arrived after their window had closed.
late_events = app.Table("late-events", default=int)
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
    enriched = topics.enriched.get_topic_name()
    for tp in sorted(app.assignor.assigned_actives()):
        if tp.topic == enriched:
            tick = WindowTick(sent_at=time.time())
            await topics.window_ticks.send(value=tick, partition=tp.partition)


# Registered by a call rather than as a decorator: Faust's timer decorator is untyped.
app.timer(interval=settings.window_tick_interval)(send_window_ticks)


async def on_reading(event: EventT[EnrichedReading]) -> list[WindowAggregate | DeadLetter]:
    reading = cast(EnrichedReading, event.value)  # the topic's value_type
    partition = event.message.partition
    activity.saw(partition, time.time())
    window = window_for(reading.timestamp, settings.window_size)
    horizon = window_horizon[str(partition)]
    if is_late(window, horizon):
        message = event.message
        dead = late_dead_letter(reading, window, horizon, message.topic, partition, message.offset)
        # partition=: the outcome stays in its source event's partition, so phase 5's
        # transactions commit it together with that event's offset (phase 5 README).
        await topics.dead_letter.send(
            key=reading.sensor_id.encode(),
            value=dead,
            headers=dead_letter_headers(dead),
            partition=partition,
        )
        late_events[reading.sensor_id] += 1
        return [dead]
    state = window_state.get(reading.sensor_id) or SensorWindows(partition=partition, windows=[])
    current = next((stats for stats in state.windows if stats.start == window.start), None)
    others = [stats for stats in state.windows if stats is not current]
    updated = add_reading(current, window, reading.temperature)
    window_state[reading.sensor_id] = SensorWindows(partition=partition, windows=[*others, updated])
    advanced = advance_horizon(horizon, reading.timestamp, settings.window_grace)
    if advanced == horizon:
        return []
    window_horizon[str(partition)] = advanced
    return list(await close_windows(partition, advanced))


async def on_tick(partition: int, now: float) -> list[WindowAggregate]:
    if activity.quiet_for(partition, now) < settings.window_close_delay:
        return []
    open_windows = [stats for _, state in states_of(partition) for stats in state.windows]
    if not open_windows:
        return []
    horizon = idle_horizon(window_horizon[str(partition)], open_windows)
    window_horizon[str(partition)] = horizon
    return await close_windows(partition, horizon)


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


async def close_windows(partition: int, horizon: float) -> list[WindowAggregate]:
    """Emit every window of ``partition`` that ends at or before ``horizon``, each once."""
    sent: list[WindowAggregate] = []
    for sensor, state in states_of(partition):
        closed, still_open = split_closed(state.windows, horizon)
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
