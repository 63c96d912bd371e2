"""The demo's progress display: rich bars on a terminal, a few plain lines anywhere else."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kata_engine.demo.outcome import Outcome
from kata_engine.demo.plan import Plan


class DemoProgress:
    """Three bars: readings sent, readings with an outcome, windows closed."""

    def __init__(self, console: Console, plan: Plan) -> None:
        self.console = console
        self.plan = plan
        self.live = console.is_terminal
        self.progress = Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not self.live,
        )
        self.sent = self.progress.add_task("readings sent", total=plan.readings)
        self.handled = self.progress.add_task("enriched + dead letters", total=plan.readings)
        self.closed = self.progress.add_task("windows closed", total=len(plan.windows))
        self.milestones: set[str] = set()

    def __enter__(self) -> DemoProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def produced(self, done: int) -> None:
        self.progress.update(self.sent, completed=done)
        if done == self.plan.readings:
            self._once(f"sent {done} readings")

    def update(self, outcome: Outcome) -> None:
        closed = len(set(self.plan.windows) & set(outcome.windows()))
        self.progress.update(self.handled, completed=outcome.outcomes)
        self.progress.update(self.closed, completed=closed)
        if outcome.outcomes >= self.plan.readings:
            self._once(f"every reading has an outcome ({self.plan.readings})")
        if closed and closed == len(self.plan.windows):
            self._once(f"every window closed ({closed})")

    def note(self, line: str) -> None:
        self.progress.console.print(line, highlight=False)

    def _once(self, line: str) -> None:
        # Off a terminal the bars are off: a line per milestone tells a log reader where it got.
        if not self.live and line not in self.milestones:
            self.milestones.add(line)
            self.console.print(line, highlight=False)
