"""Task 4.4: late events (reference solution)."""

from __future__ import annotations

import time

from app.config import ErrorCode
from app.models import DeadLetter, EnrichedReading, encode_bytes
from katas.phase4.windows import Window


def is_late(window: Window, horizon: float) -> bool:
    """True when ``window`` has already closed: every window ending at or before the horizon."""
    return window.end <= horizon


def late_dead_letter(
    reading: EnrichedReading,
    window: Window,
    horizon: float,
    topic: str,
    partition: int,
    offset: int,
    failed_at: float | None = None,
) -> DeadLetter:
    """A dead letter for a reading whose window had already closed: what, why, where."""
    return DeadLetter(
        error_code=ErrorCode.LATE_EVENT.value,
        reason=(
            f"reading {reading.reading_id} of {reading.sensor_id} at {reading.timestamp} "
            f"belongs to the window [{window.start}, {window.end}), which closed when the "
            f"horizon reached {horizon}"
        ),
        payload_base64=encode_bytes(reading.dumps(serializer="json")),
        key_base64=encode_bytes(reading.sensor_id.encode()),
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        failed_at=time.time() if failed_at is None else failed_at,
    )
