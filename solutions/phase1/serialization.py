"""Task 1.1: round-trip a SensorReading through Faust's JSON serialization (reference solution)."""

from __future__ import annotations

from app.models import SensorReading


def encode_reading(reading: SensorReading) -> bytes:
    """The bytes Faust would put on the wire for ``reading``: JSON plus ``__faust`` metadata."""
    return reading.dumps(serializer="json")


def decode_reading(data: bytes) -> SensorReading:
    """A SensorReading from JSON bytes, with or without Faust's ``__faust`` metadata."""
    return SensorReading.loads(data, serializer="json")
