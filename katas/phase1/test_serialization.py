"""Task 1.1: a SensorReading survives Faust's JSON serialization, and you can see the bytes."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from app.models import SensorReading
from katas.phase1.serialization import decode_reading, encode_reading

READING = SensorReading(
    reading_id="r-00000001",
    sensor_id="sensor-001",
    temperature=21.5,
    humidity=45.0,
    timestamp=1_700_000_000.0,
)
FIELDS = {
    "reading_id": "r-00000001",
    "sensor_id": "sensor-001",
    "temperature": 21.5,
    "humidity": 45.0,
    "timestamp": 1_700_000_000.0,
}


def test_the_bytes_are_json_with_the_fields() -> None:
    data = encode_reading(READING)
    assert isinstance(data, bytes), (
        f"encode_reading(...) returned {type(data).__name__}; expected bytes"
    )
    document = json.loads(data)
    got = {name: document.get(name) for name in FIELDS}
    assert got == FIELDS, f"encode_reading(...) wrote the fields {got}; expected {FIELDS}"


def test_the_bytes_name_the_record_class() -> None:
    document = json.loads(encode_reading(READING))
    metadata = document.get("__faust")
    expected = {"ns": "app.models.SensorReading"}
    assert metadata == expected, (
        f"encode_reading(...) wrote __faust={metadata!r}; expected {expected!r}: "
        "serialize with Faust, so a reader knows which Record the bytes are"
    )


def test_decode_reads_faust_bytes() -> None:
    data = json.dumps({**FIELDS, "__faust": {"ns": "app.models.SensorReading"}}).encode()
    got = decode_reading(data)
    assert got == READING, f"decode_reading({data!r}) returned {got!r}; expected {READING!r}"


def test_decode_reads_plain_producer_json() -> None:
    data = json.dumps(FIELDS).encode()
    got = decode_reading(data)
    assert got == READING, f"decode_reading({data!r}) returned {got!r}; expected {READING!r}"


@given(
    reading_id=st.text(max_size=20),
    sensor_id=st.text(max_size=20),
    temperature=st.floats(allow_nan=False, allow_infinity=False),
    humidity=st.floats(min_value=0.0, max_value=100.0),
    timestamp=st.floats(min_value=0.0, max_value=4e9),
)
def test_round_trip_gives_back_an_equal_reading(
    reading_id: str, sensor_id: str, temperature: float, humidity: float, timestamp: float
) -> None:
    reading = SensorReading(
        reading_id=reading_id,
        sensor_id=sensor_id,
        temperature=temperature,
        humidity=humidity,
        timestamp=timestamp,
    )
    data = encode_reading(reading)
    got = decode_reading(data)
    assert got == reading, (
        f"decode_reading(encode_reading({reading!r})) returned {got!r} (bytes {data!r}); "
        "expected an equal reading"
    )
