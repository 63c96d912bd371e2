"""Task 5.3: GET /status/. No broker: the tables are seeded by hand, the page is served by the
harness's web client (a real aiohttp server on a free loopback port)."""

from __future__ import annotations

from typing import Any

import faust
from faust.types.enums import ProcessingGuarantee

from app.clock_rejections import clock_rejections
from app.models import WindowAggregate
from kata_engine.testing import web_client
from katas.phase3.counting import sensor_counts
from katas.phase3.status_counts import status_counts
from katas.phase4.windowing import late_events, replays, window_horizon
from katas.phase5.status import STATUS_VERSION, status_body
from katas.phase5.status_tables import dead_letter_counts, latest_windows

KEYS = [
    "version",
    "app_id",
    "processing_guarantee",
    "readings_per_sensor",
    "readings_per_status",
    "dead_letters_per_error_code",
    "late_events_per_sensor",
    "latest_window_per_sensor",
    "clock_rejected_per_sensor",
    "replays_per_partition",
]


def window(sensor: str, start: float) -> WindowAggregate:
    return WindowAggregate(
        sensor_id=sensor,
        window_start=start,
        window_end=start + 60.0,
        count=4,
        min_temperature=18.5,
        max_temperature=31.0,
        avg_temperature=24.25,
    )


def window_json(sensor: str, start: float) -> dict[str, Any]:
    return {
        "sensor_id": sensor,
        "window_start": start,
        "window_end": start + 60.0,
        "count": 4,
        "min_temperature": 18.5,
        "max_temperature": 31.0,
        "avg_temperature": 24.25,
    }


def expected_status(app_id: str, guarantee: str) -> dict[str, Any]:
    return {
        "version": STATUS_VERSION,
        "app_id": app_id,
        "processing_guarantee": guarantee,
        "readings_per_sensor": {"sensor-001": 7, "sensor-002": 3},
        "readings_per_status": {"critical": 1, "normal": 8, "warning": 1},
        "dead_letters_per_error_code": {"empty_payload": 1, "late_event": 1, "not_json": 5},
        "late_events_per_sensor": {"sensor-002": 1},
        "latest_window_per_sensor": {
            "sensor-001": window_json("sensor-001", 120.0),
            "sensor-002": window_json("sensor-002", 60.0),
        },
        "clock_rejected_per_sensor": {"sensor-001": 1, "sensor-003": 2},
        "replays_per_partition": {"0": 4, "3": 1},
    }


DEAD_LETTERS = {"0": {"not_json": 2, "empty_payload": 1}, "3": {"not_json": 3, "late_event": 1}}


def test_the_body_has_the_documented_keys_and_adds_up_the_partitions() -> None:
    body = status_body(
        app_id="sensor-metrics",
        guarantee="exactly_once",
        sensor_counts={"sensor-002": 3, "sensor-001": 7},
        status_counts={"normal": 8, "warning": 1, "critical": 1},
        dead_letter_counts=DEAD_LETTERS,
        late_events={"sensor-002": 1},
        latest_windows={
            "sensor-002": window("sensor-002", 60.0),
            "sensor-001": window("sensor-001", 120.0),
        },
        clock_rejections={"sensor-003": 2, "sensor-001": 1},
        replays={"3": 1, "0": 4},
    )
    expected = expected_status("sensor-metrics", "exactly_once")
    assert list(body) == KEYS, f"the status keys are {list(body)}; expected exactly {KEYS}"
    for key in KEYS:
        assert body[key] == expected[key], (
            f"status[{key!r}] is {body[key]!r}; expected {expected[key]!r}"
        )
    assert isinstance(body["version"], int), "version is an int, so clients can compare it"


MAPPINGS = [
    "readings_per_sensor",
    "readings_per_status",
    "dead_letters_per_error_code",
    "late_events_per_sensor",
    "latest_window_per_sensor",
    "clock_rejected_per_sensor",
    "replays_per_partition",
]


