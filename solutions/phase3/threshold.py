"""Task 3.3: log the sensors that crossed the count threshold (reference solution)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from app.config import settings
from app.faust_app import app
from katas.phase3.counting import sensor_counts

logger = logging.getLogger(__name__)

# Sensors already logged by this worker: a person watching the log wants one line per crossing,
# not the same sensor every tick. Counts only grow, so a sensor crosses at most once per worker.
reported: set[str] = set()


def newly_busy(counts: Mapping[str, int], threshold: int, already: set[str]) -> list[str]:
    """Sensors whose count exceeds ``threshold`` and that are not in ``already``, sorted."""
    return sorted(
        sensor for sensor, count in counts.items() if count > threshold and sensor not in already
    )


@app.timer(interval=settings.count_check_interval)  # type: ignore[untyped-decorator]
async def log_busy_sensors() -> list[str]:
    """Log each sensor once when its count first exceeds the threshold; return the new ones."""
    threshold = settings.count_alert_threshold
    counts = dict(sensor_counts.items())  # this worker's partitions only
    crossed = newly_busy(counts, threshold, reported)
    for sensor in crossed:
        logger.warning(
            "sensor %s has %d readings, above the threshold of %d",
            sensor,
            counts[sensor],
            threshold,
        )
    reported.update(crossed)
    return crossed
