"""Task 4.4: a late reading is recognised, and its dead letter says what, why and where."""

from __future__ import annotations

import time

from app.config import ErrorCode
from app.models import EnrichedReading
from katas.phase4.late_events import is_late, late_dead_letter
from katas.phase4.windows import Window

WINDOW = Window(1_700_000_040.0, 1_700_000_100.0)
READING = EnrichedReading(
    reading_id="r-42",
    sensor_id="sensor-003",
    temperature=22.5,
    humidity=40.0,
    timestamp=1_700_000_050.0,
    status="normal",
    processed_at=1_700_000_300.0,
)


def test_a_window_is_late_once_the_horizon_reached_its_end() -> None:
    cases = {WINDOW.end - 0.001: False, WINDOW.end: True, WINDOW.end + 30.0: True}
    got = {horizon: is_late(WINDOW, horizon) for horizon in cases}
    assert got == cases, (
        f"is_late({WINDOW}, horizon) gave {got}; expected {cases} "
        "(closed once the horizon reaches the window's end)"
    )


def test_the_dead_letter_says_late_event_and_keeps_the_reading() -> None:
    dead = late_dead_letter(READING, WINDOW, 1_700_000_110.0, "enriched-readings", 2, 77)
    assert dead.error_code == ErrorCode.LATE_EVENT.value, (
        f"the dead letter's error_code is {dead.error_code!r}; expected 'late_event'"
    )
    restored = EnrichedReading.loads(dead.payload() or b"", serializer="json")
    assert restored == READING, (
        f"the dead letter's payload decodes to {restored}; expected the late reading {READING}"
    )
    assert dead.key() == b"sensor-003", (
        f"the dead letter's key is {dead.key()!r}; expected the sensor"
    )
    where = (dead.source_topic, dead.source_partition, dead.source_offset)
    assert where == ("enriched-readings", 2, 77), (
        f"the dead letter points at {where}; expected ('enriched-readings', 2, 77)"
    )
    assert "r-42" in dead.reason and str(WINDOW.start) in dead.reason, (
        f"the reason {dead.reason!r} should name the reading and its window"
    )


def test_failed_at_defaults_to_now() -> None:
    before = time.time()
    dead = late_dead_letter(READING, WINDOW, WINDOW.end, "enriched-readings", 0, 0)
    after = time.time()
    assert before <= dead.failed_at <= after, (
        f"failed_at is {dead.failed_at}; expected the current time (between {before} and {after})"
    )
