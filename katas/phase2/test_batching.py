"""Task 2.5: the batched agent keeps every promise of task 2.4, one round trip per batch.

Every test of task 2.4 runs again here on ``enrich_readings_in_batches`` (imported below, with the
agent under test replaced by a fixture). Then the batch's own rules: the round trips of a batch
overlap, one refused send costs one dead letter, a refused dead letter halts the worker before any
event of the batch is acknowledged, every event of every batch (the last, partial one too) gets
exactly one outcome, and each outcome is sent as its own event's output. No broker needed:
kata_engine.testing puts several events at once (``run.put_many``) and plays a broker that
answers late or refuses single records.
"""

from __future__ import annotations

import random
from types import ModuleType
from typing import Any

import faust
import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError
from faust.types import AgentT
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from app.catalogue import SensorFleet, to_bytes, valid_reading
from app.config import ErrorCode
from app.faust_app import topics
from app.models import DeadLetter, EnrichedReading
from kata_engine.testing import AgentRun, Refuse, SentMessage, WorkerHalted, run_agent
from katas.phase2 import batching

# Task 2.4's tests, collected again in this module: here they run on the batched agent.
from katas.phase2.test_enrichment import (  # noqa: F401
    test_a_bug_on_one_event_becomes_a_processing_failed_dead_letter,
    test_a_dead_letter_goes_to_its_events_own_partition,
    test_a_huge_value_is_dead_lettered_truncated_with_size_and_sha256,
    test_a_valid_reading_becomes_one_enriched_reading,
    test_an_enriched_reading_the_broker_refuses_becomes_a_send_failed_dead_letter,
    test_an_event_with_no_possible_outcome_halts_the_worker_unacknowledged,
    test_any_bytes_of_any_size_give_exactly_one_message_that_fits,
    test_each_malformed_kind_lands_in_the_dead_letter_topic,
    test_one_sensors_readings_go_to_one_partition,
    test_the_agent_keeps_going_after_a_bad_event,
)

FLEET = SensorFleet.create(5, random.Random(3))
ROUND_TRIP_S = 0.05  # how late the played broker answers, where a test needs it to be late


@pytest.fixture
def enrichment_agent() -> AgentT[Any]:
    """Task 2.4's tests, imported above, run on this task's agent."""
    return batching.enrich_readings_in_batches


@pytest.fixture
def enrichment_module() -> ModuleType:
    return batching


def reading(sequence: int) -> bytes:
    """A valid reading whose reading_id is ``r-<sequence>``."""
    document = valid_reading(random.Random(sequence), FLEET, sequence, 1.7e9 + sequence)
    return to_bytes({**document, "reading_id": f"r-{sequence}"})


def refusing(reading_ids: set[str], dead_letters: bool = False) -> Refuse:
    """A broker that refuses the enriched readings of ``reading_ids`` (and every dead letter)."""
    enriched, dead_letter = topics.enriched.get_topic_name(), topics.dead_letter.get_topic_name()

    def refuse(message: SentMessage) -> BaseException | None:
        refusal: BaseException | None = None
        if message.topic == enriched and message.value.reading_id in reading_ids:
            refusal = MessageSizeTooLargeError(f"refused {message.value.reading_id}")
        if message.topic == dead_letter and dead_letters:
            refusal = KafkaTimeoutError("the dead-letter topic is unavailable")
        return refusal

    return refuse


def outcome_of(message: SentMessage) -> tuple[str, int | str]:
    """("enriched", reading_id) or ("dead", source_offset): what the message stands for."""
    if isinstance(message.value, DeadLetter):
        return ("dead", message.value.source_offset)
    return ("enriched", message.value.reading_id)


async def test_the_round_trips_of_a_batch_overlap(faust_app: faust.App) -> None:
    # The point of the task: queue every outcome of the batch, then await the answers together.
    raws = [(reading(n), b"k") for n in range(8)]
    async with run_agent(batching.enrich_readings_in_batches, answer_after=ROUND_TRIP_S) as run:
        await run.put_many(raws)
    answered = [message.answered_before for message in run.sent]
    assert len(run.sent) == 8 and answered == [0] * 8, (
        f"8 readings put together were sent as {len(run.sent)} message(s); when each was "
        f"queued, the broker had answered {answered} earlier deliveries; expected 8 messages, "
        "all queued before any answer came back: one round trip for the batch, not one per event"
    )


async def test_one_refused_send_dead_letters_exactly_that_event(faust_app: faust.App) -> None:
    raws = [(reading(n), b"k") for n in range(6)]
    async with run_agent(batching.enrich_readings_in_batches, refuse=refusing({"r-3"})) as run:
        events = await run.put_many(raws)
    got = sorted(map(outcome_of, run.sent), key=str)
    refused_offset = events[3].message.offset
    expected = sorted(
        [("enriched", f"r-{n}") for n in (0, 1, 2, 4, 5)] + [("dead", refused_offset)], key=str
    )
    assert got == expected, (
        f"in a batch of 6 readings where the broker refused only r-3's enriched reading, the "
        f"agent wrote {got}; expected the 5 others enriched and one dead letter for r-3 "
        f"(source offset {refused_offset}): a refusal costs that event, not the batch"
    )
    [dead] = run.sent_to(topics.dead_letter)
    assert dead.value.error_code == ErrorCode.SEND_FAILED.value, (
        f"r-3's dead letter says {dead.value.error_code!r}; expected 'send_failed'"
    )
    kinds = [type(result).__name__ for result in run.results]
    expected_kinds = ["EnrichedReading"] * 3 + ["DeadLetter"] + ["EnrichedReading"] * 2
    assert kinds == expected_kinds, (
        f"the agent yielded {kinds}; expected one outcome per event, in the batch's order"
    )


