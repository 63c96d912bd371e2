"""app.catalogue: the sample events the producer sends and the phase 2 tests feed in."""

from __future__ import annotations

import json
import math
import random

import pytest

from app.catalogue import (
    MALFORMED_BY_NAME,
    MALFORMED_KINDS,
    MalformedKind,
    SensorFleet,
    to_bytes,
    valid_reading,
)
from app.config import AGENT_CODES, VALIDATION_CODES, Settings

FIELDS = {
    "reading_id": str,
    "sensor_id": str,
    "temperature": float,
    "humidity": float,
    "timestamp": float,
}


def sample_readings(count: int, seed: int = 1) -> list[dict[str, object]]:
    rng = random.Random(seed)
    fleet = SensorFleet.create(5, rng)
    return [valid_reading(rng, fleet, n, 1_735_689_600.0 + n) for n in range(count)]


def test_valid_readings_are_json_objects_with_every_field_of_the_right_type() -> None:
    settings = Settings()
    for reading in sample_readings(1_000):
        document = json.loads(to_bytes(reading))
        assert set(document) == set(FIELDS)
        for name, kind in FIELDS.items():
            assert isinstance(document[name], kind), name
        assert document["sensor_id"].strip()
        assert 0 <= document["temperature"] <= settings.max_temperature
        assert 0 <= document["humidity"] <= 100
        assert math.isfinite(document["timestamp"])


def test_reading_ids_are_unique() -> None:
    ids = [reading["reading_id"] for reading in sample_readings(5_000)]

    assert len(set(ids)) == len(ids)


def test_the_same_seed_gives_the_same_readings() -> None:
    assert sample_readings(50, seed=4) == sample_readings(50, seed=4)
    assert sample_readings(50, seed=4) != sample_readings(50, seed=5)


def test_kind_names_are_unique_and_indexed() -> None:
    names = [kind.name for kind in MALFORMED_KINDS]

    assert len(set(names)) == len(names)
    assert {kind.name: kind for kind in MALFORMED_KINDS} == MALFORMED_BY_NAME


def test_at_least_ten_error_codes_are_covered() -> None:
    covered = {kind.expected for kind in MALFORMED_KINDS}

    assert len(covered) >= 10
    assert covered == set(VALIDATION_CODES)
    # The other codes are the agents' (processing failed, send failed, late event).
    assert not covered & set(AGENT_CODES)


@pytest.mark.parametrize("kind", MALFORMED_KINDS, ids=lambda kind: kind.name)
def test_every_kind_differs_from_the_valid_reading(kind: MalformedKind) -> None:
    for reading in sample_readings(20):
        assert kind.build(reading) != to_bytes(reading)


@pytest.mark.parametrize("kind", MALFORMED_KINDS, ids=lambda kind: kind.name)
def test_every_kind_breaks_a_reading_the_same_way_each_time(kind: MalformedKind) -> None:
    (reading,) = sample_readings(1)

    assert kind.build(reading) == kind.build(dict(reading))


def test_kinds_that_keep_json_change_only_what_their_name_says() -> None:
    (reading,) = sample_readings(1)
    missing = json.loads(MALFORMED_BY_NAME["missing_humidity"].build(reading) or b"")
    as_text = json.loads(MALFORMED_BY_NAME["temperature_as_text"].build(reading) or b"")

    assert missing == {k: v for k, v in reading.items() if k != "humidity"}
    assert as_text == {**reading, "temperature": "21.5"}


def test_the_fleet_is_reproducible_and_named_in_order() -> None:
    fleet = SensorFleet.create(3, random.Random(8))

    assert fleet.sensor_ids == ("sensor-001", "sensor-002", "sensor-003")
    assert fleet == SensorFleet.create(3, random.Random(8))
