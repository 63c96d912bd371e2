"""Mutants of phase 2: plausible wrong solutions the phase 2 tests must catch."""

from __future__ import annotations

import json
import math
import time
from typing import Any, cast

from app.config import ErrorCode
from app.models import DeadLetter, MalformedReading, SensorReading
from solutions.phase2.validation import parse_reading
from tests.mutants import Mutant, replace


def _warning_above_threshold() -> None:
    from app.config import Status
    from solutions.phase2 import classify as module

    def classify(temperature: float, warning: float = 30.0, critical: float = 40.0) -> Status:
        if temperature > critical:
            return Status.CRITICAL
        if temperature > warning:  # the mistake: > instead of >=
            return Status.WARNING
        return Status.NORMAL

    replace(module, "classify", classify)


def _hard_coded_thresholds() -> None:
    from app.config import Status
    from solutions.phase2 import classify as module

    def classify(temperature: float, warning: float = 30.0, critical: float = 40.0) -> Status:
        # The mistake: ignores the thresholds it was given.
        if temperature >= 40.0:
            return Status.CRITICAL
        return Status.WARNING if temperature >= 30.0 else Status.NORMAL

    replace(module, "classify", classify)


def _nan_accepted() -> None:
    from solutions.phase2 import validation as module

    def parse_reading(raw: bytes | None) -> Any:
        try:
            return original(raw)
        except MalformedReading as error:
            if error.code != "not_finite":
                raise
        # The mistake: no finiteness check, so NaN/Infinity pass through.
        document = json.loads(raw.decode("utf-8") if raw else "{}")
        return SensorReading(**document)

    original = module.parse_reading
    replace(module, "parse_reading", parse_reading)


def _type_checked_before_missing() -> None:
    from app.config import ErrorCode
    from solutions.phase2 import validation as module

    def parse_reading(raw: bytes | None) -> Any:
        document = module._decode_json(raw)
        if isinstance(document, dict):
            # The mistake: one pass over the fields, checking presence and type together.
            for name in module.REQUIRED_FIELDS:
                if name not in document:
                    raise MalformedReading(ErrorCode.MISSING_FIELD, f"missing {name}")
                if name in module.TEXT_FIELDS:
                    module._require_text(name, document[name])
                else:
                    number = module._require_number(name, document[name])
                    if not math.isfinite(number):
                        raise MalformedReading(ErrorCode.NOT_FINITE, f"{name} not finite")
        return original(raw)

    original = module.parse_reading
    replace(module, "parse_reading", parse_reading)


def _bool_is_a_number() -> None:
    from solutions.phase2 import validation as module

    def require_number(name: str, value: object) -> float:
        if isinstance(value, int | float):  # the mistake: True is an int in Python
            return float(value)
        return original(name, value)

    original = module._require_number
    replace(module, "_require_number", require_number)


def _payload_not_kept() -> None:
    from solutions.phase2 import dead_letter as module

    def to_dead_letter(raw: bytes | None, key: bytes | None, *args: Any, **kwargs: Any) -> Any:
        # The mistake: the text of the payload instead of its exact bytes.
        text = None if raw is None else raw.decode("utf-8", errors="replace").encode()
        return original(text, key, *args, **kwargs)

    original = module.to_dead_letter
    replace(module, "to_dead_letter", to_dead_letter)


def _failed_at_never_set() -> None:
    from solutions.phase2 import dead_letter as module

    def to_dead_letter(*args: Any, **kwargs: Any) -> Any:
        kwargs["failed_at"] = kwargs.get("failed_at") or 0.0  # the mistake: no "now"
        return original(*args, **kwargs)

    original = module.to_dead_letter
    replace(module, "to_dead_letter", to_dead_letter)


def _no_dead_letter_headers() -> None:
    from solutions.phase2 import dead_letter as module

    replace(module, "dead_letter_headers", lambda dead_letter: {})


