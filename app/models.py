"""The events that flow through the pipeline (provided; read it, don't edit it).

All of them are Faust Records serialized as JSON: human-readable on the wire, and never pickle.
"""

from __future__ import annotations

import base64
import hashlib

import faust

from app.config import ErrorCode


class SensorReading(faust.Record, serializer="json"):
    """One raw measurement from one sensor, as the producer writes it to ``sensor-readings``."""

    reading_id: str  # unique per reading; lets you spot duplicates downstream
    sensor_id: str  # also the Kafka key, so one sensor's readings stay in order
    temperature: float  # degrees Celsius
    humidity: float  # percent, 0..100
    timestamp: float  # when the sensor measured, epoch seconds (event time)


class EnrichedReading(SensorReading, serializer="json"):
    """A valid reading plus what the pipeline concluded about it (``enriched-readings``)."""

    status: str  # one of app.config.Status: normal | warning | critical
    processed_at: float  # when the pipeline enriched it, epoch seconds (processing time)


class WindowAggregate(faust.Record, serializer="json"):
    """Temperature statistics of one sensor over one closed window (``window-aggregates``)."""

    sensor_id: str
    window_start: float  # epoch seconds, inclusive
    window_end: float  # epoch seconds, exclusive
    count: int
    min_temperature: float
    max_temperature: float
    avg_temperature: float


class WindowTick(faust.Record, serializer="json"):
    """A heartbeat for one partition of ``window-ticks`` (phase 4): "close what has gone quiet".

    A timer sends one per partition the worker owns, so that windows close even when no later
    reading arrives; the tick is consumed like any event, in that partition.
    """

    sent_at: float  # the sender's wall clock, epoch seconds (processing time)


class DeadLetter(faust.Record, serializer="json"):
    """A raw event that could not become an enriched reading (``sensor-dead-letter``).

    Nothing is lost: ``payload_base64`` holds the exact original bytes (JSON cannot carry raw
    bytes), and the source coordinates say where to find the original in Kafka. A value or key
    too large to fit in a dead letter (settings.dead_letter_payload_bytes / _key_bytes) is stored
    truncated, ``payload_truncated`` / ``key_truncated`` say so, and its full size and SHA-256
    identify the original, which still lives at the source coordinates.
    """

    error_code: str  # one of app.config.ErrorCode
    reason: str  # one sentence for a human
    payload_base64: str | None  # None when the Kafka value itself was null
    key_base64: str | None
    source_topic: str
    source_partition: int
    source_offset: int
    failed_at: float  # epoch seconds
    payload_size: int | None = None  # bytes of the original value (None when it was null)
    payload_sha256: str | None = None  # hex SHA-256 of the original value
    payload_truncated: bool = False  # True: payload_base64 holds only the first bytes
    key_size: int | None = None
    key_sha256: str | None = None
    key_truncated: bool = False

    def payload(self) -> bytes | None:
        """The stored value bytes: the exact original unless ``payload_truncated``."""
        return None if self.payload_base64 is None else base64.b64decode(self.payload_base64)

    def key(self) -> bytes | None:
        """The stored key bytes: the exact original unless ``key_truncated``."""
        return None if self.key_base64 is None else base64.b64decode(self.key_base64)

    def matches(self, value: bytes | None, key: bytes | None) -> bool:
        """True if ``value`` and ``key`` are the original this dead letter describes."""
        return _describes(self.payload(), self.payload_size, self.payload_sha256, value) and (
            _describes(self.key(), self.key_size, self.key_sha256, key)
        )


def _describes(
    stored: bytes | None, size: int | None, sha256: str | None, data: bytes | None
) -> bool:
    if data is None or stored is None:
        return stored is None and data is None
    return data.startswith(stored) and size == len(data) and sha256 == fingerprint(data)


def encode_bytes(data: bytes | None) -> str | None:
    """Base64 text for ``data`` (None stays None): how DeadLetter stores raw bytes."""
    return None if data is None else base64.b64encode(data).decode("ascii")


def fingerprint(data: bytes | None) -> str | None:
    """The hex SHA-256 of ``data`` (None stays None): identifies an original too large to store."""
    return None if data is None else hashlib.sha256(data).hexdigest()


class MalformedReading(Exception):
    """A raw event that cannot become a SensorReading: why (``code``) and a sentence (``reason``).

    Raised by ``parse_reading`` (task 2.1) and turned into a DeadLetter (task 2.3).
    """

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
