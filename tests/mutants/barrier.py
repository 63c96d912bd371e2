"""Barrier mutants: the transport with one race's fix taken away (app/transport/races.py).

Like the kata mutants, but of the provided transport: each takes one fix away by replacing the
method of that race's class, and tests/test_integrity.py proves that the tests named in
``caught_by`` (tests/test_commit_barrier.py; the revocation's, app/transport/rebalance.py:
tests/test_transactions.py) fail. Applied with
``pytest -p tests.mutants.plugin --mutant NAME``, before collection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from faust.types import TP

BARRIER_TESTS = "tests/test_commit_barrier.py"


@dataclass(frozen=True)
class BarrierMutant:
    """The transport with one race's fix removed, and the tests that must catch it."""

    name: str
    race: str  # "1".."9", "takeover", "final commit", "shutdown", "revocation"
    description: str
    apply: Callable[[], None]
    caught_by: tuple[str, ...]


def _replace(cls: type, attribute: str, replacement: object) -> None:
    if not cls.__module__.startswith("app.transport."):
        raise ValueError(f"barrier mutants patch app.transport only, not {cls.__module__}")
    if not hasattr(cls, attribute):
        raise AttributeError(f"{cls.__name__} has no attribute {attribute!r} to mutate")
    setattr(cls, attribute, replacement)


def _race1() -> None:
    from app.transport.races import Race1DrainBeforeCommit

    async def drain(self: object, *args: object) -> bool:
        return True  # commits at once, whatever the streams still hold

    _replace(Race1DrainBeforeCommit, "drain", drain)


def _race2() -> None:
    from app.transport.races import Race2FlushBeforeCommit

    async def before_commit(self: object, flush: Callable[[], Awaitable[None]]) -> None:
        return None  # table writes stay in the buffer

    _replace(Race2FlushBeforeCommit, "before_commit", before_commit)


def _race3() -> None:
    from app.transport.races import Race3StableSeek

    async def stable(
        self: Race3StableSeek,
        fetch: Callable[[], Awaitable[Mapping[TP, int | None]]],
        ours: Mapping[TP, int | None],
    ) -> Mapping[TP, int | None]:
        fetched = await fetch()  # the first answer, stale or not
        self.seek_base = {tp: offset for tp, offset in fetched.items() if offset}
        return fetched

    _replace(Race3StableSeek, "stable", stable)


def _race4() -> None:
    from app.transport.races import Race4NoRedelivery

    _replace(Race4NoRedelivery, "admit", lambda self, tp, offset: True)


def _race5() -> None:
    from app.transport.races import Race5HoldDuringRebalance

    async def wait(self: object, rebalancing: Callable[[], bool], is_changelog: bool) -> None:
        await asyncio.sleep(0)  # stream records go on during the rebalance

    _replace(Race5HoldDuringRebalance, "wait", wait)


def _race6() -> None:
    from app.transport.races import Race6GapWithoutNextRecord

    _replace(Race6GapWithoutNextRecord, "last_of_gap", lambda self, offset_to: offset_to)


def _race7() -> None:
    from app.transport.races import Race7CommitTimerTransactions

    async def commit_the_rest(self: object, *args: object, **kwargs: object) -> list[str]:
        return []  # transactions without offsets stay open

    _replace(Race7CommitTimerTransactions, "commit_the_rest", commit_the_rest)


def _race8() -> None:
    from app.transport.races import Race8RecoveryHighwater

    _replace(Race8RecoveryHighwater, "unknown", lambda self, highwaters, partitions: [])


def _race9() -> None:
    from app.transport.races import Race9GapAfterOffsetZero

    _replace(Race9GapAfterOffsetZero, "missed_gap", lambda self, last_read, offset: None)


def _race10() -> None:
    from app.transport.races import Race10HeldAcrossTheSeek

    _replace(
        Race10HeldAcrossTheSeek, "missed_gap", lambda self, committed, acknowledged, offset: None
    )


