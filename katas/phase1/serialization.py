"""Task 1.1: round-trip a SensorReading through Faust's JSON serialization.

Kafka stores bytes; Faust turns Records into bytes and back with a serializer. SensorReading
(app/models.py) is a ``faust.Record`` with ``serializer="json"``. Look at what the bytes look
like: the fields, plus a ``"__faust": {"ns": ...}`` entry that names the Record class, so a
reader can rebuild the right type.

Run: ``uv run pytest katas/phase1/test_serialization.py``
"""

from __future__ import annotations

from app.models import SensorReading


def encode_reading(reading: SensorReading) -> bytes:
    """The bytes Faust would put on the wire for ``reading``: JSON plus ``__faust`` metadata.

    A Record can serialize itself: look for ``dumps`` on it.
    """
    raise NotImplementedError(
        "task 1.1: encode a reading with Faust's JSON serializer — run `uv run kata hint 1.1`"
    )


def decode_reading(data: bytes) -> SensorReading:
    """A SensorReading from JSON bytes, with or without Faust's ``__faust`` metadata.

    The producer writes plain JSON (no metadata); Faust's own bytes carry it. Both must work.
    """
    raise NotImplementedError(
        "task 1.1: decode a reading with Faust's JSON serializer — run `uv run kata hint 1.1`"
    )
