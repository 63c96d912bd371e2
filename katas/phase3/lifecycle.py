"""Task 3.4: the Faust lifecycle: a crontab job and a start-up hook.

Timers run every N seconds; a crontab runs at fixed wall-clock times. Signals run your code at
moments of the worker's life. Write both:

- ``report_totals`` (a crontab, ``settings.count_report_cron``, every full hour by default):
  log at INFO one line with how many sensors this worker counts and their readings in total,
  e.g. ``count report: 12 sensors, 3400 readings in total``; return ``(sensors, readings)``.
- ``log_recovered_counts`` (connected to ``app.on_rebalance_complete``, which a worker sends
  once the changelogs of its newly assigned partitions are replayed, at start-up and after each
  rebalance): log at INFO exactly one line

      recovered <sensors> sensors (<readings> readings) from the changelog; partitions <list> of
      <topic>   (one line)

  with the same two numbers, taken from ``sensor_counts``; ``<list>`` is the sorted list of the
  partitions of ``enriched-readings`` this worker owns now, printed as a Python list
  (``[0, 2]``; ``[]`` for none): ``sender.assignor.assigned_actives()`` gives the worker's
  topic partitions (``tp.topic``, ``tp.partition``), ``topics.enriched.get_topic_name()`` the
  topic's name. Return ``(sensors, readings)``. The integration tests read this line: with two
  workers they wait until each names its own share, and after a takeover until one names all four.

``sensor_counts`` only holds this worker's partitions: with two workers each reports its share.

Run: ``uv run pytest katas/phase3/test_lifecycle.py``
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from app.config import settings
from app.faust_app import app, topics
from katas.phase3.counting import sensor_counts

logger = logging.getLogger(__name__)


@app.crontab(settings.count_report_cron)
async def report_totals() -> tuple[int, int]:
    """Log how many sensors and readings this worker counts; return (sensors, readings)."""
    _ = sensor_counts  # what you will need
    raise NotImplementedError(
        "task 3.4: report the totals from a crontab — run `uv run kata hint 3.4`"
    )


@app.on_rebalance_complete.connect  # type: ignore[arg-type]  # Faust types receivers loosely
async def log_recovered_counts(sender: faust.App, **kwargs: Any) -> tuple[int, int]:
    """After every rebalance (start-up included): log what the table holds; return it."""
    _ = (sensor_counts, topics)  # what you will need
    raise NotImplementedError(
        "task 3.4: log what the worker recovered from the changelog — run `uv run kata hint 3.4`"
    )
