"""Task 5.3: GET /status/, the pipeline's state as JSON.

``curl http://127.0.0.1:6066/status/`` while a worker runs. The body is a contract: a stable,
documented shape (README, "GET /status/"), with a version. Exactly these keys:

    version                     STATUS_VERSION (an int)
    app_id                      the app's id
    processing_guarantee        "exactly_once" or "at_least_once"
    readings_per_sensor         {sensor_id: count}           phase 3's sensor_counts
    readings_per_status         {status: count}              phase 3's status_counts
    dead_letters_per_error_code {error_code: count}          task 5.2's dead_letter_counts,
                                                             added up over the partitions
    late_events_per_sensor      {sensor_id: count}           phase 4's late_events
    latest_window_per_sensor    {sensor_id: aggregate dict}  task 5.2's latest_windows
                                                             (``WindowAggregate.asdict()``)
    clock_rejected_per_sensor   {sensor_id: count}           app/clock_rejections.py's table:
                                                             readings dead-lettered for an
                                                             impossible timestamp (phase 2)
    replays_per_partition       {partition: count}           phase 4's replays: readings
                                                             re-delivered after their offset
                                                             was taken in (partition as text)

Every mapping sorted by key; nothing else: no other table (window_state, window_horizon, a
changelog) leaks out, whatever it holds. Unknown paths and other methods than GET get Faust's
normal answers (404, 405): the page below is registered for GET on /status/ only.

You write:

- ``status_body(...)``: the dict above from the tables' contents (plain mappings: testable
  without Faust).
- ``status``: the page's body (``@app.page("/status/")`` is already on it): return
  ``web.json(...)`` of this worker's status.

Provided: ``current_status()``, which reads the tables of this worker (one worker owns every
partition; with several, each serves the partitions it owns).

Run: ``uv run pytest katas/phase5/test_status.py``
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.types.enums import ProcessingGuarantee
from faust.web import Request, Response, View

from app.clock_rejections import clock_rejections
from app.faust_app import app
from app.models import WindowAggregate
from katas.phase3.counting import sensor_counts
from katas.phase3.status_counts import status_counts
from katas.phase4.windowing import late_events, replays
from katas.phase5.status_tables import dead_letter_counts, latest_windows

STATUS_VERSION = 1  # bump when a key changes meaning or disappears; adding a key keeps it


def status_body(
    *,
    app_id: str,
    guarantee: str,
    sensor_counts: Mapping[str, int],
    status_counts: Mapping[str, int],
    dead_letter_counts: Mapping[str, Mapping[str, int]],
    late_events: Mapping[str, int],
    latest_windows: Mapping[str, WindowAggregate | None],
    clock_rejections: Mapping[str, int],
    replays: Mapping[str, int],
) -> dict[str, Any]:
    """The documented JSON of /status/, built from the tables' contents (and nothing else)."""
    raise NotImplementedError("task 5.3: the status body — run `uv run kata hint 5.3`")


def current_status() -> dict[str, Any]:
    """/status/ for this worker's tables (the partitions it owns; one worker owns them all)."""
    conf: Any = app.conf  # Faust types processing_guarantee loosely
    return status_body(
        app_id=app.conf.id,
        guarantee=ProcessingGuarantee(conf.processing_guarantee).value,
        sensor_counts=dict(sensor_counts.items()),
        status_counts=dict(status_counts.items()),
        dead_letter_counts=dict(dead_letter_counts.items()),
        late_events=dict(late_events.items()),
        latest_windows=dict(latest_windows.items()),
        clock_rejections=dict(clock_rejections.items()),
        replays=dict(replays.items()),
    )


@app.page("/status/")
async def status(web: View, request: Request) -> Response:
    """GET only: Faust answers other methods with 405 and unknown paths with 404."""
    raise NotImplementedError("task 5.3: serve GET /status/ — run `uv run kata hint 5.3`")