def _enriched_keyed_by_reading_id() -> None:
    from app.faust_app import topics
    from solutions.phase2 import enrichment as module

    async def route(event: Any) -> Any:
        try:
            reading = parse_reading(event.value)
        except MalformedReading:
            return await original(event)
        enriched = module.enrich(reading)
        await topics.enriched.send(key=enriched.reading_id, value=enriched)  # the mistake
        return enriched

    original = module.route
    replace(module, "route", route)


def _dead_letters_dropped() -> None:
    from app.faust_app import topics
    from solutions.phase2 import enrichment as module

    async def route(event: Any) -> Any:
        try:
            reading = parse_reading(event.value)
        except MalformedReading as error:
            return error.code  # the mistake: logged and skipped, never sent anywhere
        enriched = module.enrich(reading)
        await topics.enriched.send(key=enriched.sensor_id, value=enriched)
        return enriched

    replace(module, "route", route)


def _dead_letter_keyed_by_nothing() -> None:
    from solutions.phase2 import enrichment as module

    class WithoutKey:
        """An event whose key was forgotten on the way to the dead letter."""

        def __init__(self, event: Any) -> None:
            self.value, self.key, self.message = event.value, None, event.message

    async def route(event: Any) -> Any:
        return await original(cast(Any, WithoutKey(event)))

    original = module.route
    replace(module, "route", route)


def _never_classifies() -> None:
    from solutions.phase2 import enrichment as module

    def enrich(reading: Any) -> Any:
        enriched = original(reading)
        enriched.status = "normal"  # the mistake: forgot to classify
        enriched.processed_at = time.time()
        return enriched

    original = module.enrich
    replace(module, "enrich", enrich)


# Robustness guards of task 2.1: removing any one of them must be caught.


def _deep_nesting_not_caught() -> None:
    from app.config import ErrorCode
    from solutions.phase2 import validation as module

    def decode_json(raw: bytes | None) -> object:
        if not raw:
            raise MalformedReading(ErrorCode.EMPTY_PAYLOAD, "the event has no value")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedReading(ErrorCode.INVALID_UTF8, "not UTF-8") from None
        try:
            return json.loads(text)
        except ValueError as error:  # the mistake: RecursionError is not a ValueError
            raise MalformedReading(ErrorCode.NOT_JSON, f"not JSON: {error}") from None

    replace(module, "_decode_json", decode_json)


def _float_overflow_not_caught() -> None:
    from solutions.phase2 import validation as module

    def require_number(name: str, value: object) -> float:
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)  # the mistake: float(10**400) raises OverflowError
        return original(name, value)

    original = module._require_number
    replace(module, "_require_number", require_number)


def _lone_surrogates_accepted() -> None:
    from solutions.phase2 import validation as module

    replace(module, "_require_unicode", lambda name, value: None)


def _no_id_limit() -> None:
    import dataclasses

    from app.config import settings
    from solutions.phase2 import validation as module

    replace(module, "settings", dataclasses.replace(settings, max_id_bytes=10**9))


def _ids(raw: bytes | None) -> tuple[str, str]:
    document = json.loads((raw or b"{}").decode("utf-8"))
    return str(document["reading_id"]), str(document["sensor_id"])


def _id_limit_in_characters() -> None:
    from app.config import ErrorCode, settings
    from solutions.phase2 import validation as module

    def parse_reading(raw: bytes | None) -> Any:
        try:
            return original(raw)
        except MalformedReading as error:
            # The mistake: len(text) counts characters, the Kafka key is bytes.
            if error.code != ErrorCode.ID_TOO_LONG or any(
                len(name) > settings.max_id_bytes for name in _ids(raw)
            ):
                raise
        document = json.loads((raw or b"").decode("utf-8"))
        return SensorReading(**{name: document[name] for name in module.REQUIRED_FIELDS})

    original = module.parse_reading
    replace(module, "parse_reading", parse_reading)


