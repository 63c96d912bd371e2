"""What Faust's windowed tables tell on_window_close when one window spans several partitions.

Faust 0.15.3's cleanup (``Table._del_old_keys``) walks the window starts it has seen per
partition, and for one window start calls ``on_window_close`` only for the keys of the first
partition it processes; the same window's keys on the other partitions are deleted without a
callback. Phase 4's README (the key question) cites this as a reason to close windows in the
agent itself; this test pins it, so an upgrade that fixes it shows up here.
"""

from __future__ import annotations

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


async def test_one_window_on_two_partitions_gets_one_partitions_callbacks() -> None:
    demo = faust.App("faust-window-partitions", store="memory://", autodiscover=False)
    closed: list[Any] = []

    def on_close(key: Any, value: int) -> None:
        closed.append(key[0])

    counts = (
        demo.Table("demo-counts", default=int, on_window_close=on_close)
        .tumbling(60.0, expires=timedelta(seconds=10))
        .relative_to_field(cast(FieldDescriptorT[float], EnrichedReading.timestamp))
    )
    source = demo.topic("demo-readings", value_type=EnrichedReading)

    @demo.agent(source)
    async def count(stream: Any) -> Any:
        async for event in stream:
            counts[event.sensor_id] += 1
            yield counts[event.sensor_id].value()

    async with prepared_app(demo):
        with frozen_clock(at=START + 5.0) as clock:
            async with run_agent(count, capture=[]) as run:
                for partition, sensor in enumerate(["sensor-a", "sensor-b"]):
                    await run.put(
                        reading(sensor, START + 1.0),
                        key=sensor,
                        partition=partition,
                        timestamp=START + 1.0,
                    )
                clock.advance(120.0)  # the window ended and expired long ago
                await close_expired_windows(counts)
                left = sorted(key[0] for key in counts.table.data)
    assert len(closed) == 1 and left == [], (
        f"on_window_close was called for {closed} and the table still holds {left}; Faust "
        "0.15.3 calls it for the first partition's keys only and deletes the other partition's "
        "keys of the same window silently (one callback, nothing left)"
    )