def test_every_mapping_is_sorted_by_key() -> None:
    body = status_body(  # every input mapping in reverse order
        app_id="a",
        guarantee="exactly_once",
        sensor_counts={"sensor-003": 1, "sensor-002": 5, "sensor-001": 2},
        status_counts={"warning": 1, "normal": 4, "critical": 3},
        dead_letter_counts={"3": {"not_json": 1}, "0": {"late_event": 2, "empty_payload": 1}},
        late_events={"sensor-009": 1, "sensor-001": 2},
        latest_windows={
            "sensor-002": window("sensor-002", 60.0),
            "sensor-001": window("sensor-001", 120.0),
        },
        clock_rejections={"sensor-007": 1, "sensor-002": 3},
        replays={"3": 2, "1": 5},
    )
    unsorted = {key: list(body[key]) for key in MAPPINGS if list(body[key]) != sorted(body[key])}
    assert not unsorted, (
        f"these mappings of the status are not sorted by key (keys in the order served): "
        f"{unsorted}; expected each sorted by key, as the contract says: a client (or a person "
        "comparing two bodies) sees the same order whatever order the tables hold"
    )


def test_an_empty_pipeline_has_the_same_shape() -> None:
    body = status_body(
        app_id="a",
        guarantee="at_least_once",
        sensor_counts={},
        status_counts={},
        dead_letter_counts={},
        late_events={},
        latest_windows={},
        clock_rejections={},
        replays={},
    )
    assert list(body) == KEYS and body["processing_guarantee"] == "at_least_once", (
        f"with empty tables the status is {body}; expected every documented key, with empty "
        "mappings and the guarantee it was given"
    )


def seed_tables() -> None:
    # Test code may not write table[key] (that is an agent's job): seed table.data directly.
    sensor_counts.data.update({"sensor-001": 7, "sensor-002": 3})
    status_counts.data.update({"normal": 8, "warning": 1, "critical": 1})
    dead_letter_counts.data.update(DEAD_LETTERS)
    late_events.data.update({"sensor-002": 1})
    latest_windows.data.update(
        {"sensor-001": window("sensor-001", 120.0), "sensor-002": window("sensor-002", 60.0)}
    )
    clock_rejections.data.update({"sensor-003": 2, "sensor-001": 1})
    replays.data.update({"3": 1, "0": 4})
    window_horizon.data.update({"0": 1_700_000_000.0})  # state of phase 4: never on the page


def body_is_written() -> None:
    """Your status_body first: an unwritten one fails here with its own message, not as a 500."""
    status_body(
        app_id="a",
        guarantee="exactly_once",
        sensor_counts={},
        status_counts={},
        dead_letter_counts={},
        late_events={},
        latest_windows={},
        clock_rejections={},
        replays={},
    )


async def test_get_status_serves_exactly_the_documented_json(faust_app: faust.App) -> None:
    body_is_written()
    seed_tables()
    guarantee = ProcessingGuarantee(faust_app.conf.processing_guarantee).value
    expected = expected_status(faust_app.conf.id, guarantee)
    async with web_client(faust_app) as client:
        response = await client.get("/status/")
        assert response.status == 200, f"GET /status/ answered {response.status}; expected 200"
        assert response.content_type == "application/json", (
            f"GET /status/ answered {response.content_type}; expected application/json"
        )
        body = await response.json()
    assert body == expected, (
        f"GET /status/ returned\n{body}\nexpected exactly\n{expected}\n(the documented keys, "
        "the app's own id and guarantee, and no other table)"
    )


async def test_other_methods_and_paths_get_fausts_normal_errors(faust_app: faust.App) -> None:
    body_is_written()
    async with web_client(faust_app) as client:
        assert (await client.get("/status/")).status == 200, "GET /status/ must answer 200"
        posted = await client.post("/status/", json={})
        unknown = await client.get("/status/extra/")
    assert posted.status == 405, f"POST /status/ answered {posted.status}; expected 405"
    assert unknown.status == 404, f"GET /status/extra/ answered {unknown.status}; expected 404"
