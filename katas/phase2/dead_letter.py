"""Task 2.3: build the dead-letter record and its headers.

A broken event must not stop the pipeline, and must not be lost either: it goes to the
``sensor-dead-letter`` topic as a DeadLetter (app/models.py) that keeps the exact original
bytes, says why it failed, and says where the original lives (topic, partition, offset).

A dead letter must also always fit in one Kafka record, or it could not be written at all: an
input may be almost as large as the broker allows, and base64 makes it a third larger. So a value
or key longer than its limit is stored truncated, with its full size and SHA-256.

Run: ``uv run pytest katas/phase2/test_dead_letter.py``
"""

from __future__ import annotations

# settings.dead_letter_payload_bytes / dead_letter_key_bytes and MAX_REASON_CHARS are the limits.
from app.config import MAX_REASON_CHARS, settings  # noqa: F401
from app.models import DeadLetter, MalformedReading, encode_bytes, fingerprint  # noqa: F401


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

    ``error_code`` and ``reason`` come from ``error`` (the reason cut to MAX_REASON_CHARS
    characters); ``payload_base64`` and ``key_base64`` hold the original bytes (use
    ``encode_bytes``: JSON cannot carry raw bytes, and None stays None); ``failed_at`` is now
    (``time.time()``) unless given.

    Size: a value longer than ``settings.dead_letter_payload_bytes`` keeps only its first that
    many bytes and ``payload_truncated=True``; a key longer than ``settings.dead_letter_key_bytes``
    likewise (``key_truncated``). Whatever the size, ``payload_size``/``key_size`` hold the full
    length and ``payload_sha256``/``key_sha256`` the ``fingerprint`` of the whole original (all
    None for a None value or key). Exactly at the limit nothing is cut.
    """
    raise NotImplementedError("task 2.3: build the dead-letter record — run `uv run kata hint 2.3`")


def dead_letter_headers(dead_letter: DeadLetter) -> dict[str, bytes]:
    """Kafka headers for a dead letter: ``error_code`` and ``error_reason``, as UTF-8 bytes.

    Headers let a tool count or route dead letters without decoding their value. A reason may
    quote text with lone surrogates: encode with ``errors="backslashreplace"`` so it never fails.
    """
    raise NotImplementedError(
        "task 2.3: build the dead-letter headers — run `uv run kata hint 2.3`"
    )