def _id_limit_off_by_one() -> None:
    from app.config import ErrorCode, settings
    from solutions.phase2 import validation as module

    def parse_reading(raw: bytes | None) -> Any:
        reading = original(raw)
        for name in (reading.reading_id, reading.sensor_id):
            if len(name.encode()) >= settings.max_id_bytes:  # the mistake: >= instead of >
                raise MalformedReading(ErrorCode.ID_TOO_LONG, "too long")
        return reading

    original = module.parse_reading
    replace(module, "parse_reading", parse_reading)


def _blank_means_spaces_only() -> None:
    from app.config import ErrorCode
    from solutions.phase2 import validation as module

    def parse_reading(raw: bytes | None) -> Any:
        try:
            return original(raw)
        except MalformedReading as error:
            # The mistake: strip(" ") leaves tabs, newlines and other whitespace.
            if error.code != ErrorCode.EMPTY_SENSOR_ID or not _ids(raw)[1].strip(" "):
                raise
        document = json.loads((raw or b"").decode("utf-8"))
        return SensorReading(**{name: document[name] for name in module.REQUIRED_FIELDS})

    original = module.parse_reading
    replace(module, "parse_reading", parse_reading)


def _clock_without_future_bound() -> None:
    from app.config import ErrorCode, settings
    from solutions.phase2 import validation as module

    def require_plausible_time(timestamp: float, now: float) -> None:
        # The mistake: only the floor; a clock decades ahead is taken for event time.
        if timestamp < settings.min_event_time:
            raise MalformedReading(ErrorCode.TIMESTAMP_TOO_OLD, f"{timestamp} is too old")

    replace(module, "_require_plausible_time", require_plausible_time)


def _clock_bound_in_milliseconds() -> None:
    from solutions.phase2 import validation as module

    def require_plausible_time(timestamp: float, now: float) -> None:
        # The mistake: the bound in milliseconds (now * 1000), so a timestamp in ms passes.
        original(timestamp, now * 1000)

    original = module._require_plausible_time
    replace(module, "_require_plausible_time", require_plausible_time)


def _clock_skew_in_milliseconds() -> None:
    import dataclasses

    from app.config import settings
    from solutions.phase2 import validation as module

    # The mistake: KATA_MAX_CLOCK_SKEW read as milliseconds: 300 becomes 0.3 s.
    replace(module, "settings", dataclasses.replace(settings, max_clock_skew=0.3))


def _clock_without_floor() -> None:
    from app.config import settings
    from solutions.phase2 import validation as module

    def require_plausible_time(timestamp: float, now: float) -> None:
        original(max(timestamp, settings.min_event_time), now)  # the mistake: no floor

    original = module._require_plausible_time
    replace(module, "_require_plausible_time", require_plausible_time)


# Task 2.3: a dead letter always fits and always identifies its original.


def _dead_letter_never_truncates() -> None:
    import dataclasses

    from app.config import settings
    from solutions.phase2 import dead_letter as module

    big = dataclasses.replace(
        settings, dead_letter_payload_bytes=10**9, dead_letter_key_bytes=10**9
    )
    replace(module, "settings", big)


def _fingerprint_only_when_truncated() -> None:
    from solutions.phase2 import dead_letter as module

    def to_dead_letter(*args: Any, **kwargs: Any) -> Any:
        dead = original(*args, **kwargs)
        if not dead.payload_truncated:  # the mistake: size and SHA-256 only for cut payloads
            dead.payload_size, dead.payload_sha256 = None, None
        return dead

    original = module.to_dead_letter
    replace(module, "to_dead_letter", to_dead_letter)


def _reason_not_cut() -> None:
    from solutions.phase2 import dead_letter as module

    def to_dead_letter(raw: Any, key: Any, error: Any, *args: Any, **kwargs: Any) -> Any:
        dead = original(raw, key, error, *args, **kwargs)
        dead.reason = error.reason  # the mistake: a reason of any length
        return dead

    original = module.to_dead_letter
    replace(module, "to_dead_letter", to_dead_letter)


