"""The dashboard's pages on the worker's own web server (provided; ``app.main`` imports this).

``GET /dashboard/``           the page (static/index.html, with its CSS and JavaScript)
``GET /dashboard/data.json``  what the page draws, polled once a second (snapshot.py)

The page also polls ``GET /status/`` (task 5.3) for the keys only /status/ has (replays,
clock-rejected readings) and to say whether the learner's page answers. Nothing here imports
the katas: tables are found by name in ``app.tables``, and whatever is missing shows as such.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from faust.types import TP
from faust.types.enums import ProcessingGuarantee
from faust.web import Request, Response, View

from app.config import settings
from app.dashboard import internals
from app.dashboard.recorder import (
    LATEST_WINDOWS_TABLE,
    DashboardSensor,
    StubWatch,
    window_point,
)
from app.dashboard.snapshot import (
    TABLE_SECTIONS,
    THROUGHPUT_SERIES_S,
    PartitionOffsets,
    dashboard_body,
)
from app.faust_app import app

STATIC = Path(__file__).parent / "static"
OFFSETS_TIMEOUT_S = 2.0  # the broker's end offsets: a slow answer shows "unknown", never hangs
# The page may talk to its own origin only (the worker on 127.0.0.1): no CDN, no other host.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
ASSETS = {
    "index.html": "text/html",
    "dashboard.css": "text/css",
    "dashboard.js": "application/javascript",
}

sensor = DashboardSensor(settings.topics.readings)
app.sensors.add(sensor)
stub_watch = StubWatch()


async def watch_for_stubs() -> None:
    """Installed at start-up: the worker configures logging (replacing root handlers) before."""
    logging.getLogger().addHandler(stub_watch)


app.task(watch_for_stubs)


def _asset(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def table_contents() -> dict[str, dict[Any, Any] | None]:
    """The contents of every table the dashboard shows, by name; None where there is none."""
    contents: dict[str, dict[Any, Any] | None] = {}
    for table_name, _phase in TABLE_SECTIONS.values():
        table: Any = app.tables.get(table_name)  # a faust Table: a mapping of its data
        contents[table_name] = None if table is None else dict(table.items())
    return contents


async def readings_offsets() -> dict[int, PartitionOffsets] | str:
    """End and committed offset of each readings partition this worker owns, or why none."""
    topic = settings.topics.readings
    try:
        consumer = app.consumer
        partitions = sorted(tp for tp in consumer.assignment() if tp.topic == topic)
    except Exception:  # not started (a test without a worker), or stopping
        return "this worker's consumer is not running"
    if not partitions:
        return f"no partition of {topic} is assigned to this worker yet (starting or rebalancing)"
    committed = internals.committed_offsets(consumer, partitions)
    try:
        async with asyncio.timeout(OFFSETS_TIMEOUT_S):
            ends: dict[TP, int] = dict(await consumer.highwaters(*partitions))
    except Exception:  # a rebalance or a slow broker: unknown this time, asked again in 1 s
        ends = {}
    return {
        tp.partition: PartitionOffsets(end=ends.get(tp), committed=committed.get(tp))
        for tp in partitions
    }


async def current_dashboard() -> dict[str, Any]:
    tables = table_contents()
    for sensor_id, value in (tables.get(LATEST_WINDOWS_TABLE) or {}).items():
        point = window_point(value)  # after a restart the history starts from the table
        if point is not None and isinstance(sensor_id, str):
            sensor.windows.add(sensor_id, point)
    conf: Any = app.conf
    return dashboard_body(
        app_id=conf.id,
        guarantee=ProcessingGuarantee(conf.processing_guarantee).value,
        tables=tables,
        windows=sensor.windows.series(),
        readings_topic=settings.topics.readings,
        offsets=await readings_offsets(),
        per_second=sensor.throughput.per_second(THROUGHPUT_SERIES_S),
        stubs=stub_watch.tasks(),
        generated_at=time.time(),
    )


@app.page("/dashboard/")
async def dashboard_page(web: View, request: Request) -> Response:
    return web.text(_asset("index.html"), content_type=ASSETS["index.html"], headers=PAGE_HEADERS)


@app.page("/dashboard/dashboard.css")
async def dashboard_css(web: View, request: Request) -> Response:
    return web.text(_asset("dashboard.css"), content_type=ASSETS["dashboard.css"])


@app.page("/dashboard/dashboard.js")
async def dashboard_js(web: View, request: Request) -> Response:
    return web.text(_asset("dashboard.js"), content_type=ASSETS["dashboard.js"])


@app.page("/dashboard/data.json")
async def dashboard_data(web: View, request: Request) -> Response:
    return web.json(await current_dashboard(), headers={"Cache-Control": "no-store"})
