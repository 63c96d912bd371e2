"""The events that flow through the pipeline (provided; read it, don't edit it).

All of them are Faust Records serialized as JSON: human-readable on the wire, and never pickle.
"""

from __future__ import annotations

import base64

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
    """A raw event that could not become a SensorReading (``sensor-dead-letter``).

    Nothing is lost: ``payload_base64`` holds the exact original bytes (JSON cannot carry raw
    bytes), and the source coordinates say where to find the original in Kafka.
    """

    error_code: str  # one of app.config.ErrorCode
    reason: str  # one sentence for a human
    payload_base64: str | None  # None when the Kafka value itself was null
    key_base64: str | None
    source_topic: str
    source_partition: int
    source_offset: int
    failed_at: float  # epoch seconds

    def payload(self) -> bytes | None:
        """The original value bytes, exactly as they were in the source topic."""
        return None if self.payload_base64 is None else base64.b64decode(self.payload_base64)

    def key(self) -> bytes | None:
        """The original key bytes, exactly as they were in the source topic."""
        return None if self.key_base64 is None else base64.b64decode(self.key_base64)


def encode_bytes(data: bytes | None) -> str | None:
    """Base64 text for ``data`` (None stays None): how DeadLetter stores raw bytes."""
    return None if data is None else base64.b64encode(data).decode("ascii")


class MalformedReading(Exception):
    """A raw event that cannot become a SensorReading: why (``code``) and a sentence (``reason``).

    Raised by ``parse_reading`` (task 2.1) and turned into a DeadLetter (task 2.3).
    """

    def __init__(self, code: ErrorCode, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
