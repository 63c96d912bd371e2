"""What Faust's own windowed tables do with a late event (phase 4's README points here).

Faust closes windows by the WALL CLOCK, from a cleanup task (``table_cleanup_interval``, 30 s
by default), and calls ``on_window_close`` for a window whose end + ``expires`` has passed. A
reading that then arrives for that window quietly re-creates it with a count that starts again
at 1, and the next cleanup deletes it without a callback: the reading is gone, and no one is
told. This test pins that behaviour down, so the katas' answer (a per-partition horizon and a
late_event dead letter, katas/phase4) is measured against the real thing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import faust
from faust.types import FieldDescriptorT

from app.models import EnrichedReading
from kata_engine.testing import close_expired_windows, frozen_clock, prepared_app, run_agent

START = 1_700_000_040.0  # a whole multiple of 60


def reading(timestamp: float) -> EnrichedReading:
    return EnrichedReading(
        reading_id=str(timestamp),
        sensor_id="sensor-a",
        temperature=20.0,
        humidity=50.0,
        timestamp=timestamp,
        status="normal",
        processed_at=timestamp,
    )


async def test_fausts_windowed_table_loses_a_late_event_without_a_word() -> None:
    demo = faust.App("faust-window-demo", store="memory://", autodiscover=False)
    closed: list[tuple[Any, int]] = []

    def on_close(key: Any, value: int) -> None:
        closed.append((key, value))

    counts = (
        demo.Table("demo-counts", default=int, on_window_close=on_close)
        .tumbling(60.0, expires=timedelta(seconds=10))
        # On the class, a Record field is a FieldDescriptor; its annotation says float.
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
                await run.put(reading(START + 1.0), key="sensor-a", timestamp=START + 1.0)
                await run.put(reading(START + 2.0), key="sensor-a", timestamp=START + 2.0)
                clock.advance(120.0)  # wall clock: the window ended + expired long ago
                await close_expired_windows(counts)
                assert closed == [(("sensor-a", (START, START + 59.9)), 2)], (
                    f"on_window_close was called with {closed}; expected the window once, count 2"
                )
                await run.put(reading(START + 3.0), key="sensor-a", timestamp=START + 3.0)
                late_count = run.results[-1]
                clock.advance(120.0)
                await close_expired_windows(counts)
    assert late_count == 1, (
        f"the late reading saw a count of {late_count}; Faust re-creates the closed window "
        "from nothing, so it should see 1"
    )
    assert len(closed) == 1, (
        f"on_window_close ran {len(closed)} times: {closed}; Faust deletes the re-created "
        "window without a callback, so the late reading should vanish silently"
    )