async def test_a_refused_dead_letter_halts_before_anything_of_the_batch_is_acknowledged(
    faust_app: faust.App,
) -> None:
    raws = [(reading(n), b"k") for n in range(5)]
    refuse = refusing({"r-2"}, dead_letters=True)
    async with run_agent(
        batching.enrich_readings_in_batches, refuse=refuse, answer_after=ROUND_TRIP_S
    ) as run:
        try:
            await run.put_many(raws)
        except WorkerHalted:
            pass
        except NotImplementedError:
            raise  # still a stub: let the failure say which task to do
    assert run.acked_at_halt is not None, (
        "the broker refused r-2's enriched reading and then its dead letter, and the agent "
        f"did not call app.halt.halt_worker (it yielded {len(run.results)} outcomes); expected "
        "a halt: an event without any outcome must stop the worker unacknowledged"
    )
    assert not any(run.acked_at_halt), (
        f"when the agent halted, the batch's events were acknowledged {run.acked_at_halt}; "
        "expected none: a worker stops right there, and an acknowledged event is never retried "
        "(hand the batch back only after every delivery is answered)"
    )


async def test_each_outcome_is_sent_as_its_own_events_output(
    faust_app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One batch from three partitions: r-4 is malformed, r-1's enriched reading is refused.
    monkeypatch.setattr(batching, "BATCH_SIZE", 6)
    raws = [(b"not json" if n == 4 else reading(n), b"k") for n in range(6)]
    async with run_agent(batching.enrich_readings_in_batches, refuse=refusing({"r-1"})) as run:
        events = await run.put_many(raws, partitions=[0, 1, 2, 0, 1, 2])
    source_of: dict[tuple[str, int | str], Any] = {
        ("dead", event.message.offset) if n in (1, 4) else ("enriched", f"r-{n}"): event
        for n, event in enumerate(events)
    }
    for message in run.sent:
        outcome = outcome_of(message)
        event = source_of[outcome]
        assert message.source == event.message.tp, (
            f"the {outcome[0]} outcome {outcome[1]!r} of the event from partition "
            f"{event.message.partition} was sent as an output of {message.source or 'no event'}; "
            "expected "
            f"{event.message.tp}. Faust's current event is the batch's last one, and under "
            "exactly_once an outcome commits with the offset of the event it is sent for: "
            "send each one inside `with outputs_of(event):`"
        )
    assert len(run.sent) == 6, f"6 events gave {len(run.sent)} outcomes; expected 6"


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch_size=st.integers(1, 6),
    count=st.integers(1, 14),
    malformed=st.sets(st.integers(0, 13), max_size=4),
    refused=st.sets(st.integers(0, 13), max_size=4),
    dead_letters_refused=st.booleans(),
)
async def test_any_batch_size_and_failure_positions_give_one_outcome_per_event(
    faust_app: faust.App,
    monkeypatch: pytest.MonkeyPatch,
    batch_size: int,
    count: int,
    malformed: set[int],
    refused: set[int],
    dead_letters_refused: bool,
) -> None:
    monkeypatch.setattr(batching, "BATCH_SIZE", batch_size)
    monkeypatch.setattr(batching, "BATCH_WITHIN_S", 0.01)
    malformed = {n for n in malformed if n < count}
    refused = {n for n in refused if n < count} - malformed
    raws = [(b"not json" if n in malformed else reading(n), b"k") for n in range(count)]
    refuse = refusing({f"r-{n}" for n in refused}, dead_letters=dead_letters_refused)
    case = (
        f"{count} events, batches of {batch_size}, malformed at {sorted(malformed)}, enriched "
        f"reading refused at {sorted(refused)}, dead letters refused: {dead_letters_refused}"
    )
    halted = False
    async with run_agent(batching.enrich_readings_in_batches, refuse=refuse) as run:
        try:
            events = await run.put_many(raws)
        except WorkerHalted:
            halted = True
    failing = sorted(malformed | refused)
    if dead_letters_refused and failing:
        check_halt(run, halted, failing[0], case)
        return
    assert not halted, f"{case}: the agent halted; expected it to write every outcome"
    offsets = [event.message.offset for event in events]
    expected = sorted(
        [("dead", offsets[n]) for n in failing]
        + [("enriched", f"r-{n}") for n in range(count) if n not in failing],
        key=str,
    )
    got = sorted(map(outcome_of, run.sent), key=str)
    assert got == expected, f"{case}: the agent wrote {got}; expected {expected}"
    kinds = [isinstance(result, DeadLetter) for result in run.results]
    expected_kinds = [n in failing for n in range(count)]
    assert kinds == expected_kinds, (
        f"{case}: the agent yielded dead letters at {kinds}; expected {expected_kinds}: one "
        "outcome per event, in order"
    )
    assert all(isinstance(r, EnrichedReading | DeadLetter) for r in run.results)


def check_halt(run: AgentRun, halted: bool, first_failing: int, case: str) -> None:
    """The agent halted, and the first event without an outcome was never acknowledged."""
    assert halted and run.acked_at_halt is not None, (
        f"{case}: the agent did not halt; expected app.halt.halt_worker once a dead letter "
        "was refused"
    )
    late = [n for n, acked in enumerate(run.acked_at_halt) if acked and n >= first_failing]
    assert not late, (
        f"{case}: when the agent halted, events {late} were acknowledged; expected none from "
        f"event {first_failing} on (it has no outcome, and its batch is not handed back)"
    )
