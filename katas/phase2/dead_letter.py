"""Task 2.3: build the dead-letter record and its headers.

A broken event must not stop the pipeline, and must not be lost either: it goes to the
``sensor-dead-letter`` topic as a DeadLetter (app/models.py) that keeps the exact original
bytes, says why it failed, and says where the original lives (topic, partition, offset).

Run: ``uv run pytest katas/phase2/test_dead_letter.py``
"""

from __future__ import annotations

from app.models import DeadLetter, MalformedReading


def to_dead_letter(
    raw: bytes | None,
    key: bytes | None,
    error: MalformedReading,
    topic: str,
    partition: int,
    offset: int,
    failed_at: float | None = None,
) -> DeadLetter:
    """A DeadLetter for one broken event.

    ``error_code`` and ``reason`` come from ``error``; ``payload_base64`` and ``key_base64`` hold
    the original bytes (use ``app.models.encode_bytes``: JSON cannot carry raw bytes, and None
    stays None); ``failed_at`` is now (``time.time()``) unless given.
    """
    raise NotImplementedError("task 2.3: build the dead-letter record — run `uv run kata hint 2.3`")


def dead_letter_headers(dead_letter: DeadLetter) -> dict[str, bytes]:
    """Kafka headers for a dead letter: ``error_code`` and ``error_reason``, as UTF-8 bytes.

    Headers let a tool count or route dead letters without decoding their value.
    """
    raise NotImplementedError(
        "task 2.3: build the dead-letter headers — run `uv run kata hint 2.3`"
    )
