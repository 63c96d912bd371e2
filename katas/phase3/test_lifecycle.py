"""Task 3.4: the crontab report and the start-up hook, each run once through the harness.

``run_timer_once`` runs the crontab's body; the hook runs the way a worker runs it: the app
sends its ``on_rebalance_complete`` signal.
"""

from __future__ import annotations

import logging

import faust
import pytest

from app.faust_app import topics
from kata_engine.testing import run_timer_once
from katas.phase3.counting import sensor_counts
from katas.phase3.lifecycle import log_recovered_counts, report_totals

SEEDED = {"sensor-a": 3, "sensor-b": 4, "sensor-c": 10}  # 3 sensors, 17 readings


def info_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]


async def test_the_crontab_reports_sensors_and_readings(
    faust_app: faust.App, caplog: pytest.LogCaptureFixture
) -> None:
    sensor_counts.data.update(SEEDED)
    with caplog.at_level(logging.INFO):
        returned = await run_timer_once(report_totals)
    assert returned == (3, 17), (
        f"with the counts {SEEDED} the crontab returned {returned}; expected (3, 17): "
        "3 sensors, 17 readings"
    )
    lines = [line for line in info_lines(caplog) if "3 sensors" in line and "17 readings" in line]
    assert len(lines) == 1, (
        f"the crontab logged {info_lines(caplog)}; expected one line saying '3 sensors' and "
        "'17 readings'"
    )


async def test_the_crontab_reports_an_empty_table(
    faust_app: faust.App, caplog: pytest.LogCaptureFixture
) -> None:
    returned = await run_timer_once(report_totals)
    assert returned == (0, 0), f"an empty table gave {returned}; expected (0, 0)"


async def test_the_start_up_hook_logs_what_was_recovered(
    faust_app: faust.App, caplog: pytest.LogCaptureFixture
) -> None:
    sensor_counts.data.update(SEEDED)  # as if replayed from the changelog
    with caplog.at_level(logging.INFO):
        await faust_app.on_rebalance_complete.send()  # what the worker does after recovery
    lines = [line for line in info_lines(caplog) if line.startswith("recovered ")]
    expected = "recovered 3 sensors (17 readings) from the changelog"
    assert len(lines) == 1 and lines[0].startswith(expected), (
        f"after on_rebalance_complete the log holds {lines}; expected one line starting with "
        f"{expected!r}"
    )
    # Outside a worker the app owns no partition: the list is empty, but it is there.
    whole = f"{expected}; partitions [] of {topics.enriched.get_topic_name()}"
    assert lines[0] == whole, (
        f"the start-up hook logged {lines[0]!r}; expected {whole!r}: the line ends with the "
        "partitions of enriched-readings this worker owns, as a sorted Python list (none here: "
        "no worker runs), and the topic's name. The integration tests (test_worker.py) read "
        "that list to see which worker owns what"
    )


async def test_the_start_up_hook_returns_the_totals(faust_app: faust.App) -> None:
    sensor_counts.data.update({"sensor-x": 5})
    returned = await log_recovered_counts(faust_app)
    assert returned == (1, 5), f"the hook returned {returned}; expected (1, 5)"
