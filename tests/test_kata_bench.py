"""``kata bench 2``: its arguments, what it counts as written, and the table it prints.

The measurement itself needs a broker and minutes; it prints figures and asserts nothing (the
README's Performance section shows a run). These tests pin everything around it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rich.console import Console

from kata_engine.bench import CONTENDERS, Result, table, written

REPO = Path(__file__).resolve().parents[1]


def kata(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kata_engine.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_another_phase_is_a_usage_error_in_one_line() -> None:
    done = kata("bench", "3")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "phase 2 only" in lines[0], (
        f"`kata bench 3` exited {done.returncode} with {done.stderr!r}; expected exit 2 and one "
        "line saying that only phase 2 is measured"
    )


def test_a_bad_reading_count_is_a_usage_error_in_one_line() -> None:
    done = kata("bench", "2", "--readings", "many")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, (
        f"`kata bench 2 --readings many` exited {done.returncode} with {done.stderr!r}; "
        "expected exit 2 and one line"
    )


def test_the_shipped_stubs_are_not_written_and_the_reference_is() -> None:
    states = {contender.label: written(contender, REPO) for contender in CONTENDERS}
    learner = {c.label for c in CONTENDERS if c.stub}
    assert states == {label: label not in learner for label in states}, (
        f"written: {states}; expected the learner's shipped stubs (tasks 2.4 and 2.5) not "
        "written and the reference written, as the worker sees them"
    )


def test_the_table_shows_each_agent_its_share_of_the_reference_and_why_one_is_missing() -> None:
    per_event, batched, reference = CONTENDERS
    results = [
        Result(per_event, 500.0),
        Result(batched, None, "not written yet (task 2.5 to do)"),
        Result(reference, 2000.0),
    ]
    console = Console(record=True, width=120)
    console.print(table(results, 3000))
    text = console.export_text()
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
    assert "25%" in rows["yours, per event"] and "500" in rows["yours, per event"], text
    assert "not written yet" in rows["yours, batched"], text
    assert "100%" in rows["reference, batched"] and "2,000" in rows["reference, batched"], text
