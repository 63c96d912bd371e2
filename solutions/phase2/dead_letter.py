"""Task 2.3: build the dead-letter record and its headers (reference solution)."""

from __future__ import annotations

import time

from app.models import DeadLetter, MalformedReading, encode_bytes


def to_dead_letter(
    raw: bytes | None,
    key: bytes | None,
    error: MalformedReading,
    topic: str,
    partition: int,
    offset: int,
    failed_at: float | None = None,
) -> DeadLetter:
    """A DeadLetter that keeps the original bytes, says why, and says where the original is."""
    return DeadLetter(
        error_code=error.code.value,
        reason=error.reason,
        payload_base64=encode_bytes(raw),
        key_base64=encode_bytes(key),
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        failed_at=time.time() if failed_at is None else failed_at,
    )


def dead_letter_headers(dead_letter: DeadLetter) -> dict[str, bytes]:
    """Kafka headers for a dead letter, so tools can route or count it without decoding it."""
    return {
        "error_code": dead_letter.error_code.encode(),
        "error_reason": dead_letter.reason.encode("utf-8", errors="backslashreplace"),
    }
