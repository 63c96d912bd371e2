"""Task 4.5: the window agents.

Provided below: the state (four changelog-backed tables), each partition's ``PartitionClock``
(every sensor's own horizon, their consensus, the last offset taken in), the memory of when each
partition last delivered a reading, a lock per partition, and a timer that sends a
``WindowTick`` to every partition of enriched-readings this worker owns. You write the agents.

``aggregate_windows`` (consumes ``topics.enriched``), for EVERY event:

1. ``activity.saw(partition, time.time())``; ``clock = clock_of(partition)``.
2. Replay? ``event.message.offset <= clock.offset``: this reading is already in the state (the
   consumer went back after a restart). Add 1 to ``replays[str(partition)]``, yield ``[]``.
   Nothing else changes: it is neither folded again nor late.
3. The event's window is ``window_for(timestamp)``; the SENSOR's horizon is
   ``clock.horizon_of(sensor_id)``. Late (``is_late``)? Send ``late_dead_letter(...)`` to
   ``topics.dead_letter`` (key: the sensor id's bytes, headers: phase 2's
   ``dead_letter_headers``, ``partition=partition``), add 1 to ``late_events[sensor_id]``,
   store the clock with this ``offset``, and yield ``[dead_letter]``.
4. Otherwise fold the temperature into that sensor's window in ``window_state[sensor_id]``
   (a ``SensorWindows``: the partition and the open windows' ``WindowStats``) and write it back.
5. Move the sensor's own horizon (``advance_horizon`` with ``settings.window_grace``) and the
   consensus (``consensus_horizon`` of all the partition's sensor horizons with
   ``settings.window_quorum``, never moving back); store the new ``PartitionClock`` with this
   ``offset`` in ``window_horizon[str(partition)]``. If either horizon moved, close: for each
   sensor of this partition, ``split_closed`` at ``clock.horizon_of(that sensor)``; send each
   closed window's ``to_aggregate`` to ``topics.window_aggregates`` (key: the sensor id,
   ``partition=partition``), wait until the broker has them (``delivered(...)``, provided),
   then keep only the still-open windows (delete the sensor's entry when none is left). Yield
   the list of what you sent (maybe empty).

``close_idle_windows`` (consumes ``topics.window_ticks``), for every tick: if
``activity.quiet_for(partition, tick.sent_at) >= settings.window_close_delay``, move each
sensor's own horizon to ``idle_horizon(...)`` over ITS open windows (not everyone's: one
sensor's window far ahead must not close the others' future windows), store the clock, and
close as in step 5. Yield the list of aggregates sent.

Both agents change the same partition's state, and a close awaits the broker: do each event's
whole work inside ``async with partition_lock(partition):`` (provided), or a reading folded
while a tick closes its window is lost (the phase 5 crash test caught this: a window of 17
readings emitted with 16).

Every partition closes its own windows, with its own clock: a window start closed on one
partition says nothing about another (Faust's on_window_close gets this wrong: README.md).
Send with ``await topic.send(key=..., value=...)``, write tables with ``table[key] = value``
inside the agent (that is what writes the changelog), and yield once per event.

Run: ``uv run pytest katas/phase4/test_windowing.py``
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Sequence

import faust
from faust.types import StreamT

from app.config import settings
from app.faust_app import app, topics
from app.models import DeadLetter, EnrichedReading, WindowAggregate, WindowTick
from katas.phase4.aggregation import WindowStats


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
    async for _event in stream.events():
        raise NotImplementedError(
            "task 4.5: fold readings, close windows, dead-letter late ones "
            "— run `uv run kata hint 4.5`"
        )
        yield  # unreachable until you write the body; it makes this function an async generator


@app.agent(topics.window_ticks)
async def close_idle_windows(stream: StreamT[WindowTick]) -> AsyncIterator[list[WindowAggregate]]:
    """Close every open window of a partition that has been quiet for the close delay."""
    async for _event in stream.events():
        raise NotImplementedError(
            "task 4.5: close the windows of a quiet partition — run `uv run kata hint 4.5`"
        )
        yield  # unreachable until you write the body


async def send_window_ticks() -> None:
    """Send one tick to every partition of enriched-readings this worker owns (provided)."""
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


async def delivered(deliveries: Sequence[object]) -> None:
    """Wait for the broker's acknowledgement of each send (a real send returns a future)."""
    for delivery in deliveries:
        if inspect.isawaitable(delivery):
            await delivery
