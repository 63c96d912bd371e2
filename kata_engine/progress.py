"""Turn one pytest run's report into per-task progress: done, to do, broken, not run."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.text import Text

from kata_engine.manifest import Manifest, Task, task_sort_key
from kata_engine.report import PASSED, SKIPPED, RunReport

BAR_WIDTH = 20
NEEDS_A_BROKER = (
    "integration not run: needs a broker (docker compose up -d, or uv run kata broker; "
    "or kata status --with-kafka starts one)"
)


class State(StrEnum):
    DONE = "done"
    TODO = "to do"
    BROKEN = "cannot import"  # a module of the task fails to import
    NOT_RUN = "not run"  # no test ran (e.g. only kafka tests, and no broker)
    UNIT_ONLY = "unit tests pass"  # everything that ran passes, but integration tests did not run


@dataclass(frozen=True)
class TaskProgress:
    task: Task
    state: State
    passed: int
    total: int
    detail: str  # one line: what is failing, or why nothing ran
    # Node id of the task's first test that fails in the learner's code (not at a stub).
    first_failure: str | None = None

    def describe(self) -> str:
        if self.state is State.DONE:
            return f"done ({self.passed}/{self.total} tests pass)"
        if self.state is State.TODO:
            return f"to do ({self.passed}/{self.total} tests pass) {self.detail}".rstrip()
        if self.state is State.UNIT_ONLY:
            return f"unit tests pass ({self.passed}/{self.total}); {self.detail}"
        return f"{self.state.value}: {self.detail}"


def task_progress(manifest: Manifest, report: RunReport) -> list[TaskProgress]:
    """Progress of every task in teaching order."""
    return [_one(task, report) for task in manifest.tasks()]


def _one(task: Task, report: RunReport) -> TaskProgress:
    # A kafka test that skipped did not run (no broker): it proves nothing either way.
    everything = report.for_task(task.id)
    not_run = [r for r in everything if r.kafka and r.outcome == SKIPPED]
    records = [r for r in everything if r not in not_run]
    broken = [error for error in report.collection_errors if error.task == task.id]
    passed = sum(record.outcome == PASSED for record in records)
    total = len(records) + len(not_run)
    if broken:
        return TaskProgress(task, State.BROKEN, passed, total, broken[0].message)
    if not records:
        return TaskProgress(task, State.NOT_RUN, 0, total, NEEDS_A_BROKER)
    if passed == len(records) and not_run:
        return TaskProgress(task, State.UNIT_ONLY, passed, total, NEEDS_A_BROKER)
    if passed == len(records):
        return TaskProgress(task, State.DONE, passed, total, "")
    failing = [record for record in records if record.outcome != PASSED]
    stubs = {r.stub_task for r in failing if r.not_implemented and r.stub_task}
    # Another task's stub stops some tests; the task's own stub is simply "to do".
    waiting_for = sorted(stubs - {task.id}, key=task_sort_key)
    own_failures = [r for r in failing if not (r.not_implemented and r.stub_task != task.id)]
    first = (own_failures or failing)[0]
    if waiting_for:
        detail = f"— waits for task {', '.join(waiting_for)}"
    elif stubs:
        detail = ""
    else:
        detail = f"— first failure: {first.nodeid}"
    real = None if first.not_implemented else first.nodeid  # a failure of the learner's code
    return TaskProgress(task, State.TODO, passed, total, detail, real)


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[########------------]``"""
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def show(console: Console, manifest: Manifest, progress: list[TaskProgress]) -> None:
    """Print the status: rich bars in colour on a terminal, exactly ``render``'s text elsewhere."""
    if not console.is_terminal:
        # A pipe or a CI log: the plain lines, no escape codes.
        for line in render(manifest, progress):
            console.out(line, highlight=False)
        return
    for line in render(manifest, progress, bar=_bar_token):
        text = Text()
        for part in _BAR_TOKEN.split(line):
            if "/" in part and part.replace("/", "").isdigit():
                done, total = (int(n) for n in part.split("/"))
                text.append_text(_rich_bar(done, total))
            else:
                text.append(part)
        console.print(text, soft_wrap=True)


_BAR_TOKEN = re.compile(r"\x00")


def _bar_token(done: int, total: int) -> str:
    return f"\x00{done}/{total}\x00"


def _rich_bar(done: int, total: int) -> Text:
    """The bar rich draws for its progress displays, in the same width."""
    rendered = ProgressBar(total=max(total, 1), completed=done, width=BAR_WIDTH)
    segments = Console(width=BAR_WIDTH, force_terminal=True, color_system="truecolor").render(
        rendered
    )
    text = Text()
    for segment in segments:
        text.append(segment.text, style=segment.style)
    return text


def render(
    manifest: Manifest, progress: list[TaskProgress], bar: Callable[[int, int], str] = bar
) -> list[str]:
    """The lines ``kata status`` prints (``bar`` draws a bar; plain text by default)."""
    lines: list[str] = []
    by_phase = {
        phase.id: [p for p in progress if p.task.phase == phase.id] for phase in manifest.phases
    }
    for phase in manifest.phases:
        tasks = by_phase[phase.id]
        done = sum(p.state is State.DONE for p in tasks)
        lines.append(f"Phase {phase.id}: {phase.title}")
        lines.append(f"  {bar(done, len(tasks))} {done}/{len(tasks)} tasks done")
        for item in tasks:
            mark = "x" if item.state is State.DONE else " "
            lines.append(f"  [{mark}] {item.task.id}  {item.task.title} — {item.describe()}")
    total_done, total = sum(p.state is State.DONE for p in progress), len(progress)
    lines.append("")
    lines.append(f"Overall {bar(total_done, total)} {total_done}/{total} tasks done")
    upcoming = next(
        (p for p in progress if p.state in (State.TODO, State.BROKEN, State.UNIT_ONLY)), None
    )
    if upcoming is not None:
        task = upcoming.task
        lines.append(f"Next: task {task.id} — {task.title}")
        if upcoming.state is State.UNIT_ONLY:
            lines.append("      start a broker (docker compose up -d, or uv run kata broker),")
            lines.append("      then run uv run kata status again")
        else:
            failing = upcoming.first_failure
            test_file = failing.split("::", 1)[0] if failing else task.tests[0]
            if failing:
                lines.append(f"      failing: {failing}")
            lines.append(f"      edit {task.stub}, run: uv run pytest {test_file}")
            lines.append(f"      stuck? uv run kata hint {task.id}")
    elif total_done == total:
        lines.append("All tasks done. Well played.")
    return lines
