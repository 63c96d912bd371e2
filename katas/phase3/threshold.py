"""Task 3.3: a timer that logs the sensors whose count exceeds the threshold.

Every ``settings.count_check_interval`` seconds (KATA_COUNT_CHECK_INTERVAL, 10 s) the worker
runs ``log_busy_sensors``. It logs, at WARNING level, each sensor whose count in
``sensor_counts`` is ABOVE ``settings.count_alert_threshold`` (KATA_COUNT_ALERT_THRESHOLD, 100;
a count equal to the threshold is not above it), with its sensor_id and its count in the line.

Someone watches this log: a sensor that crossed the threshold an hour ago should not fill it
with one line every 10 seconds. Log each sensor ONCE, when it is first seen above the threshold:
remember the ones already logged in ``reported``. Return the sensors this run logged, sorted.

Run: ``uv run pytest katas/phase3/test_threshold.py``
"""

from __future__ import annotations

import logging

from app.config import settings
from app.faust_app import app
from katas.phase3.counting import sensor_counts

logger = logging.getLogger(__name__)

# The sensors this worker has already logged (tests empty it before each test).
reported: set[str] = set()


@app.timer(interval=settings.count_check_interval)  # type: ignore[untyped-decorator]
async def log_busy_sensors() -> list[str]:
    """Log each sensor once when its count first exceeds the threshold; return the new ones."""
    _ = (sensor_counts, reported, logger)  # what you will need
    raise NotImplementedError(
        "task 3.3: log the sensors above the threshold, once — run `uv run kata hint 3.3`"
    )
