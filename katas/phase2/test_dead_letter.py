"""Task 2.3: a dead letter loses nothing and says why and where."""

from __future__ import annotations

import base64
import time

from hypothesis import given
from hypothesis import strategies as st

from app.config import ErrorCode
from app.models import DeadLetter, MalformedReading
from katas.phase2.dead_letter import dead_letter_headers, to_dead_letter

ERROR = MalformedReading(ErrorCode.NOT_JSON, "not JSON: Expecting value")


def build(raw: bytes | None = b"{oops", key: bytes | None = b"sensor-001") -> DeadLetter:
    return to_dead_letter(
        raw, key, ERROR, "sensor-readings", partition=3, offset=1234, failed_at=1_700_000_000.5
    )


def test_the_dead_letter_says_why_and_where() -> None:
    dead = build()
    got = {
        "error_code": dead.error_code,
        "reason": dead.reason,
        "source_topic": dead.source_topic,
        "source_partition": dead.source_partition,
        "source_offset": dead.source_offset,
        "failed_at": dead.failed_at,
    }
    expected = {
        "error_code": "not_json",
        "reason": "not JSON: Expecting value",
        "source_topic": "sensor-readings",
        "source_partition": 3,
        "source_offset": 1234,
        "failed_at": 1_700_000_000.5,
    }
    assert got == expected, f"to_dead_letter(...) built {got}; expected {expected}"


@given(raw=st.binary(), key=st.none() | st.binary())
def test_the_original_bytes_survive_exactly(raw: bytes, key: bytes | None) -> None:
    dead = build(raw, key)
    assert dead.payload() == raw, (
        f"to_dead_letter({raw!r}, ...).payload() returned {dead.payload()!r}; expected the "
        "original bytes (store them with app.models.encode_bytes)"
    )
    assert dead.key() == key, f"to_dead_letter(..., key={key!r}).key() returned {dead.key()!r}"
    restored = DeadLetter.loads(dead.dumps(serializer="json"), serializer="json")
    assert restored.payload() == raw, "the payload did not survive a JSON round trip"


def test_a_null_value_stays_null() -> None:
    dead = build(raw=None, key=None)
    assert (dead.payload_base64, dead.key_base64) == (None, None), (
        f"to_dead_letter(None, None, ...) stored payload_base64={dead.payload_base64!r}, "
        f"key_base64={dead.key_base64!r}; expected None for both (a null is not empty bytes)"
    )


def test_empty_bytes_stay_empty_bytes() -> None:
    dead = build(raw=b"")
    assert dead.payload_base64 == base64.b64encode(b"").decode(), (
        f"to_dead_letter(b'', ...) stored payload_base64={dead.payload_base64!r}; expected ''"
    )


def test_failed_at_defaults_to_now() -> None:
    before = time.time()
    dead = to_dead_letter(b"x", None, ERROR, "sensor-readings", 0, 0)
    after = time.time()
    assert before <= dead.failed_at <= after, (
        f"to_dead_letter(...) without failed_at set failed_at={dead.failed_at}; "
        f"expected the current time (between {before} and {after})"
    )


def test_headers_carry_the_error_code_and_reason() -> None:
    dead = build()
    headers = dead_letter_headers(dead)
    expected = {"error_code": b"not_json", "error_reason": b"not JSON: Expecting value"}
    assert headers == expected, (
        f"dead_letter_headers(...) returned {headers!r}; expected {expected!r}"
    )