def _final_commit_begins_again() -> None:
    from app.transport.races import Race7CommitTimerTransactions

    original = Race7CommitTimerTransactions.commit_the_rest

    async def commit_the_rest(
        self: Race7CommitTimerTransactions,
        producers: Mapping[str, object],
        committed: set[str],
        lock: Callable[[str], asyncio.Lock],
        is_open: Callable[[object], bool],
        start_new_transaction: bool,
    ) -> list[str]:
        # The mistake of the first barrier: a new transaction whatever Faust asked for.
        return await original(self, producers, committed, lock, is_open, True)  # type: ignore[arg-type]

    _replace(Race7CommitTimerTransactions, "commit_the_rest", commit_the_rest)


def _shutdown_waits_for_ever() -> None:
    from app.transport.races import CleanShutdown

    async def wait_for_streams(self: object, pending: Callable[[], tuple[int, int]]) -> int:
        while pending()[1]:  # Faust's own wait_empty: until every record is acknowledged
            await asyncio.sleep(0.02)
        return 0

    _replace(CleanShutdown, "wait_for_streams", wait_for_streams)


def _shutdown_commits_after_the_final_commit() -> None:
    from app.transport.races import CleanShutdown

    _replace(CleanShutdown, "may_commit", lambda self: True)


def _shutdown_commits_what_it_should_abort() -> None:
    from app.transport.drivers import Consumer

    async def abort_nothing(self: object) -> None:
        return None

    _replace(Consumer, "_abort_open_transactions", abort_nothing)


def _takeover() -> None:
    from app.transport.races import TakeoverSeek

    _replace(TakeoverSeek, "to_rewind", lambda self, committed, is_changelog: [])


def _revoked_books_dropped() -> None:
    from app.transport.rebalance import RevokedBooks

    def save(self: RevokedBooks, consumer: object, revoked: object) -> None:
        self.saved = {}  # Faust drops the books before its handler commits, as in 0.15.3

    _replace(RevokedBooks, "save", save)


def _revocation_does_not_drain() -> None:
    from app.transport.rebalance import DrainBeforeRevoke

    async def wait(self: object, *args: object) -> bool:
        return True  # the app clears the queues under the events in flight

    _replace(DrainBeforeRevoke, "wait", wait)


def _name(test: str) -> str:
    return f"test_commit_barrier.py::{test}"


def _revocation(test: str) -> str:
    return f"test_transactions.py::{test}"


