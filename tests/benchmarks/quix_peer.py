"""The phase 2 job in Quix Streams, for bench_throughput (needs ``uv sync --group bench``).

``python -m tests.benchmarks.quix_peer --servers HOST:PORT --group G --readings T --enriched T
--dead-letter T --guarantee at-least-once|exactly-once`` runs until killed: the same reference
functions as every other contender (parse_reading, classify, to_dead_letter,
dead_letter_headers), each enriched reading keyed by its sensor, each dead letter keyed by the
original key with the error headers. One difference Quix imposes: ``to_topic`` cannot choose a
partition, so a dead letter goes where its key hashes (the Faust agent sends it to its source's
partition).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any, override

from quixstreams import Application, message_context
from quixstreams.models.serializers import Serializer

from app.config import ErrorCode
from app.models import DeadLetter, EnrichedReading, MalformedReading
from solutions.phase2.classify import classify
from solutions.phase2.dead_letter import dead_letter_headers, to_dead_letter
from solutions.phase2.validation import parse_reading


@dataclass(frozen=True)
class Outcome:
    """What one source record becomes: a payload for one of the two output topics."""

    enriched: bool
    key: bytes | None
    payload: bytes
    headers: list[tuple[str, bytes]]


class PayloadSerializer(Serializer):  # type: ignore[misc]  # untyped here: see bench_throughput
    """Writes an Outcome's prepared bytes as they are."""

    @override
    def __call__(self, value: Any, *_args: Any, **_kwargs: Any) -> bytes:
        payload: bytes = value.payload
        return payload


def route(value: bytes | None, key: Any, _timestamp: int, _headers: Any) -> Outcome:
    """Validate and classify one record, or build its dead letter (never raises)."""
    context = message_context()
    try:
        reading = parse_reading(value)
        enriched = EnrichedReading(
            reading_id=reading.reading_id,
            sensor_id=reading.sensor_id,
            temperature=reading.temperature,
            humidity=reading.humidity,
            timestamp=reading.timestamp,
            status=classify(reading.temperature).value,
            processed_at=time.time(),
        )
        return Outcome(True, reading.sensor_id.encode(), enriched.dumps(), [])
    except MalformedReading as error:
        problem = error
    except Exception as error:
        problem = MalformedReading(ErrorCode.PROCESSING_FAILED, f"{type(error).__name__}: {error}")
    dead: DeadLetter = to_dead_letter(
        value, key, problem, context.topic, context.partition, context.offset
    )
    headers = list(dead_letter_headers(dead).items())
    return Outcome(False, dead.key(), dead.dumps(), headers)


def build(arguments: argparse.Namespace) -> Application:
    app = Application(
        broker_address=arguments.servers,
        consumer_group=arguments.group,
        auto_offset_reset="earliest",
        processing_guarantee=arguments.guarantee,
        loglevel="WARNING",
        auto_create_topics=False,
    )
    source = app.topic(arguments.readings, key_deserializer="bytes", value_deserializer="bytes")
    enriched = app.topic(
        arguments.enriched, key_serializer="bytes", value_serializer=PayloadSerializer()
    )
    dead_letter = app.topic(
        arguments.dead_letter, key_serializer="bytes", value_serializer=PayloadSerializer()
    )
    outcomes = app.dataframe(source).apply(route, metadata=True)
    outcomes = outcomes.set_headers(lambda outcome, _key, _ts, _headers: outcome.headers)
    outcomes.to_topic(
        lambda outcome, _key, _ts, _headers: enriched if outcome.enriched else dead_letter,
        key=lambda outcome: outcome.key,
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--servers", "--group", "--readings", "--enriched", "--dead-letter"):
        parser.add_argument(name, required=True)
    parser.add_argument("--guarantee", choices=("at-least-once", "exactly-once"), required=True)
    build(parser.parse_args()).run()


if __name__ == "__main__":
    main()
