"""Task 2.3: a dead letter loses nothing and says why and where."""

from __future__ import annotations

import base64
import time

import faust
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.config import MAX_REASON_CHARS, ErrorCode, settings
from app.faust_app import topics
from app.models import DeadLetter, MalformedReading, fingerprint
from kata_engine.testing import serialized_size
from katas.phase2.dead_letter import dead_letter_headers, to_dead_letter

BROKER_MESSAGE_MAX_BYTES = 1_048_588  # the broker's default message.max.bytes: the largest input

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


def stored(dead: DeadLetter, part: str) -> tuple[bytes | None, str]:
    """``dead.payload()`` or ``dead.key()``, or None and why it could not be decoded."""
    text = getattr(dead, f"{part}_base64")
    try:
        return (dead.payload() if part == "payload" else dead.key()), ""
    except Exception as error:  # binascii.Error, TypeError: not base64 at all
        return None, f"{part}_base64={str(text)[:60]!r} is not base64 ({type(error).__name__})"


def shown(data: bytes | None) -> str:
    """Bytes in an assertion message: short ones in full, long ones by size and start."""
    if data is None or len(data) <= 80:
        return repr(data)
    return f"<{len(data):,} bytes starting {data[:40]!r}>"


@given(raw=st.binary(), key=st.none() | st.binary())
def test_the_original_bytes_survive_exactly(raw: bytes, key: bytes | None) -> None:
    dead = build(raw, key)
    call = f"to_dead_letter({raw!r}, key={key!r}, ...)"
    rule = "expected the original bytes (store them with app.models.encode_bytes)"
    payload, problem = stored(dead, "payload")
    assert not problem and payload == raw, (
        f"{call}: {problem or f'payload() is {payload!r}'}; {rule}"
    )
    got_key, problem = stored(dead, "key")
    assert not problem and got_key == key, f"{call}: {problem or f'key() is {got_key!r}'}; {rule}"
    restored = DeadLetter.loads(dead.dumps(serializer="json"), serializer="json")
    assert stored(restored, "payload")[0] == raw, (
        f"{call}: the payload did not survive a JSON round trip (dumps, then loads)"
    )


def identity(dead: DeadLetter) -> dict[str, object]:
    names = (
        "payload_size",
        "payload_sha256",
        "payload_truncated",
        "key_size",
        "key_sha256",
        "key_truncated",
    )
    return {name: getattr(dead, name) for name in names}


def expected_identity(raw: bytes | None, key: bytes | None) -> dict[str, object]:
    return {
        "payload_size": None if raw is None else len(raw),
        "payload_sha256": fingerprint(raw),
        "payload_truncated": raw is not None and len(raw) > settings.dead_letter_payload_bytes,
        "key_size": None if key is None else len(key),
        "key_sha256": fingerprint(key),
        "key_truncated": key is not None and len(key) > settings.dead_letter_key_bytes,
    }


@pytest.mark.parametrize(
    ("raw_size", "key_size"),
    [
        (0, 0),
        (10, None),
        (settings.dead_letter_payload_bytes, settings.dead_letter_key_bytes),
        (settings.dead_letter_payload_bytes + 1, 10),
        (10, settings.dead_letter_key_bytes + 1),
        (BROKER_MESSAGE_MAX_BYTES, BROKER_MESSAGE_MAX_BYTES),
    ],
    ids=["empty", "small-no-key", "at-the-limits", "value-over", "key-over", "both-at-broker-max"],
)
def test_too_large_bytes_are_truncated_with_their_size_and_sha256(
    raw_size: int, key_size: int | None
) -> None:
    raw = bytes(range(256)) * (raw_size // 256) + bytes(raw_size % 256)
    key = None if key_size is None else b"k" * key_size
    dead = build(raw, key)
    call = f"to_dead_letter({shown(raw)}, key={shown(key)}, ...)"
    got, expected = identity(dead), expected_identity(raw, key)
    assert got == expected, (
        f"{call} gave {got}; expected {expected}: full size and SHA-256 (fingerprint) always, "
        f"truncated only above settings.dead_letter_payload_bytes "
        f"({settings.dead_letter_payload_bytes}) / dead_letter_key_bytes "
        f"({settings.dead_letter_key_bytes})"
    )
    payload, problem = stored(dead, "payload")
    want = raw[: settings.dead_letter_payload_bytes]
    assert not problem and payload == want, (
        f"{call}: {problem or f'payload() is {shown(payload)}'}; expected {shown(want)}: the "
        "whole value, or its first dead_letter_payload_bytes bytes"
    )
    got_key, problem = stored(dead, "key")
    want_key = None if key is None else key[: settings.dead_letter_key_bytes]
    assert not problem and got_key == want_key, (
        f"{call}: {problem or f'key() is {shown(got_key)}'}; expected {shown(want_key)}"
    )


async def test_the_largest_dead_letter_fits_in_one_record(faust_app: faust.App) -> None:
    raw = b"\xff" * BROKER_MESSAGE_MAX_BYTES
    key = b"\xfe" * BROKER_MESSAGE_MAX_BYTES
    error = MalformedReading(ErrorCode.PROCESSING_FAILED, "\ud800\x00" * (2 * MAX_REASON_CHARS))
    dead = to_dead_letter(raw, key, error, "sensor-readings", 3, 10**12, failed_at=1.5)
    size = serialized_size(topics.dead_letter, dead.key(), dead, dead_letter_headers(dead))
    limit = faust_app.conf.producer_max_request_size
    assert size <= limit, (
        f"a dead letter for a value and a key of {BROKER_MESSAGE_MAX_BYTES:,} bytes each and a "
        f"long reason is {size:,} bytes on the wire (key + value + headers); the producer sends "
        f"at most {limit:,}: truncate to the limits in settings and cut the reason"
    )
    assert len(dead.reason) <= MAX_REASON_CHARS, (
        f"to_dead_letter(...) kept a reason of {len(dead.reason)} characters; expected at most "
        f"MAX_REASON_CHARS ({MAX_REASON_CHARS})"
    )


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


def test_a_reason_with_a_lone_surrogate_still_makes_headers() -> None:
    error = MalformedReading(ErrorCode.PROCESSING_FAILED, "ValueError: bad \ud800 text")
    dead = to_dead_letter(b"x", None, error, "sensor-readings", 0, 0, failed_at=1.0)
    try:
        headers = dead_letter_headers(dead)
    except UnicodeEncodeError as failure:
        pytest.fail(
            f"dead_letter_headers(...) for the reason {dead.reason!r} raised {failure!r}; "
            "expected headers (encode with errors='backslashreplace')"
        )
    assert headers.get("error_reason", b"").startswith(b"ValueError: bad "), (
        f"dead_letter_headers(...) returned {headers!r}; expected error_reason to hold the reason"
    )


def test_headers_carry_the_error_code_and_reason() -> None:
    dead = build()
    headers = dead_letter_headers(dead)
    expected = {"error_code": b"not_json", "error_reason": b"not JSON: Expecting value"}
    assert headers == expected, (
        f"dead_letter_headers(...) returned {headers!r}; expected {expected!r}"
    )