BARRIER_MUTANTS = [
    BarrierMutant(
        "barrier-race1-no-drain",
        "1",
        "the commit does not wait for delivered records to be acknowledged",
        _race1,
        (_name("test_race1_a_commit_waits_until_every_delivered_record_is_acknowledged"),),
    ),
    BarrierMutant(
        "barrier-race2-no-flush",
        "2",
        "the producer's buffer is not flushed before the commit",
        _race2,
        (_name("test_race2_the_producer_is_flushed_before_faust_commits"),),
    ),
    BarrierMutant(
        "barrier-race3-first-answer",
        "3",
        "the seek takes the broker's first answer, stale or not",
        _race3,
        (_name("test_race3_the_seek_asks_again_until_the_broker_has_our_commit"),),
    ),
    BarrierMutant(
        "barrier-race4-redelivers",
        "4",
        "a record at or below the last delivered offset is delivered again",
        _race4,
        (_name("test_race4_a_record_already_delivered_is_not_delivered_twice"),),
    ),
    BarrierMutant(
        "barrier-race5-no-hold",
        "5",
        "stream records are delivered while the rebalance ends",
        _race5,
        (
            _name("test_race5_stream_records_wait_until_the_rebalance_has_ended[exactly_once]"),
            _name("test_race5_stream_records_wait_until_the_rebalance_has_ended[at_least_once]"),
        ),
    ),
    BarrierMutant(
        "barrier-race6-gap-with-record",
        "6",
        "the gap includes the record after it, as Faust records it",
        _race6,
        (
            _name("test_race6_a_gap_in_the_offsets_does_not_hold_back_the_commit[exactly_once]"),
            _name("test_race6_a_gap_in_the_offsets_does_not_hold_back_the_commit[at_least_once]"),
        ),
    ),
    BarrierMutant(
        "barrier-race7-rest-left-open",
        "7",
        "transactions without offsets are not committed",
        _race7,
        (_name("test_race7_every_commit_commits_the_transactions_faust_left_out"),),
    ),
    BarrierMutant(
        "barrier-race8-highwater-unknown",
        "8",
        "an unknown highwater is left to Faust, which reads it as -1",
        _race8,
        (_name("test_race8_highwaters_aiokafka_has_not_seen_are_asked_of_the_broker"),),
    ),
    BarrierMutant(
        "barrier-race9-no-gap-after-zero",
        "9",
        "no gap is recorded after the record at offset 0, as in Faust",
        _race9,
        (
            _name(
                "test_race9_a_gap_right_after_offset_0_does_not_hold_back_the_commit[exactly_once]"
            ),
            _name(
                "test_race9_a_gap_right_after_offset_0_does_not_hold_back_the_commit[at_least_once]"
            ),
        ),
    ),
    BarrierMutant(
        "barrier-race10-no-gap-after-the-seek",
        "10",
        "a record held through the rebalance is delivered without the gap before it, as in Faust",
        _race10,
        (
            _name(
                "test_race10_a_record_held_through_the_rebalance_does_not_hold_back_the_commit"
                "[exactly_once]"
            ),
            _name(
                "test_race10_a_record_held_through_the_rebalance_does_not_hold_back_the_commit"
                "[at_least_once]"
            ),
        ),
    ),
    BarrierMutant(
        "barrier-final-commit-begins-again",
        "final commit",
        "the final commit begins new transactions although Faust asked for none",
        _final_commit_begins_again,
        (_name("test_final_commit_begins_no_new_transaction_and_a_later_commit_leaves_it"),),
    ),
    BarrierMutant(
        "barrier-shutdown-waits-for-ever",
        "shutdown",
        "the stop waits for records no stream will take, as Faust does",
        _shutdown_waits_for_ever,
        (
            _name(
                "test_shutdown_a_record_cleared_from_its_queue_does_not_hold_the_stop"
                "[at_least_once]"
            ),
        ),
    ),
    BarrierMutant(
        "barrier-shutdown-commits-after-final",
        "shutdown",
        "a commit after the final commit of a stop goes ahead",
        _shutdown_commits_after_the_final_commit,
        (_name("test_shutdown_nothing_is_committed_after_the_final_commit"),),
    ),
    BarrierMutant(
        "barrier-shutdown-no-abort",
        "shutdown",
        "the final commit commits transactions that may hold unacknowledged records' outputs",
        _shutdown_commits_what_it_should_abort,
        (_name("test_shutdown_with_records_left_unacknowledged_aborts_instead_of_committing"),),
    ),
    BarrierMutant(
        "barrier-takeover-no-rewind",
        "takeover",
        "a partition without a committed offset is not rewound",
        _takeover,
        (_name("test_takeover_partitions_without_a_committed_offset_are_rewound"),),
    ),
    BarrierMutant(
        "barrier-revoked-books-dropped",
        "revocation",
        "the rebalance's commit leaves out the revoked partitions, as Faust drops their books",
        _revoked_books_dropped,
        (
            _revocation(
                "test_the_revocations_commit_includes_the_revoked_partitions_acknowledged_offsets"
            ),
        ),
    ),
    BarrierMutant(
        "barrier-revocation-does-not-drain",
        "revocation",
        "a revocation clears the queues under the events in flight",
        _revocation_does_not_drain,
        (_revocation("test_a_revocation_waits_until_the_events_in_flight_are_acknowledged"),),
    ),
]
