"""The ``kata`` CLI and the plugin's learner-facing output, against a tiny kata tree in tmp.

The fake tree's modules are plain top-level modules (no packages), so they never clash with
the real ``katas`` package; the plugin finds the manifest from pytest's rootdir.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kata_engine import switch
from kata_engine.cli import main
from kata_engine.manifest import load
from kata_engine.progress import State, TaskProgress, render, task_progress
from kata_engine.report import FAILED, PASSED, SKIPPED, OutcomeRecord, RunReport
from kata_engine.runner import run_pytest
from kata_engine.watch import watch

MANIFEST = """
[[phase]]
id = 1
title = "Greetings"
folder = "katas/phase1"

[[phase.task]]
id = "1.1"
title = "Greet"
stub = "katas/phase1/greet.py"
tests = ["katas/phase1/test_greet.py"]
hints = ["Strings join with +.", "Start from 'hello '.", "Return 'hello ' followed by the name."]

[[phase.task]]
id = "1.2"
title = "Shout"
stub = "katas/phase1/shout.py"
tests = ["katas/phase1/test_shout.py"]
hints = ["Reuse task 1.1.", "str has a method for it.", "Upper-case what greet returns."]
"""
WATCH_WAIT_S = 20.0  # a bound on a hang, not a performance assertion
GREET_STUB = """def greet(name: str) -> str:
    raise NotImplementedError("task 1.1: greet someone — run `uv run kata hint 1.1`")
"""
GREET_SOLVED = """def greet(name: str) -> str:
    return "hello " + name
"""
SHOUT_STUB = """import greet


def shout(name: str) -> str:
    raise NotImplementedError("task 1.2: shout — run `uv run kata hint 1.2`")
