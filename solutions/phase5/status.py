"""Task 5.3: GET /status/, the pipeline's state as JSON (reference solution)."""

from __future__ import annotations

from collections import Counter
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
    per_code: Counter[str] = Counter()
    for counts in dead_letter_counts.values():  # one entry per partition: add them up
        per_code.update(counts)
    return {
        "version": STATUS_VERSION,
        "app_id": app_id,
        "processing_guarantee": guarantee,
        "readings_per_sensor": dict(sorted(sensor_counts.items())),
        "readings_per_status": dict(sorted(status_counts.items())),
        "dead_letters_per_error_code": dict(sorted(per_code.items())),
        "late_events_per_sensor": dict(sorted(late_events.items())),
        "latest_window_per_sensor": {
            sensor: window.asdict()
            for sensor, window in sorted(latest_windows.items())
            if window is not None
        },
        "clock_rejected_per_sensor": dict(sorted(clock_rejections.items())),
        "replays_per_partition": dict(sorted(replays.items())),
    }


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
    return web.json(current_status())
