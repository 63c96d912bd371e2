"""The live dashboard's JSON and pages, without a browser and without a broker.

The tables are seeded by hand and the pages served by the harness's web client (a real aiohttp
server on a free loopback port), as in phase 5's /status/ tests. The browser test is
tests/test_dashboard_browser.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import faust
import pytest

from app.dashboard import internals
from app.dashboard.pages import STATIC, sensor
from app.dashboard.recorder import (
    WINDOWS_PER_SENSOR,
    StubWatch,
    Throughput,
    WindowHistory,
    WindowPoint,
)
from app.dashboard.snapshot import (
    CHART_SENSORS,
    PartitionOffsets,
    chart_windows,
    dashboard_body,
)
from app.models import WindowAggregate
from kata_engine.testing import web_client
from katas.phase3.counting import sensor_counts
from katas.phase3.status_counts import status_counts
from katas.phase4.windowing import late_events
from katas.phase5.status_tables import dead_letter_counts, latest_windows

STATIC_NAMES = ("dashboard.css", "dashboard.js")


@pytest.fixture(autouse=True)
def fresh_history() -> Iterator[None]:
    """The pages' recorder is module state: every test starts and ends with an empty history."""
    sensor.windows = WindowHistory()
    yield
    sensor.windows = WindowHistory()


def point(start: float, avg: float = 20.0) -> WindowPoint:
    return WindowPoint(window_start=start, window_end=start + 60.0, count=3, avg_temperature=avg)


def body(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "app_id": "a",
        "guarantee": "exactly_once",
        "tables": {
            "sensor-counts": {},
            "status-counts": {},
            "late-events": {},
            "dead-letter-counts": {},
            "latest-windows": {},
        },
        "windows": {},
        "readings_topic": "sensor-readings",
        "offsets": {},
        "per_second": [],
        "stubs": {},
        "generated_at": 0.0,
    }
    return dashboard_body(**{**arguments, **changes})


def test_a_missing_table_shows_its_phase_as_absent_not_as_an_error() -> None:
    sections = body(tables={"sensor-counts": {"s": 1}})["sections"]
    assert sections["readings_per_sensor"] == {"state": "ok", "values": {"s": 1}}, (
        f"a table that is there is shown; got {sections['readings_per_sensor']}"
    )
    absent = sections["dead_letters_per_error_code"]
    assert absent["state"] == "absent" and "phase 5" in absent["note"], (
        f"without task 5.2's table the section must say phase 5 is not running; got {absent}"
    )


def test_an_empty_table_whose_phase_hit_a_stub_says_not_built_yet() -> None:
    stubs = {"4.2": "aggregate the windows", "5.2": "count dead letters per partition"}
    sections = body(stubs=stubs)["sections"]
    dead = sections["dead_letters_per_error_code"]
    assert dead == {
        "state": "not_built",
        "note": "not built yet: task 5.2 (count dead letters per partition)",
    }, f"task 5.2's stub raised and its table is empty, so the section says so; got {dead}"
    assert sections["readings_per_status"]["state"] == "ok", (
        "a stub of phase 5 must not mark phase 3's section as not built"
    )
    assert body(stubs=stubs)["not_built"] == stubs, "every stub hit is listed for the banner"


def test_dead_letters_are_added_up_over_the_partitions() -> None:
    tables = {"dead-letter-counts": {"0": {"not_json": 2}, "3": {"not_json": 3, "late_event": 1}}}
    dead = body(tables=tables)["sections"]["dead_letters_per_error_code"]
    assert dead["values"] == {"late_event": 1, "not_json": 5}, (
        f"dead letters per error code are the sum over the partitions; got {dead['values']}"
    )


def test_lag_is_end_minus_committed_and_unknown_without_an_end() -> None:
    offsets = {
        1: PartitionOffsets(end=10, committed=4),
        0: PartitionOffsets(end=7, committed=None),
        2: PartitionOffsets(end=None, committed=3),
    }
    lag = body(offsets=offsets)["sections"]["lag_per_partition"]
    assert {p: v["lag"] for p, v in lag["values"].items()} == {"0": 7, "1": 6, "2": None}, (
        "lag = end offset - committed offset (nothing committed counts from 0; no end known: "
        f"None); got {lag}"
    )
    note = body(offsets="no partition assigned")["sections"]["lag_per_partition"]
    assert note["state"] == "absent" and note["note"] == "no partition assigned", note


def test_throughput_is_the_mean_of_the_last_five_complete_seconds() -> None:
    now = [1000.5]
    counter = Throughput(clock=lambda: now[0])
    for second, count in [(990, 4), (995, 10), (996, 20), (999, 30), (1000, 99)]:
        now[0] = second + 0.5
        counter.add(count)
    now[0] = 1000.5
    series = counter.per_second(10)
    assert series == [4, 0, 0, 0, 0, 10, 20, 0, 0, 30], (
        f"the last 10 complete seconds (990..999; 1000 still counting); got {series}"
    )
    rate = body(per_second=series)["throughput"]["readings_per_second"]
    assert rate == pytest.approx(12.0), f"(10 + 20 + 0 + 0 + 30) / 5 = 12; got {rate}"


