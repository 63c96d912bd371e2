"""Task 3.3: the threshold timer logs each sensor once, when its count first exceeds it.

The timer's body runs once per ``run_timer_once`` (the harness): no worker, no waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import faust
import pytest

from app.config import settings
from kata_engine.testing import run_timer_once
from katas.phase3 import threshold
from katas.phase3.counting import sensor_counts
from katas.phase3.threshold import log_busy_sensors

THRESHOLD = settings.count_alert_threshold


@pytest.fixture(autouse=True)
def nothing_reported_yet() -> Iterator[None]:
    threshold.reported.clear()  # module level: it would carry over from the previous test
    yield
    threshold.reported.clear()


def logged_sensors(caplog: pytest.LogCaptureFixture, sensors: list[str]) -> list[str]:
    """The sensors named in a WARNING (or worse) line of the captured log, in ``sensors`` order."""
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return [sensor for sensor in sensors if any(f"{sensor} " in f"{line} " for line in lines)]


def quieter_lines(caplog: pytest.LogCaptureFixture) -> str:
    """What the timer logged below WARNING, for the failure messages."""
    lines = [r.getMessage() for r in caplog.records if r.levelno < logging.WARNING]
    return (
        f" Only lines at WARNING (logger.warning) count; below WARNING it logged {lines}."
        if lines
        else ""
    )


async def tick(caplog: pytest.LogCaptureFixture, sensors: list[str]) -> list[str]:
    """Run the timer's body once; the sensors it logged."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await run_timer_once(log_busy_sensors)
    return logged_sensors(caplog, sensors)


async def test_one_tick_logs_exactly_the_sensors_above_the_threshold(
    faust_app: faust.App, caplog: pytest.LogCaptureFixture
) -> None:
    seeded = {
        "sensor-over": THRESHOLD + 1,
        "sensor-at": THRESHOLD,
        "sensor-under": THRESHOLD - 1,
        "sensor-far-over": THRESHOLD * 5,
        "sensor-one": 1,
    }
    sensor_counts.data.update(seeded)
    logged = await tick(caplog, list(seeded))
    expected = ["sensor-over", "sensor-far-over"]
    assert logged == expected, (
        f"with the counts {seeded} and the threshold {THRESHOLD}, the timer logged {logged}; "
        f"expected {expected} (above the threshold; equal to it is not above), each in a "
        f"WARNING line.{quieter_lines(caplog)}"
    )
    lines = [r.getMessage() for r in caplog.records if "sensor-far-over" in r.getMessage()]
    assert any(str(THRESHOLD * 5) in line for line in lines), (
        f"the line about sensor-far-over is {lines}; expected it to carry its count {THRESHOLD * 5}"
    )


async def test_a_crossing_is_logged_once_not_every_tick(
    faust_app: faust.App, caplog: pytest.LogCaptureFixture
) -> None:
    sensors = ["sensor-early", "sensor-late"]
    sensor_counts.data.update({"sensor-early": THRESHOLD + 3, "sensor-late": THRESHOLD})
    first = await tick(caplog, sensors)
    second = await tick(caplog, sensors)
    sensor_counts.data["sensor-late"] = THRESHOLD + 1  # sensor-late crosses now
    sensor_counts.data["sensor-early"] = THRESHOLD + 50  # still above: nothing new to say
    third = await tick(caplog, sensors)
    got = [first, second, third]
    expected = [["sensor-early"], [], ["sensor-late"]]
    assert got == expected, (
        f"three ticks logged {got}; expected {expected}: one WARNING line per sensor when it "
        f"crosses the threshold, not one per tick.{quieter_lines(caplog)}"
    )


async def test_the_timer_returns_the_sensors_it_logged(
    faust_app: faust.App, caplog: pytest.LogCaptureFixture
) -> None:
    sensor_counts.data.update({"sensor-b": THRESHOLD + 2, "sensor-a": THRESHOLD + 1})
    returned = await run_timer_once(log_busy_sensors)
    assert returned == ["sensor-a", "sensor-b"], (
        f"the timer returned {returned}; expected the sensors it logged, sorted: "
        "['sensor-a', 'sensor-b']"
    )


async def test_each_tick_returns_only_the_sensors_it_logged(
    faust_app: faust.App, caplog: pytest.LogCaptureFixture
) -> None:
    sensor_counts.data.update({"sensor-a": THRESHOLD + 1, "sensor-b": THRESHOLD})
    first = await run_timer_once(log_busy_sensors)
    second = await run_timer_once(log_busy_sensors)  # nothing new above the threshold
    sensor_counts.data["sensor-b"] = THRESHOLD + 1
    third = await run_timer_once(log_busy_sensors)
    got = [first, second, third]
    expected = [["sensor-a"], [], ["sensor-b"]]
    assert got == expected, (
        f"three ticks returned {got}; expected {expected}: each tick returns the sensors it "
        "logged in THIS tick (newly above the threshold), not every sensor above it"
    )
