"""Mutants of phase 2: plausible wrong solutions the phase 2 tests must catch."""

from __future__ import annotations

import json
import math
import time
from typing import Any, cast

from app.models import MalformedReading, SensorReading
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
            "test_enrichment.py::test_order_per_sensor_is_preserved",
        ),
    ),
    Mutant(
        name="enrichment-drops-dead-letters",
        task="2.4",
        description="malformed events are skipped instead of sent to the dead-letter topic",
        apply=_dead_letters_dropped,
        caught_by=(
            "test_enrichment.py::test_each_malformed_kind_lands_in_the_dead_letter_topic",
            "test_enrichment.py::test_any_bytes_give_exactly_one_message_on_one_topic",
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
]
