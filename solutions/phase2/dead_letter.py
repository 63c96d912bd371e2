"""Task 2.3: build the dead-letter record and its headers (reference solution)."""

from __future__ import annotations

import time

from app.config import MAX_REASON_CHARS, settings
from app.models import DeadLetter, MalformedReading, encode_bytes, fingerprint


def to_dead_letter(
    raw: bytes | None,
    key: bytes | None,
    error: MalformedReading,
    topic: str,
    partition: int,
    offset: int,
    failed_at: float | None = None,
) -> DeadLetter:
    """A DeadLetter that keeps the original bytes (or, if too large, a prefix with the size and
    SHA-256 of the whole), says why, and says where the original is."""
    payload_limit = settings.dead_letter_payload_bytes
    key_limit = settings.dead_letter_key_bytes
    return DeadLetter(
        error_code=error.code.value,
        reason=error.reason[:MAX_REASON_CHARS],
        payload_base64=encode_bytes(None if raw is None else raw[:payload_limit]),
        key_base64=encode_bytes(None if key is None else key[:key_limit]),
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        failed_at=time.time() if failed_at is None else failed_at,
        payload_size=None if raw is None else len(raw),
        payload_sha256=fingerprint(raw),
        payload_truncated=raw is not None and len(raw) > payload_limit,
        key_size=None if key is None else len(key),
        key_sha256=fingerprint(key),
        key_truncated=key is not None and len(key) > key_limit,
    )


def dead_letter_headers(dead_letter: DeadLetter) -> dict[str, bytes]:
    """Kafka headers for a dead letter, so tools can route or count it without decoding it."""
    return {
        "error_code": dead_letter.error_code.encode(),
        # A reason may quote text with lone surrogates: escape them instead of failing.
        "error_reason": dead_letter.reason.encode("utf-8", errors="backslashreplace"),
    }
