"""Mutants of phase 1: plausible wrong solutions the phase 1 tests must catch."""

from __future__ import annotations

import json

from app.models import SensorReading
from tests.mutants import Mutant, replace


def _plain_json_without_metadata() -> None:
    from solutions.phase1 import serialization as module

    def encode_reading(reading: SensorReading) -> bytes:
        return json.dumps(reading.asdict()).encode()  # the mistake: bypasses Faust's serializer

    replace(module, "encode_reading", encode_reading)


def _decode_with_plain_constructor() -> None:
    from solutions.phase1 import serialization as module

    def decode_reading(data: bytes) -> SensorReading:
        document = json.loads(data)
        document.pop("__faust", None)
        document["temperature"] = round(document["temperature"], 2)  # the mistake: "tidies" data
        return SensorReading(**document)

    replace(module, "decode_reading", decode_reading)


def _keyed_by_reading_id() -> None:
    from solutions.phase1 import first_contact as module

    def to_kafka_record(reading: SensorReading) -> tuple[bytes, bytes]:
        # The mistake: a unique key spreads one sensor's readings over all partitions.
        return reading.reading_id.encode(), reading.dumps(serializer="json")

    replace(module, "to_kafka_record", to_kafka_record)


MUTANTS = [
    Mutant(
        name="serialization-plain-json",
        task="1.1",
        description="encodes with json.dumps, losing Faust's __faust metadata",
        apply=_plain_json_without_metadata,
        caught_by=("test_serialization.py::test_the_bytes_name_the_record_class",),
    ),
    Mutant(
        name="serialization-rounds-temperature",
        task="1.1",
        description="decodes by hand and rounds the temperature",
        apply=_decode_with_plain_constructor,
        caught_by=("test_serialization.py::test_round_trip_gives_back_an_equal_reading",),
    ),
    Mutant(
        name="first-contact-key-is-reading-id",
        task="1.2",
        description="records keyed by reading_id instead of sensor_id",
        apply=_keyed_by_reading_id,
        caught_by=(
            "test_first_contact.py::test_the_record_is_keyed_by_sensor",
            "test_first_contact.py::test_same_sensor_same_key",
        ),
    ),
]
