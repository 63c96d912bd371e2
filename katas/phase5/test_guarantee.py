"""Task 5.1: the guarantee switch. No broker needed: a fresh Faust app per test.

The integration test (test_worker.py) starts a real worker at the log level of ``commit_log()``
and finds the transactional commits in its log.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from typing import Any

import faust
import faust.transport.drivers.aiokafka as faust_kafka_driver
import pytest
from faust.types.enums import ProcessingGuarantee
from hypothesis import given
from hypothesis import strategies as st

from katas.phase5.guarantee import apply_guarantee, commit_log, configure, guarantee_from


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


@dataclass(frozen=True)
class LogCall:
    """One ``logger.<level>(...)`` call in Faust's Kafka driver: its level and fixed text."""

    level: str
    text: str  # the message with every {placeholder} replaced by "{}"
    after_commit: bool  # the statement right after an ``await ....commit_transaction()``


def _message_text(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(_message_text(part) for part in node.values)
    return "{}"


def _is_commit(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Await)
        and isinstance(statement.value.value, ast.Call)
        and isinstance(statement.value.value.func, ast.Attribute)
        and statement.value.value.func.attr == "commit_transaction"
    )


def faust_driver_log_calls() -> list[LogCall]:
    """Every log call of faust/transport/drivers/aiokafka.py, read from its source."""
    calls: list[LogCall] = []
    tree = ast.parse(inspect.getsource(faust_kafka_driver))
    for node in ast.walk(tree):
        for body in (getattr(node, name, None) for name in ("body", "orelse", "finalbody")):
            if not isinstance(body, list):
                continue
            for before, statement in zip([None, *body], body, strict=False):
                call = statement.value if isinstance(statement, ast.Expr) else None
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "logger"
                    and call.args
                ):
                    continue
                after = before is not None and _is_commit(before)
                calls.append(LogCall(call.func.attr, _message_text(call.args[0]), after))
    return calls


def test_commit_log_names_the_line_of_a_finished_commit() -> None:
    level, text = commit_log()
    calls = faust_driver_log_calls()
    commits = [call for call in calls if call.after_commit]
    assert commits, (
        "found no log line right after `await ...commit_transaction()` in "
        f"{faust_kafka_driver.__file__}: Faust changed; this test needs updating"
    )
    mine = [call for call in calls if text and text in call.text]
    others = [call.text for call in mine if not call.after_commit]
    assert mine and not others, (
        f"commit_log() returned the text {text!r}; Faust's driver logs it in {others or 'no line'}"
        f". Expected text found ONLY in the line logged right after a transaction's commit "
        f"succeeded ({sorted({call.text for call in commits})}): the integration test counts "
        "the lines with your text as commits, so a line logged at any other moment (sending "
        "offsets, starting the next transaction) would count something else"
    )
    levels = sorted({call.level for call in mine})
    assert levels == [level.lower()], (
        f"commit_log() returned the level {level!r}; Faust logs that line with "
        f"logger.{levels[0]}(...): a worker started at -l {level} would not show it"
    )