def _headers_strict_utf8() -> None:
    from solutions.phase2 import dead_letter as module

    def dead_letter_headers(dead_letter: Any) -> dict[str, bytes]:
        return {
            "error_code": dead_letter.error_code.encode(),
            "error_reason": dead_letter.reason.encode(),  # the mistake: fails on "\ud800"
        }

    replace(module, "dead_letter_headers", dead_letter_headers)


def _headers_without_reason() -> None:
    from solutions.phase2 import dead_letter as module

    def dead_letter_headers(dead_letter: Any) -> dict[str, bytes]:
        return {"error_code": dead_letter.error_code.encode()}  # the mistake: no error_reason

    replace(module, "dead_letter_headers", dead_letter_headers)


# Task 2.4: nothing vanishes.


def _delivery_not_awaited() -> None:
    from solutions.phase2 import enrichment as module

    async def delivered(sending: Any) -> Any:
        return await sending  # the mistake: queued is taken for written

    replace(module, "delivered", delivered)


def _exceptions_escape_the_agent() -> None:
    from app.faust_app import topics
    from solutions.phase2 import enrichment as module

    async def route(event: Any) -> Any:
        try:
            reading = parse_reading(event.value)
        except MalformedReading as error:
            return await module.send_dead_letter(event, error)
        enriched = module.enrich(reading)  # the mistake: an exception here loses the event
        await module.delivered(topics.enriched.send(key=enriched.sensor_id, value=enriched))
        return enriched

    replace(module, "route", route)


def _raise_instead_of_halt() -> None:
    from solutions.phase2 import enrichment as module

    def halt_worker(reason: str) -> Any:
        raise RuntimeError(reason)  # the mistake: Faust acks the event anyway

    replace(module, "halt_worker", halt_worker)


def _dead_letter_with_the_whole_key() -> None:
    from app.faust_app import topics
    from solutions.phase2 import enrichment as module
    from solutions.phase2.dead_letter import dead_letter_headers, to_dead_letter

    async def send_dead_letter(event: Any, error: MalformedReading) -> Any:
        message = event.message
        dead = to_dead_letter(
            event.value, event.key, error, message.topic, message.partition, message.offset
        )
        headers = dead_letter_headers(dead)
        # The mistake: the whole original key, however long, as the Kafka key.
        await module.delivered(
            topics.dead_letter.send(
                key=event.key, value=dead, headers=headers, partition=message.partition
            )
        )
        return dead

    replace(module, "send_dead_letter", send_dead_letter)


def _dead_letter_partitioned_by_key() -> None:
    from app.faust_app import topics
    from solutions.phase2 import enrichment as module
    from solutions.phase2.dead_letter import dead_letter_headers, to_dead_letter

    async def send_dead_letter(event: Any, error: MalformedReading) -> Any:
        message = event.message
        dead = to_dead_letter(
            event.value, event.key, error, message.topic, message.partition, message.offset
        )
        # The mistake: no partition of its own, so the producer picks one from the key.
        await module.delivered(
            topics.dead_letter.send(key=dead.key(), value=dead, headers=dead_letter_headers(dead))
        )
        return dead

    replace(module, "send_dead_letter", send_dead_letter)


def _processed_at_copies_timestamp() -> None:
    from solutions.phase2 import enrichment as module

    def enrich(reading: Any) -> Any:
        enriched = original(reading)
        enriched.processed_at = reading.timestamp  # the mistake: event time, not processing time
        return enriched

    original = module.enrich
    replace(module, "enrich", enrich)


def _partition_per_reading() -> None:
    import zlib

    from app.faust_app import topics
    from solutions.phase2 import enrichment as module

    async def route(event: Any) -> Any:
        try:
            reading = parse_reading(event.value)
        except MalformedReading:
            return await original(event)
        enriched = module.enrich(reading)
        # The mistake: spreads one sensor's readings over partitions (load balancing!).
        partition = zlib.crc32(enriched.reading_id.encode()) % 4
        sending = topics.enriched.send(key=enriched.sensor_id, value=enriched, partition=partition)
        await module.delivered(sending)
        return enriched

    original = module.route
    replace(module, "route", route)


