"""app.models: every record survives JSON, and a DeadLetter loses no byte."""

from __future__ import annotations

import json
from typing import Any

import faust
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.models import (
    DeadLetter,
    EnrichedReading,
    SensorReading,
    WindowAggregate,
    encode_bytes,
    fingerprint,
)

READING: dict[str, Any] = {
    "reading_id": "r-00000001-0badcafe",
    "sensor_id": "sensor-001",
    "temperature": 21.5,
    "humidity": 45.0,
    "timestamp": 1_735_689_600.0,
}
RECORDS: list[faust.Record] = [
    SensorReading(**READING),
    EnrichedReading(**READING, status="normal", processed_at=1_735_689_601.5),
    WindowAggregate(
        sensor_id="sensor-001",
        window_start=1_735_689_600.0,
        window_end=1_735_689_660.0,
        count=3,
        min_temperature=20.0,
        max_temperature=23.0,
        avg_temperature=21.5,
    ),
    DeadLetter(
        error_code="invalid_utf8",
        reason="the bytes are not UTF-8 text",
        payload_base64=encode_bytes(b"\xff\xfe{}"),
        key_base64=encode_bytes(b"sensor-001"),
        source_topic="sensor-readings",
        source_partition=2,
        source_offset=41,
        failed_at=1_735_689_602.0,
    ),
    DeadLetter(
        error_code="empty_payload",
        reason="the value is null",
        payload_base64=None,
        key_base64=None,
        source_topic="sensor-readings",
        source_partition=0,
        source_offset=0,
        failed_at=1_735_689_603.0,
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_record_round_trips_through_json(record: faust.Record) -> None:
    wire = record.dumps()

    assert type(record).loads(wire) == record
    assert json.loads(wire)  # plain JSON on the wire, readable by any consumer


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_the_wire_form_carries_every_field_by_name(record: faust.Record) -> None:
    document = json.loads(record.dumps())

    assert {name: document[name] for name in record.asdict()} == record.asdict()


def test_an_enriched_reading_is_a_sensor_reading_plus_two_fields() -> None:
    enriched = EnrichedReading(**READING, status="warning", processed_at=1.0)

    assert isinstance(enriched, SensorReading)
    assert set(enriched.asdict()) - set(READING) == {"status", "processed_at"}


@given(payload=st.binary(), key=st.one_of(st.none(), st.binary()))
def test_a_dead_letter_keeps_any_bytes_losslessly(payload: bytes, key: bytes | None) -> None:
    dead_letter = DeadLetter(
        error_code="not_json",
        reason="the text is not JSON",
        payload_base64=encode_bytes(payload),
        key_base64=encode_bytes(key),
        source_topic="sensor-readings",
        source_partition=1,
        source_offset=7,
        failed_at=0.0,
    )

    through_the_wire = DeadLetter.loads(dead_letter.dumps())

    assert through_the_wire.payload() == payload
    assert through_the_wire.key() == key


def test_a_null_value_stays_null_not_empty() -> None:
    assert encode_bytes(None) is None
    assert encode_bytes(b"") == ""
    null_dead_letter = RECORDS[-1]
    assert isinstance(null_dead_letter, DeadLetter)
    assert DeadLetter.loads(null_dead_letter.dumps()).payload() is None


@given(original=st.binary(max_size=64), cut=st.integers(0, 64), other=st.binary(max_size=64))
def test_a_dead_letter_matches_exactly_its_original(
    original: bytes, cut: int, other: bytes
) -> None:
    stored = original[:cut]
    dead_letter = DeadLetter(
        error_code="not_json",
        reason="r",
        payload_base64=encode_bytes(stored),
        key_base64=None,
        source_topic="sensor-readings",
        source_partition=0,
        source_offset=0,
        failed_at=0.0,
        payload_size=len(original),
        payload_sha256=fingerprint(original),
        payload_truncated=len(stored) < len(original),
    )

    assert dead_letter.matches(original, None)
    assert dead_letter.matches(other, None) == (other == original)
    assert not dead_letter.matches(original, b"a key it never had")
