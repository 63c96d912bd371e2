"""What Faust's own windowed tables do at a window's close (phase 4's README points here).

Faust closes windows by the WALL CLOCK, from a cleanup task (``Table._del_old_keys``, every
``table_cleanup_interval``, 30 s by default), and calls ``on_window_close`` for a window whose
end + ``expires`` has passed. Two behaviours of faust-streaming 0.15.3 are pinned here, so the
katas' answer (a per-partition horizon, a late_event dead letter, windows closed by the agent
itself: katas/phase4) is measured against the real thing, and an upgrade that changes either
shows up as a failure:

1. A late reading for a closed window quietly re-creates it with a count that starts again at
   1, and the next cleanup deletes it without a callback: the reading is gone, no one is told.
2. For a window that spans several partitions, the cleanup calls ``on_window_close`` for the
   keys of the first partition it processes only; the other partitions' keys of the same window
   are deleted without a callback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import faust
from faust.types import FieldDescriptorT

from app.models import EnrichedReading
from kata_engine.testing import close_expired_windows, frozen_clock, prepared_app, run_agent

START = 1_700_000_040.0  # a whole multiple of 60


def reading(sensor: str, timestamp: float) -> EnrichedReading:
    return EnrichedReading(
        reading_id=f"{sensor}-{timestamp}",
        sensor_id=sensor,
        temperature=20.0,
        humidity=50.0,
        timestamp=timestamp,
        status="normal",
        processed_at=timestamp,
    )


@dataclass
class WindowedCounter:
    """A Faust app with a 60 s tumbling count per sensor (expires 10 s) and its agent."""

    name: str
    closed: list[tuple[Any, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = faust.App(self.name, store="memory://", autodiscover=False)
        self.counts = (
            self.app.Table("demo-counts", default=int, on_window_close=self._on_close)
            .tumbling(60.0, expires=timedelta(seconds=10))
            # On the class, a Record field is a FieldDescriptor; its annotation says float.
            .relative_to_field(cast(FieldDescriptorT[float], EnrichedReading.timestamp))
        )
        source = self.app.topic("demo-readings", value_type=EnrichedReading)
        self.agent = self.app.agent(source)(self._count)

    def _on_close(self, key: Any, value: int) -> None:
        self.closed.append((key, value))

    async def _count(self, stream: Any) -> AsyncIterator[int]:
        async for event in stream:
            self.counts[event.sensor_id] += 1
            yield self.counts[event.sensor_id].value()


async def test_fausts_windowed_table_loses_a_late_event_without_a_word() -> None:
    demo = WindowedCounter("faust-window-demo")
    async with prepared_app(demo.app):
        with frozen_clock(at=START + 5.0) as clock:
            async with run_agent(demo.agent, capture=[]) as run:
                for offset in (1.0, 2.0):
                    at = START + offset
                    await run.put(reading("sensor-a", at), key="sensor-a", timestamp=at)
                clock.advance(120.0)  # wall clock: the window ended + expired long ago
                await close_expired_windows(demo.counts)
                assert demo.closed == [(("sensor-a", (START, START + 59.9)), 2)], (
                    f"on_window_close was called with {demo.closed}; expected the window once, "
                    "count 2"
                )
                late = START + 3.0
                await run.put(reading("sensor-a", late), key="sensor-a", timestamp=late)
                late_count = run.results[-1]
                clock.advance(120.0)
                await close_expired_windows(demo.counts)
    assert late_count == 1, (
        f"the late reading saw a count of {late_count}; Faust re-creates the closed window "
        "from nothing, so it should see 1"
    )
    assert len(demo.closed) == 1, (
        f"on_window_close ran {len(demo.closed)} times: {demo.closed}; Faust deletes the "
        "re-created window without a callback, so the late reading should vanish silently"
    )


async def test_one_window_on_two_partitions_gets_one_partitions_callbacks() -> None:
    demo = WindowedCounter("faust-window-partitions")
    async with prepared_app(demo.app):
        with frozen_clock(at=START + 5.0) as clock:
            async with run_agent(demo.agent, capture=[]) as run:
                for partition, sensor in enumerate(["sensor-a", "sensor-b"]):
                    at = START + 1.0
                    await run.put(
                        reading(sensor, at), key=sensor, partition=partition, timestamp=at
                    )
                clock.advance(120.0)  # the window ended and expired long ago
                await close_expired_windows(demo.counts)
                left = sorted(key[0] for key in demo.counts.table.data)
    sensors = [key[0] for key, _ in demo.closed]
    assert len(sensors) == 1 and left == [], (
        f"on_window_close was called for {sensors} and the table still holds {left}; Faust "
        "0.15.3 calls it for the first partition's keys only and deletes the other partition's "
        "keys of the same window silently (one callback, nothing left)"
    )