# Task 2.5: batches, with nothing vanishing.


def _batch_acked_before_deliveries() -> None:
    import asyncio

    from solutions.phase2 import batching as module

    async def enrich_batch(events: Any) -> Any:
        pending = [await module.send_outcome(event) for event in events]
        # The mistake: the deliveries settle in the background, so the batch is handed back
        # (and acknowledged) before anyone knows whether its outcomes were written.
        settling.add(asyncio.ensure_future(settle(pending)))
        return [p.outcome for p in pending]

    async def settle(pending: Any) -> None:
        for index, error in (await module.refused(pending)).items():
            if isinstance(pending[index].outcome, DeadLetter):
                module.halt_for(pending[index].event, error)
            failed = module.failure(ErrorCode.SEND_FAILED, error)
            retry = await module.queue_dead_letter(pending[index].event, failed)
            for problem in (await module.refused([retry])).values():
                module.halt_for(retry.event, problem)

    settling: set[Any] = set()  # keeps the background tasks referenced
    replace(module, "enrich_batch", enrich_batch)


def _whole_batch_dead_lettered() -> None:
    from solutions.phase2 import batching as module

    async def enrich_batch(events: Any) -> Any:
        pending = [await module.send_outcome(event) for event in events]
        refusals = await module.refused(pending)
        if not refusals:
            return [p.outcome for p in pending]
        # The mistake: one refusal dead-letters every event of the batch.
        error = module.failure(ErrorCode.SEND_FAILED, next(iter(refusals.values())))
        retries = [await module.queue_dead_letter(p.event, error) for p in pending]
        for index, problem in (await module.refused(retries)).items():
            module.halt_for(retries[index].event, problem)
        return [retry.outcome for retry in retries]

    replace(module, "enrich_batch", enrich_batch)


def _tail_of_a_partial_batch_lost() -> None:
    from app.faust_app import app, topics
    from solutions.phase2 import batching as module

    @app.agent(topics.readings)
    async def enrich_readings_in_batches(stream: Any) -> Any:
        buffer: list[Any] = []
        async for event in stream.events():
            buffer.append(event)
            if len(buffer) < module.BATCH_SIZE:
                continue  # the mistake: the last, partial batch waits for company forever
            for outcome in await module.enrich_batch(buffer):
                yield outcome
            buffer = []

    replace(module, "enrich_readings_in_batches", enrich_readings_in_batches)


def _batch_outcomes_under_the_last_event() -> None:
    from contextlib import nullcontext

    from solutions.phase2 import batching as module

    # The mistake: the sends go out as outputs of Faust's current event, the batch's last.
    replace(module, "outputs_of", lambda event: nullcontext())