"""
FILES = {
    "katas/info.toml": MANIFEST,
    "katas/phase1/greet.py": GREET_STUB,
    "katas/phase1/shout.py": SHOUT_STUB,
    # test_a_* sorts before test_greet on disk: the plugin must still run task 1.1 first.
    "katas/phase1/test_shout.py": "from shout import shout\n\n\n"
    "def test_a_shout():\n    assert shout('bo') == 'HELLO BO'\n",
    "katas/phase1/test_greet.py": "from greet import greet\n\n\n"
    "def test_greet():\n    assert greet('bo') == 'hello bo'\n",
    "solutions/phase1/greet.py": GREET_SOLVED,
    "solutions/phase1/shout.py": "",
    "conftest.py": 'pytest_plugins = ["kata_engine.pytest_plugin"]\n',
    "pyproject.toml": "[tool.pytest.ini_options]\n"
    'markers = ["kafka: needs a broker"]\n'
    'asyncio_default_fixture_loop_scope = "function"\n',
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    git = ["git", "-c", "user.name=kata", "-c", "user.email=kata@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "shipped"], cwd=tmp_path, check=True)
    return tmp_path


@pytest.fixture(autouse=True)
def learner_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # This file may run under --solutions; the CLI must see the learner's setting.
    monkeypatch.setenv(switch.ENV_VAR, switch.LEARNER)


def kata(tree: Path, *args: str) -> int:
    return main(["--root", str(tree), *args])


def test_status_on_fresh_stubs_shows_nothing_done_and_the_next_task(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kata(tree, "status") == 0

    out = capsys.readouterr().out
    assert "[ ] 1.1  Greet — to do (0/1 tests pass)" in out
    assert "0/2 tasks done" in out
    assert "Next: task 1.1 — Greet" in out


def test_status_counts_a_solved_task_as_done(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "katas/phase1/greet.py").write_text(GREET_SOLVED, encoding="utf-8")

    assert kata(tree, "status") == 0

    out = capsys.readouterr().out
    assert "[x] 1.1  Greet — done (1/1 tests pass)" in out
    assert "Next: task 1.2 — Shout" in out


def progress_of(*records: OutcomeRecord) -> TaskProgress:
    manifest = load(check_files=False)
    task = manifest.task("1.2")
    report = RunReport(switch.LEARNER, tests=list(records))
    [progress] = [p for p in task_progress(manifest, report) if p.task.id == task.id]
    return progress


def unit(outcome: str) -> OutcomeRecord:
    return OutcomeRecord("katas/phase1/test_first_contact.py::test_unit", outcome, "1.2")


def integration(outcome: str) -> OutcomeRecord:
    node = "katas/phase1/test_first_contact.py::test_broker"
    return OutcomeRecord(node, outcome, "1.2", kafka=True)


def test_a_task_whose_integration_test_did_not_run_is_not_done() -> None:
    progress = progress_of(unit(PASSED), integration(SKIPPED))
    assert progress.state is State.UNIT_ONLY, progress
    assert "integration not run: needs a broker" in progress.describe(), progress.describe()
    lines = render(load(check_files=False), [progress])
    assert any("[ ] 1.2" in line for line in lines), lines


def test_a_task_is_done_only_when_its_integration_test_passed_too() -> None:
    assert progress_of(unit(PASSED), integration(PASSED)).state is State.DONE
    assert progress_of(unit(PASSED), integration(FAILED)).state is State.TODO
    assert progress_of(integration(SKIPPED)).state is State.NOT_RUN


def test_a_task_never_waits_for_itself() -> None:
    stub = "katas/phase1/test_first_contact.py::test_stub"
    own = OutcomeRecord(stub, FAILED, "1.2", not_implemented=True, stub_task="1.2")
    earlier = OutcomeRecord(stub + "2", FAILED, "1.2", not_implemented=True, stub_task="1.1")
    assert progress_of(own, earlier).describe() == "to do (0/2 tests pass) — waits for task 1.1"
    assert progress_of(own).describe() == "to do (0/1 tests pass)"


def test_next_names_the_file_and_test_that_fail() -> None:
    # The task's first test file passes; its integration test in another file fails.
    failing = "katas/phase1/test_other.py::test_broker"
    progress = progress_of(unit(PASSED), OutcomeRecord(failing, FAILED, "1.2", kafka=True))
    lines = render(load(check_files=False), [progress])
    assert f"      failing: {failing}" in lines, lines
    assert any("run: uv run pytest katas/phase1/test_other.py" in line for line in lines), lines


def test_hint_gives_one_level_at_a_time(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kata(tree, "hint", "1.2") == 0
    first = capsys.readouterr().out
    assert kata(tree, "hint", "1.2", "--level", "3") == 0
    last = capsys.readouterr().out

    assert "Task 1.2: Shout" in first
    assert "Hint 1 of 3:\nReuse task 1.1." in first
    assert "Upper-case" not in first, "level 1 must not give the recipe away"
    assert "uv run kata hint 1.2 --level 2" in first
    assert "Hint 3 of 3:\nUpper-case what greet returns." in last
    assert "--level 4" not in last


@pytest.mark.parametrize(
    "arguments",
    [
        ("hint", "9.9"),
        ("hint",),
        ("hint", "1.1", "--level", "4"),
        ("bogus",),
        ("broker", "--port", "0"),
        ("watch", "7"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    tree: Path, capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...]
) -> None:
    assert kata(tree, *arguments) == 2

    captured = capsys.readouterr()
    assert captured.err.startswith("kata: ")
    assert captured.err.count("\n") == 1


def test_solution_stays_locked_until_the_tests_pass(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kata(tree, "solution", "1.1") == 1
    assert "task 1.1 is not solved yet: 1 of 1 tests still fail" in capsys.readouterr().err

    (tree / "katas/phase1/greet.py").write_text(GREET_SOLVED, encoding="utf-8")
    assert kata(tree, "solution", "1.1") == 0
    assert 'return "hello " + name' in capsys.readouterr().out


def test_reset_restores_the_shipped_stub_only_when_confirmed(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = tree / "katas/phase1/greet.py"
    stub.write_text(GREET_SOLVED, encoding="utf-8")
    answers = iter(["n", "y"])
    monkeypatch.setattr("builtins.input", lambda _question: next(answers))

    assert kata(tree, "reset", "1.1") == 1
    assert stub.read_text(encoding="utf-8") == GREET_SOLVED
    assert kata(tree, "reset", "1.1") == 0
    assert stub.read_text(encoding="utf-8") == GREET_STUB
    stub.unlink()
    assert kata(tree, "reset", "1.1", "--yes") == 0
    assert stub.read_text(encoding="utf-8") == GREET_STUB


def test_reset_prefers_the_stub_of_the_cloned_repository(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    git = ["git", "-c", "user.name=kata", "-c", "user.email=kata@example.invalid"]
    improved = '"""Greet someone: the improved task card."""\n' + GREET_STUB
    (tree / "katas/phase1/greet.py").write_text(improved, encoding="utf-8")
    subprocess.run([*git, "commit", "-qam", "maintainers improve the stub"], cwd=tree, check=True)
    clone = tmp_path_factory.mktemp("clone") / "katas-clone"
    subprocess.run(["git", "clone", "-q", str(tree), str(clone)], check=True)
    stub = clone / "katas/phase1/greet.py"
    stub.write_text(GREET_SOLVED, encoding="utf-8")
    subprocess.run([*git, "commit", "-qam", "my solution"], cwd=clone, check=True)

    assert kata(clone, "reset", "1.1", "--yes") == 0
    assert stub.read_text(encoding="utf-8") == improved


def test_reset_outside_git_is_one_line_and_exit_1(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subprocess.run(["rm", "-rf", str(tree / ".git")], check=True)

    assert kata(tree, "reset", "1.1", "--yes") == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_the_console_script_exits_2_on_a_usage_error_without_a_traceback() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "kata_engine.cli", "hint"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, switch.ENV_VAR: switch.LEARNER},
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.count("\n") == 1


# --- the plugin's output ------------------------------------------------------------------------


def pytest_output(tree: Path, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "katas", *args],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, switch.ENV_VAR: switch.LEARNER},
    )
    return completed.stdout + completed.stderr


def test_a_stub_failure_is_one_line_naming_task_file_and_hint(tree: Path) -> None:
    out = pytest_output(tree)

    expected = (
        "task 1.1 (Greet) is not done yet — katas/phase1/greet.py. Hint: uv run kata hint 1.1"
    )
    assert expected in out
    assert "Traceback" not in out and "raise NotImplementedError" not in out
    assert "next: task 1.1 — Greet" in out


def test_verbose_runs_keep_the_traceback(tree: Path) -> None:
    assert "raise NotImplementedError" in pytest_output(tree, "--tb=long")


def test_tests_run_in_teaching_order_so_x_stops_at_the_first_task(tree: Path) -> None:
    out = pytest_output(tree, "-x", "-v")

    assert "test_greet.py::test_greet FAILED" in out
    assert "test_a_shout" not in out.split("short test summary")[0].split("FAILURES")[0]


def test_a_module_that_cannot_be_imported_is_named_with_its_line(tree: Path) -> None:
    (tree / "katas/phase1/greet.py").write_text("def greet(name):\n    return (\n")

    out = pytest_output(tree)

    assert "could not import your module katas/phase1/greet.py, line 2 (task 1.1)" in out
    assert "SyntaxError" in out


def test_the_report_records_which_stub_raised(tree: Path) -> None:
    run = run_pytest(["katas"], root=tree)

    by_test = {record.nodeid.split("::")[-1]: record for record in run.report.tests}
    assert [record.nodeid.split("::")[-1] for record in run.report.tests] == [
        "test_greet",
        "test_a_shout",
    ]
    assert by_test["test_greet"].not_implemented and by_test["test_greet"].stub_task == "1.1"
    assert by_test["test_a_shout"].task == "1.2" and by_test["test_a_shout"].stub_task == "1.2"
    assert run.report.implementation == switch.LEARNER


@pytest.mark.parametrize("poll", [False, True], ids=["file-events", "polling"])
def test_watch_reruns_the_command_when_a_file_is_saved(tree: Path, poll: bool) -> None:
    marker = tree / "ran.txt"
    command = [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('run\\n')"]
    messages: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch,
        args=(tree, command),
        kwargs={"poll": poll, "announce": messages.append, "rounds": 2, "stop": stop},
    )
    watcher.start()
    try:
        deadline = time.monotonic() + WATCH_WAIT_S
        # "watching" is announced once the baseline is taken and the watch registered.
        while not any("watching" in message for message in messages):
            assert time.monotonic() < deadline, f"watch never started waiting: {messages}"
            time.sleep(0.01)
        (tree / "katas/phase1/greet.py").write_text(GREET_SOLVED, encoding="utf-8")
        watcher.join(WATCH_WAIT_S)
    finally:
        stop.set()
        watcher.join(WATCH_WAIT_S)

    assert marker.read_text() == "run\nrun\n", (
        f"expected the command to run once at start and once after the save; messages: {messages}"
    )
    expected = "polling every 1 s" if poll else "file events"
    assert any(expected in message for message in messages), messages


def test_watch_stops_waiting_when_told(tree: Path) -> None:
    stop = threading.Event()
    stop.set()
    messages: list[str] = []

    watch(tree, [sys.executable, "-c", "pass"], announce=messages.append, stop=stop)

    assert sum(message.startswith("$ ") for message in messages) == 1
