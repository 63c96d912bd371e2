"""Task 3.4: the Faust lifecycle: a crontab report and a start-up hook (reference solution)."""

from __future__ import annotations

import logging
from typing import Any

import faust

from app.config import settings
from app.faust_app import app, topics
from katas.phase3.counting import sensor_counts

logger = logging.getLogger(__name__)


def totals() -> tuple[int, int]:
    """(sensors, readings) in this worker's part of ``sensor_counts``."""
    counts = list(sensor_counts.values())
    return len(counts), sum(counts)


@app.crontab(settings.count_report_cron)
async def report_totals() -> tuple[int, int]:
    """Log how many sensors and readings this worker counts; return (sensors, readings)."""
    sensors, readings = totals()
    logger.info("count report: %d sensors, %d readings in total", sensors, readings)
    return sensors, readings


@app.on_rebalance_complete.connect  # type: ignore[arg-type]  # Faust types receivers loosely
async def log_recovered_counts(sender: faust.App, **kwargs: Any) -> tuple[int, int]:
    """After every rebalance (start-up included): log what the table holds; return it."""
    # Sent once recovery has replayed the changelog of every assigned partition: the table
    # holds exactly what this worker recovered plus nothing new yet.
    sensors, readings = totals()
    source = topics.enriched.get_topic_name()
    owned = sorted(tp.partition for tp in sender.assignor.assigned_actives() if tp.topic == source)
    logger.info(
        "recovered %d sensors (%d readings) from the changelog; partitions %s of %s",
        sensors,
        readings,
        owned,
        source,
    )
    return sensors, readings
