"""Mutants of phase 5: plausible wrong guarantee switches, status tables and status pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.mutants import Mutant, replace


def _guarantee_left_at_least_once() -> None:
    from faust.types.enums import ProcessingGuarantee

    from solutions.phase5 import guarantee as module

    def guarantee_from(env: Mapping[str, str]) -> ProcessingGuarantee:
        # The mistake: the switch was never flipped; the default stays Faust's own.
        raw = env.get("KATA_PROCESSING_GUARANTEE", "").strip()
        return ProcessingGuarantee(raw or "at_least_once")

    replace(module, "guarantee_from", guarantee_from)


def _dead_letters_counted_in_place() -> None:
    from solutions.phase5 import status_tables as module

    def add_dead_letter(counts: Mapping[str, int], error_code: str) -> dict[str, int]:
        # The mistake: counting in place; the table never sees a new value (and tests see it).
        mutable: Any = counts
        mutable[error_code] = mutable.get(error_code, 0) + 1
        return mutable  # type: ignore[no-any-return]

    replace(module, "add_dead_letter", add_dead_letter)


def _latest_window_is_the_last_to_arrive() -> None:
    from solutions.phase5 import status_tables as module

    # The mistake: the window that arrived last wins, even when it is older.
    replace(module, "newer_window", lambda current, candidate: candidate)


def _page_leaks_a_table() -> None:
    from solutions.phase4 import windowing
    from solutions.phase5 import status as module

    def status_body(**tables: Any) -> dict[str, Any]:
        body = original(**tables)
        # The mistake: "more is better": phase 4's internal state goes on the page too.
        body["window_horizon"] = dict(windowing.window_horizon.items())
        return body

    original = module.status_body
    replace(module, "status_body", status_body)


def _status_without_the_guarantee() -> None:
    from solutions.phase5 import status as module

    def status_body(**tables: Any) -> dict[str, Any]:
        body = original(**tables)
        del body["processing_guarantee"]  # the mistake: the one fact phase 5 is about, missing
        return body

    original = module.status_body
    replace(module, "status_body", status_body)


def _status_unsorted() -> None:
    from solutions.phase5 import status as module

    def status_body(**tables: Any) -> dict[str, Any]:
        body = original(**tables)
        # The mistake: the mappings in the order the tables hold them, not sorted by key.
        body["readings_per_sensor"] = dict(tables["sensor_counts"].items())
        body["late_events_per_sensor"] = dict(tables["late_events"].items())
        return body

    original = module.status_body
    replace(module, "status_body", status_body)


def _status_without_clock_and_replays() -> None:
    from solutions.phase5 import status as module

    def status_body(**tables: Any) -> dict[str, Any]:
        body = original(**tables)
        # The mistake: the contract of before issue 23; the dashboard finds neither count.
        del body["clock_rejected_per_sensor"], body["replays_per_partition"]
        return body

    original = module.status_body
    replace(module, "status_body", status_body)


def _commit_log_names_the_next_transaction() -> None:
    from solutions.phase5 import guarantee as module

    # The mistake: a line logged after each commit too, but about starting the next transaction.
    replace(module, "commit_log", lambda: ("debug", "Starting transaction"))


MUTANTS = [
    Mutant(
        name="guarantee-left-at-least-once",
        task="5.1",
        description="the guarantee is left at at_least_once unless the environment asks",
        apply=_guarantee_left_at_least_once,
        caught_by=(
            "test_guarantee.py::test_without_a_choice_the_guarantee_is_exactly_once",
            "test_guarantee.py::test_the_app_runs_exactly_once_after_configure",
        ),
    ),
    Mutant(
        name="commit-log-starting-transaction",
        task="5.1",
        description="commit_log() names the 'Starting transaction' line, not the commit's",
        apply=_commit_log_names_the_next_transaction,
        caught_by=("test_guarantee.py::test_commit_log_names_the_line_of_a_finished_commit",),
    ),
    Mutant(
        name="dead-letters-counted-in-place",
        task="5.2",
        description="the dead-letter counts are changed in place instead of assigned anew",
        apply=_dead_letters_counted_in_place,
        caught_by=("test_status_tables.py::test_add_dead_letter_counts_one_more_and_leaves",),
    ),
    Mutant(
        name="latest-window-last-to-arrive",
        task="5.2",
        description="the latest window is the last to arrive, even when it is older",
        apply=_latest_window_is_the_last_to_arrive,
        caught_by=(
            "test_status_tables.py::test_newer_window_keeps_the_later_start",
            "test_status_tables.py::test_each_sensor_keeps_its_latest_window",
        ),
    ),
    Mutant(
        name="status-leaks-a-table",
        task="5.3",
        description="the page shows a table other than the documented ones (window_horizon)",
        apply=_page_leaks_a_table,
        caught_by=(
            "test_status.py::test_the_body_has_the_documented_keys",
            "test_status.py::test_get_status_serves_exactly_the_documented_json",
        ),
    ),
    Mutant(
        name="status-without-guarantee",
        task="5.3",
        description="the page does not say which processing guarantee the worker runs",
        apply=_status_without_the_guarantee,
        caught_by=(
            "test_status.py::test_the_body_has_the_documented_keys",
            "test_status.py::test_get_status_serves_exactly_the_documented_json",
        ),
    ),
    Mutant(
        name="status-mappings-unsorted",
        task="5.3",
        description="the mappings are served in the tables' order, not sorted by key",
        apply=_status_unsorted,
        caught_by=("test_status.py::test_every_mapping_is_sorted_by_key",),
    ),
    Mutant(
        name="status-without-clock-and-replays",
        task="5.3",
        description="the page lacks clock_rejected_per_sensor and replays_per_partition",
        apply=_status_without_clock_and_replays,
        caught_by=(
            "test_status.py::test_the_body_has_the_documented_keys_and_adds_up_the_partitions",
            "test_status.py::test_get_status_serves_exactly_the_documented_json",
        ),
    ),
]
