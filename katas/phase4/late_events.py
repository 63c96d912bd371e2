"""Task 4.4: late events.

A reading is LATE when its window has already closed: the window's end is at or before its
sensor's horizon (task 4.3: the sensor's own, or its partition's consensus, whichever is
later). Faust's own windowed tables would quietly re-create the closed window and later drop
it; here a late reading is never silent and never re-opens anything: it becomes a
``DeadLetter`` on ``sensor-dead-letter`` with the code ``ErrorCode.LATE_EVENT``.

- ``is_late(window, horizon)``: True when the window has closed.
- ``late_dead_letter(reading, window, horizon, topic, partition, offset, failed_at=None)``: the
  DeadLetter. ``payload_base64``: the reading as JSON (``reading.dumps(serializer="json")``),
  ``key_base64``: the sensor id's bytes, both through ``app.models.encode_bytes``; a ``reason``
  that names the reading id and the window (its start); the source coordinates; ``failed_at``
  now unless given.

Run: ``uv run pytest katas/phase4/test_late_events.py``
"""

from __future__ import annotations

from app.models import DeadLetter, EnrichedReading
from katas.phase4.windows import Window


def is_late(window: Window, horizon: float) -> bool:
    """True when ``window`` has already closed: every window ending at or before the horizon."""
    raise NotImplementedError("task 4.4: recognise a late reading — run `uv run kata hint 4.4`")


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
    raise NotImplementedError("task 4.4: dead-letter a late reading — run `uv run kata hint 4.4`")
