"""Task 5.1: the guarantee switch. No broker needed: a fresh Faust app per test.

The integration test (test_worker.py) starts a real worker at the log level of ``commit_log()``
and finds the transactional commits in its log.
"""

from __future__ import annotations

from typing import Any

import faust
import pytest
from faust.types.enums import ProcessingGuarantee
from hypothesis import given
from hypothesis import strategies as st

from katas.phase5.guarantee import apply_guarantee, configure, guarantee_from


def fresh_app() -> faust.App:
    # A throw-away app (never started): the guarantee of the pipeline's own app is set at import.
    return faust.App("guarantee-test", broker="kafka://127.0.0.1:1", autodiscover=False)


def test_without_a_choice_the_guarantee_is_exactly_once() -> None:
    for env in ({}, {"KATA_PROCESSING_GUARANTEE": ""}, {"KATA_PROCESSING_GUARANTEE": "  "}):
        chosen = guarantee_from(env)
        assert chosen == ProcessingGuarantee.EXACTLY_ONCE, (
            f"guarantee_from({env}) returned {chosen!r}; expected exactly_once: phase 5 runs "
            "exactly once unless KATA_PROCESSING_GUARANTEE says otherwise"
        )


def test_the_environment_can_choose_either_guarantee() -> None:
    for name in ("at_least_once", "exactly_once"):
        chosen = guarantee_from({"KATA_PROCESSING_GUARANTEE": name})
        assert chosen == ProcessingGuarantee(name), (
            f"KATA_PROCESSING_GUARANTEE={name} gave {chosen!r}; expected {name} (the crash "
            "test runs the pipeline under both)"
        )


# ProcessingGuarantee is a plain Enum: its names are compared as strings (.value).
NAMES = ("", *(guarantee.value for guarantee in ProcessingGuarantee))


@given(st.text(min_size=1).filter(lambda text: text.strip() not in NAMES))
def test_any_other_guarantee_is_an_error(name: str) -> None:
    with pytest.raises(ValueError):
        guarantee_from({"KATA_PROCESSING_GUARANTEE": name})


def test_the_app_runs_exactly_once_after_configure() -> None:
    target = fresh_app()  # Faust's default: at_least_once (not read here: reading it fixes it)
    returned = configure(target, {})
    held: Any = target.conf.processing_guarantee
    assert held == ProcessingGuarantee.EXACTLY_ONCE and returned == held, (
        f"after configure(app, {{}}) the app's processing_guarantee is {held!r} (returned "
        f"{returned!r}); expected exactly_once: a worker of this app would not use transactions"
    )


def test_apply_guarantee_sets_what_it_is_given() -> None:
    for guarantee in (ProcessingGuarantee.EXACTLY_ONCE, ProcessingGuarantee.AT_LEAST_ONCE):
        target = fresh_app()
        returned = apply_guarantee(target, guarantee)
        held: Any = target.conf.processing_guarantee
        assert held == guarantee and returned == guarantee, (
            f"apply_guarantee(app, {guarantee.value}) left the app at {held!r} and returned "
            f"{returned!r}; expected {guarantee.value} both times"
        )