MUTANTS = [
    Mutant(
        name="classify-warning-off-by-one",
        task="2.2",
        description="warning and critical start above the threshold instead of at it",
        apply=_warning_above_threshold,
        caught_by=("test_classify.py::test_exact_at_thresholds",),
    ),
    Mutant(
        name="classify-ignores-given-thresholds",
        task="2.2",
        description="hard-coded 30/40 instead of the thresholds passed in",
        apply=_hard_coded_thresholds,
        caught_by=("test_classify.py::test_exact_with_random_thresholds",),
    ),
    Mutant(
        name="validation-accepts-nan",
        task="2.1",
        description="NaN and Infinity temperatures pass validation",
        apply=_nan_accepted,
        caught_by=("test_validation.py::test_each_malformed_kind_gets_its_error_code",),
    ),
    Mutant(
        name="validation-field-by-field-precedence",
        task="2.1",
        description="checks presence and type field by field: a wrong type beats a missing field",
        apply=_type_checked_before_missing,
        caught_by=("test_validation.py::test_the_first_problem_in_error_code_order_wins",),
    ),
    Mutant(
        name="validation-bool-is-a-number",
        task="2.1",
        description="true/false accepted as a temperature (bool is an int in Python)",
        apply=_bool_is_a_number,
        caught_by=("test_validation.py::test_each_malformed_kind_gets_its_error_code",),
    ),
    Mutant(
        name="dead-letter-payload-not-exact",
        task="2.3",
        description="the dead letter keeps decoded text instead of the original bytes",
        apply=_payload_not_kept,
        caught_by=("test_dead_letter.py::test_the_original_bytes_survive_exactly",),
    ),
    Mutant(
        name="dead-letter-failed-at-zero",
        task="2.3",
        description="failed_at is never set to the current time",
        apply=_failed_at_never_set,
        caught_by=("test_dead_letter.py::test_failed_at_defaults_to_now",),
    ),
    Mutant(
        name="dead-letter-without-headers",
        task="2.3",
        description="dead letters carry no error_code / error_reason headers",
        apply=_no_dead_letter_headers,
        caught_by=(
            "test_dead_letter.py::test_headers_carry_the_error_code_and_reason",
            "test_enrichment.py::test_each_malformed_kind_lands_in_the_dead_letter_topic",
        ),
    ),
    Mutant(
        name="enrichment-key-is-reading-id",
        task="2.4",
        description="enriched readings keyed by reading_id, so a sensor's readings scatter",
        apply=_enriched_keyed_by_reading_id,
        caught_by=(
            "test_enrichment.py::test_a_valid_reading_becomes_one_enriched_reading",
            "test_enrichment.py::test_one_sensors_readings_go_to_one_partition",
        ),
    ),
    Mutant(
        name="enrichment-drops-dead-letters",
        task="2.4",
        description="malformed events are skipped instead of sent to the dead-letter topic",
        apply=_dead_letters_dropped,
        caught_by=(
            "test_enrichment.py::test_each_malformed_kind_lands_in_the_dead_letter_topic",
            "test_enrichment.py::test_any_bytes_of_any_size_give_exactly_one_message_that_fits",
        ),
    ),
    Mutant(
        name="enrichment-dead-letter-loses-key",
        task="2.4",
        description="the dead letter is sent without the original key",
        apply=_dead_letter_keyed_by_nothing,
        caught_by=("test_enrichment.py::test_each_malformed_kind_lands_in_the_dead_letter_topic",),
    ),
    Mutant(
        name="enrichment-never-classifies",
        task="2.4",
        description="every enriched reading says normal",
        apply=_never_classifies,
        caught_by=("test_enrichment.py::test_a_valid_reading_becomes_one_enriched_reading",),
    ),
    Mutant(
        name="validation-deep-nesting-crashes",
        task="2.1",
        description="json.loads' RecursionError (deep nesting) is not caught",
        apply=_deep_nesting_not_caught,
        caught_by=("test_validation.py::test_each_malformed_kind_gets_its_error_code",),
    ),
    Mutant(
        name="validation-float-overflow-crashes",
        task="2.1",
        description="float(10**400) raises OverflowError out of parse_reading",
        apply=_float_overflow_not_caught,
        caught_by=(
            "test_validation.py::test_each_malformed_kind_gets_its_error_code",
            "test_validation.py::test_any_json_object_gives_a_reading_or_malformed_reading",
        ),
    ),
    Mutant(
        name="validation-accepts-lone-surrogates",
        task="2.1",
        description="ids with a lone surrogate pass, so the enriched key cannot be written",
        apply=_lone_surrogates_accepted,
        caught_by=("test_validation.py::test_each_malformed_kind_gets_its_error_code",),
    ),
    Mutant(
        name="validation-no-id-limit",
        task="2.1",
        description="ids of any length pass, so an enriched reading may not fit a record",
        apply=_no_id_limit,
        caught_by=("test_validation.py::test_each_malformed_kind_gets_its_error_code",),
    ),
    Mutant(
        name="validation-id-limit-in-characters",
        task="2.1",
        description="the id limit counts characters, not UTF-8 bytes",
        apply=_id_limit_in_characters,
        caught_by=("test_validation.py::test_each_malformed_kind_gets_its_error_code",),
    ),
    Mutant(
        name="validation-clock-no-future-bound",
        task="2.1",
        description="a timestamp decades ahead (the year 2100, milliseconds) is accepted",
        apply=_clock_without_future_bound,
        caught_by=(
            "test_validation.py::test_a_timestamp_the_sensor_could_not_have_produced_is_rejected",
            "test_validation.py::test_each_malformed_kind_gets_its_error_code",
        ),
    ),
    Mutant(
        name="validation-clock-bound-in-milliseconds",
        task="2.1",
        description="the future bound is now * 1000: a timestamp in milliseconds passes",
        apply=_clock_bound_in_milliseconds,
        caught_by=(
            "test_validation.py::test_a_timestamp_the_sensor_could_not_have_produced_is_rejected",
            "test_validation.py::test_a_timestamp_is_valid_exactly_between_the_bounds",
        ),
    ),
    Mutant(
        name="validation-clock-skew-in-milliseconds",
        task="2.1",
        description="max_clock_skew read as milliseconds: a reading 1 s ahead is refused",
        apply=_clock_skew_in_milliseconds,
        caught_by=(
            "test_validation.py::test_a_timestamp_the_sensor_could_not_have_produced_is_rejected",
        ),
    ),
    Mutant(
        name="validation-clock-no-floor",
        task="2.1",
        description="timestamps of 0, negative or 1970 (a reset clock) are accepted",
        apply=_clock_without_floor,
        caught_by=(
            "test_validation.py::test_a_timestamp_the_sensor_could_not_have_produced_is_rejected",
        ),
    ),
    Mutant(
        name="validation-id-limit-off-by-one",
        task="2.1",
        description="an id of exactly max_id_bytes is refused",
        apply=_id_limit_off_by_one,
        caught_by=("test_validation.py::test_ids_up_to_the_limit_are_valid",),
    ),
    Mutant(
        name="validation-blank-means-spaces-only",
        task="2.1",
        description="a sensor_id of tabs or newlines counts as a real id",
        apply=_blank_means_spaces_only,
        caught_by=("test_validation.py::test_each_malformed_kind_gets_its_error_code",),
    ),
    Mutant(
        name="dead-letter-never-truncates",
        task="2.3",
        description="a huge payload is stored whole, so its dead letter cannot be written",
        apply=_dead_letter_never_truncates,
        caught_by=(
            "test_dead_letter.py::test_too_large_bytes_are_truncated_with_their_size_and_sha256",
            "test_dead_letter.py::test_the_largest_dead_letter_fits_in_one_record",
        ),
    ),
    Mutant(
        name="dead-letter-fingerprint-only-when-truncated",
        task="2.3",
        description="payload size and SHA-256 are left out when the payload is whole",
        apply=_fingerprint_only_when_truncated,
        caught_by=(
            "test_dead_letter.py::test_too_large_bytes_are_truncated_with_their_size_and_sha256",
        ),
    ),
    Mutant(
        name="dead-letter-reason-not-cut",
        task="2.3",
        description="a reason of any length makes the dead letter unbounded",
        apply=_reason_not_cut,
        caught_by=("test_dead_letter.py::test_the_largest_dead_letter_fits_in_one_record",),
    ),
    Mutant(
        name="dead-letter-headers-fail-on-surrogates",
        task="2.3",
        description="error_reason is encoded strictly and raises on a lone surrogate",
        apply=_headers_strict_utf8,
        caught_by=("test_dead_letter.py::test_a_reason_with_a_lone_surrogate_still_makes_headers",),
    ),
    Mutant(
        name="dead-letter-headers-without-reason",
        task="2.3",
        description="the error_reason header is missing",
        apply=_headers_without_reason,
        caught_by=(
            "test_dead_letter.py::test_headers_carry_the_error_code_and_reason",
            "test_enrichment.py::test_each_malformed_kind_lands_in_the_dead_letter_topic",
        ),
    ),
    Mutant(
        name="enrichment-delivery-not-awaited",
        task="2.4",
        description="the future of topic.send is not awaited, so a refused record is lost",
        apply=_delivery_not_awaited,
        caught_by=(
            "test_enrichment.py::"
            "test_an_enriched_reading_the_broker_refuses_becomes_a_send_failed_dead_letter",
        ),
    ),
    Mutant(
        name="enrichment-exception-escapes",
        task="2.4",
        description="an exception while enriching crashes the agent (and Faust acks the event)",
        apply=_exceptions_escape_the_agent,
        caught_by=(
            "test_enrichment.py::test_a_bug_on_one_event_becomes_a_processing_failed_dead_letter",
        ),
    ),
    Mutant(
        name="enrichment-raises-instead-of-halting",
        task="2.4",
        description="an unwritable dead letter raises (Faust acks the event) instead of halting",
        apply=_raise_instead_of_halt,
        caught_by=(
            "test_enrichment.py::"
            "test_an_event_with_no_possible_outcome_halts_the_worker_unacknowledged",
        ),
    ),
    Mutant(
        name="enrichment-dead-letter-keyed-by-whole-key",
        task="2.4",
        description="a dead letter is keyed by the whole original key, however large",
        apply=_dead_letter_with_the_whole_key,
        caught_by=(
            "test_enrichment.py::test_a_huge_value_is_dead_lettered_truncated_with_size_and_sha256",
            "test_enrichment.py::test_any_bytes_of_any_size_give_exactly_one_message_that_fits",
        ),
    ),
    Mutant(
        name="enrichment-dead-letter-partitioned-by-key",
        task="2.4",
        description="a dead letter goes where its key hashes, not to its event's partition",
        apply=_dead_letter_partitioned_by_key,
        caught_by=("test_enrichment.py::test_a_dead_letter_goes_to_its_events_own_partition",),
    ),
    Mutant(
        name="enrichment-processed-at-copies-timestamp",
        task="2.4",
        description="processed_at is the reading's event time instead of now",
        apply=_processed_at_copies_timestamp,
        caught_by=("test_enrichment.py::test_a_valid_reading_becomes_one_enriched_reading",),
    ),
    Mutant(
        name="enrichment-partition-per-reading",
        task="2.4",
        description="one sensor's readings are spread over partitions, so their order is lost",
        apply=_partition_per_reading,
        caught_by=("test_enrichment.py::test_one_sensors_readings_go_to_one_partition",),
    ),
    Mutant(
        name="batch-acknowledged-before-deliveries",
        task="2.5",
        description="the batch's deliveries settle in the background, after it was acknowledged",
        apply=_batch_acked_before_deliveries,
        caught_by=(
            "test_batching.py::"
            "test_a_refused_dead_letter_halts_before_anything_of_the_batch_is_acknowledged",
            "test_batching.py::"
            "test_any_batch_size_and_failure_positions_give_one_outcome_per_event",
        ),
    ),
    Mutant(
        name="batch-dead-lettered-whole-for-one-refusal",
        task="2.5",
        description="one refused send dead-letters every event of its batch",
        apply=_whole_batch_dead_lettered,
        caught_by=(
            "test_batching.py::test_one_refused_send_dead_letters_exactly_that_event",
            "test_batching.py::"
            "test_any_batch_size_and_failure_positions_give_one_outcome_per_event",
        ),
    ),
    Mutant(
        name="batch-outcomes-under-the-last-event",
        task="2.5",
        description="a batch's outcomes are sent as outputs of its last event, not each its own",
        apply=_batch_outcomes_under_the_last_event,
        caught_by=("test_batching.py::test_each_outcome_is_sent_as_its_own_events_output",),
    ),
    Mutant(
        name="batch-partial-tail-lost",
        task="2.5",
        description="a hand-made batch loop never handles a last batch smaller than BATCH_SIZE",
        apply=_tail_of_a_partial_batch_lost,
        caught_by=(
            "test_batching.py::"
            "test_any_batch_size_and_failure_positions_give_one_outcome_per_event",
        ),
    ),
]