def test_the_window_history_keeps_the_last_windows_of_each_sensor_in_order() -> None:
    history = WindowHistory()
    for start in [*range(WINDOWS_PER_SENSOR + 3), 5]:  # 5 again: replaced, not duplicated
        history.add("s", point(60.0 * start, avg=float(start)))
    history.add("s", point(-60.0))  # older than all: dropped, the newest stay
    starts = [p.window_start for p in history.series()["s"]]
    expected = [60.0 * n for n in range(3, WINDOWS_PER_SENSOR + 3)]
    assert starts == expected, f"the last {WINDOWS_PER_SENSOR} windows, oldest first; got {starts}"


def test_the_chart_draws_the_sensors_with_the_newest_windows() -> None:
    history = {f"s{n:02}": [point(60.0 * n)] for n in range(CHART_SENSORS + 2)}
    drawn = chart_windows(history)
    assert sorted(drawn) == [f"s{n:02}" for n in range(2, CHART_SENSORS + 2)], (
        f"at most {CHART_SENSORS} sensors, those with the newest windows; got {sorted(drawn)}"
    )


def test_the_stub_watch_names_the_task_of_a_logged_not_implemented_error() -> None:
    watch = StubWatch()
    logger = logging.getLogger("test_dashboard.stub_watch")
    logger.propagate = False
    logger.addHandler(watch)
    try:
        for error in (
            NotImplementedError("task 5.2: count dead letters — run `uv run kata hint 5.2`"),
            NotImplementedError("something else"),
            ValueError("task 3.1: not a stub"),
        ):
            try:
                raise error
            except Exception:
                logger.exception("Crashed reason=%r", error)
    finally:
        logger.removeHandler(watch)
    assert watch.tasks() == {"5.2": "count dead letters"}, (
        f"only a stub's NotImplementedError('task N.M: ...') counts; got {watch.tasks()}"
    )


def test_the_private_state_the_dashboard_reads_still_exists(faust_app: faust.App) -> None:
    consumer = faust_app.consumer
    assert hasattr(consumer, internals.COMMITTED_OFFSETS_ATTRIBUTE), (
        f"Faust's consumer has no {internals.COMMITTED_OFFSETS_ATTRIBUTE!r} any more: the "
        "dashboard's lag reads it (app/dashboard/internals.py); find its new home"
    )
    assert internals.committed_offsets(consumer, []) == {}, "no partitions, no offsets"


def seed_tables() -> None:
    sensor_counts.data.update({"sensor-<b>1</b>": 7, "sensor-002": 3})
    status_counts.data.update({"normal": 8, "warning": 1, "critical": 1})
    dead_letter_counts.data.update({"0": {"not_json": 2}, "3": {"not_json": 3, "late_event": 1}})
    late_events.data.update({"sensor-002": 1})
    latest_windows.data.update(
        {
            "sensor-002": WindowAggregate(
                sensor_id="sensor-002",
                window_start=120.0,
                window_end=180.0,
                count=4,
                min_temperature=18.5,
                max_temperature=31.0,
                avg_temperature=24.25,
            )
        }
    )


async def test_data_json_serves_the_tables_and_the_window_history(faust_app: faust.App) -> None:
    seed_tables()
    async with web_client(faust_app) as client:
        response = await client.get("/dashboard/data.json")
        assert response.status == 200, f"GET /dashboard/data.json answered {response.status}"
        assert response.content_type == "application/json", response.content_type
        data = await response.json()
    sections = data["sections"]
    expected = {
        "readings_per_sensor": {"sensor-002": 3, "sensor-<b>1</b>": 7},
        "readings_per_status": {"critical": 1, "normal": 8, "warning": 1},
        "dead_letters_per_error_code": {"late_event": 1, "not_json": 5},
        "late_events_per_sensor": {"sensor-002": 1},
    }
    for name, values in expected.items():
        assert sections[name] == {"state": "ok", "values": values}, (
            f"{name} is {sections[name]}; expected the seeded table: {values}"
        )
    windows = sections["windows_per_sensor"]["values"]
    assert [w["avg_temperature"] for w in windows["sensor-002"]] == [24.25], (
        f"the history starts from task 5.2's table (after a restart too); got {windows}"
    )
    assert sections["lag_per_partition"]["state"] == "absent", (
        "no worker runs here, so there is no lag to show, and the section says why: "
        f"{sections['lag_per_partition']}"
    )
    assert data["processing_guarantee"] in ("at_least_once", "exactly_once"), data


async def test_the_page_and_its_assets_are_served_and_request_nothing_elsewhere(
    faust_app: faust.App,
) -> None:
    async with web_client(faust_app) as client:
        page = await client.get("/dashboard/")
        html = await page.text()
        assets = {name: await client.get(f"/dashboard/{name}") for name in STATIC_NAMES}
    assert page.status == 200 and page.content_type == "text/html", (page.status, page.content_type)
    policy = page.headers.get("Content-Security-Policy", "")
    assert "connect-src 'self'" in policy and "default-src 'none'" in policy, (
        f"the page may only talk to its own origin; its policy is {policy!r}"
    )
    for name, response in assets.items():
        assert response.status == 200, f"GET /dashboard/{name} answered {response.status}"
        assert name in html, f"index.html must load {name}"
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+", text)) - {"http://www.w3.org"}
        assert not urls, f"{path.name} refers to another host: {sorted(urls)} (no CDN, no network)"
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, (
            f"{path.name} must set untrusted strings with textContent, never as HTML"
        )
