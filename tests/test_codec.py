"""The pipeline's JSON codec (app/codec.py): orjson where it can, the standard library where not."""

from __future__ import annotations

import json
import math

import orjson
import pytest
from faust.serializers import codecs
from faust.utils import json as faust_json

from app.codec import PipelineJSON
from app.config import ErrorCode
from app.models import EnrichedReading, MalformedReading
from solutions.phase2.dead_letter import to_dead_letter

LONE_SURROGATE = "\ud800"


def test_faust_uses_this_codec_for_json() -> None:
    codec = codecs.get_codec("json")
    assert isinstance(codec, PipelineJSON), (
        f"Faust's codec for 'json' is {type(codec).__name__}; expected PipelineJSON, registered "
        "under the faust.codecs entry points in pyproject.toml (run uv sync after changing them)"
    )


def test_faust_json_runs_on_orjson() -> None:
    # faust/utils/json.py imports orjson if it can (None when it cannot), and picks its dumps by it.
    assert vars(faust_json).get("orjson") is not None, (
        "Faust's JSON module did not find orjson; the project asks for faust-streaming[orjson], "
        "and without it every model's dumps costs about a quarter more CPU per event"
    )


def test_orjson_alone_refuses_a_lone_surrogate() -> None:
    # The fact the fallback exists for: Faust's own codec raises on it under orjson.
    with pytest.raises(orjson.JSONEncodeError):
        codecs.json().dumps({"reason": LONE_SURROGATE})


def test_a_dead_letter_whose_reason_quotes_a_lone_surrogate_is_written() -> None:
    error = MalformedReading(ErrorCode.NOT_JSON, f"bad escape {LONE_SURROGATE} at byte 9")
    dead = to_dead_letter(b'{"x":"\\ud800"}', b"k", error, "sensor-readings", 0, 7, failed_at=1.5)
    written = dead.dumps()
    assert json.loads(written)["reason"] == dead.reason, (
        f"the dead letter was written as {written[:120]!r}, whose reason does not read back as "
        f"{dead.reason!r}: a reason with a lone surrogate must survive (orjson refuses it; the "
        "codec falls back to the standard library)"
    )


def test_an_integer_beyond_64_bits_is_written_and_read_back() -> None:
    codec = PipelineJSON()
    value = {"offset": 2**70}
    assert codec.loads(codec.dumps(value)) == value, (
        f"{value} did not survive the codec; orjson refuses integers beyond 64 bits both ways, "
        "and the standard library takes them"
    )


def test_nan_on_the_way_in_is_read_as_the_standard_library_reads_it() -> None:
    read = PipelineJSON().loads(b'{"temperature": NaN}')
    assert math.isnan(read["temperature"]), (
        f"the codec read {read}; expected temperature NaN, as the standard library reads it "
        "(orjson refuses the literal)"
    )


def test_the_usual_record_reads_back_the_same_either_way() -> None:
    reading = EnrichedReading(
        reading_id="r-1",
        sensor_id="sensor-001",
        temperature=41.25,
        humidity=1e16,
        timestamp=1.7e9,
        status="critical",
        processed_at=1.7e9 + 0.5,
    )
    fast = reading.dumps()
    assert json.loads(fast) == json.loads(
        json.dumps(reading.to_representation(), cls=faust_json.JSONEncoder)
    ), f"orjson wrote {fast!r}, which does not read back as the standard library's JSON does"
