"""Per-test outcomes of one pytest run, written as JSON by ``pytest --kata-report=PATH``.

``kata status``, ``kata solution`` and the integrity tests run pytest in a subprocess and read
this file instead of parsing terminal output.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Outcomes, worst first; a test's final outcome is the worst of its setup, call and teardown.
PASSED, FAILED, ERROR, SKIPPED, XFAILED, XPASSED = (
    "passed",
    "failed",
    "error",
    "skipped",
    "xfailed",
    "xpassed",
)


@dataclass
class OutcomeRecord:
    nodeid: str
    outcome: str  # passed | failed | error | skipped | xfailed | xpassed
    task: str | None  # the task the test belongs to (from the manifest)
    not_implemented: bool = False  # failed because a stub raised NotImplementedError
    stub_task: str | None = None  # the task whose stub raised it
    message: str = ""  # one line: the exception or the skip reason
    kafka: bool = False  # marked kafka


@dataclass
class CollectionRecord:
    nodeid: str  # the test module that could not be collected
    task: str | None
    message: str  # one line
    import_error_path: str | None = None  # the learner's module at fault, if any


@dataclass
class RunReport:
    implementation: str  # learner | solutions
    exitstatus: int = 0
    tests: list[OutcomeRecord] = field(default_factory=list)
    collection_errors: list[CollectionRecord] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> RunReport:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            implementation=raw["implementation"],
            exitstatus=raw["exitstatus"],
            tests=[OutcomeRecord(**record) for record in raw["tests"]],
            collection_errors=[CollectionRecord(**r) for r in raw["collection_errors"]],
        )

    @classmethod
    def read(cls, path: Path) -> RunReport:
        return cls.from_json(path.read_text(encoding="utf-8"))

    def for_task(self, task_id: str) -> list[OutcomeRecord]:
        return [record for record in self.tests if record.task == task_id]


class ReportWriter:
    """A pytest plugin object that records outcomes and writes them at session end."""

    def __init__(self, path: Path, implementation: str, progress: Path | None = None) -> None:
        self.path = path
        self.report = RunReport(implementation)
        self._by_nodeid: dict[str, OutcomeRecord] = {}
        self.progress = progress  # one line per test as it starts, for a live display

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        if self.progress is not None:
            with self.progress.open("a", encoding="utf-8") as lines:
                lines.write(nodeid + "\n")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = _outcome(report)
        if outcome == ERROR and getattr(report, "kata_not_implemented", False):
            # A stub stopped the test before it ran (the plugin checks kafka tests' stubs in
            # setup, before asking for a broker): that is the test failing, not a broken setup.
            outcome = FAILED
        if report.when != "call" and outcome == PASSED:
            return
        record = self._by_nodeid.get(report.nodeid)
        if record is None:
            record = OutcomeRecord(
                report.nodeid,
                PASSED,
                getattr(report, "kata_task", None),
                kafka="kafka" in report.keywords,
            )
            self._by_nodeid[report.nodeid] = record
            self.report.tests.append(record)
        if outcome == PASSED or record.outcome not in (PASSED, SKIPPED):
            return  # keep the first problem (a setup error is not replaced by a teardown one)
        record.outcome = outcome
        record.message = getattr(report, "kata_summary", None) or _one_line(report)
        stub_task = getattr(report, "kata_stub_task", None)
        record.not_implemented = bool(getattr(report, "kata_not_implemented", False))
        record.stub_task = stub_task

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.report.collection_errors.append(
                CollectionRecord(
                    report.nodeid,
                    getattr(report, "kata_task", None),
                    getattr(report, "kata_summary", None) or _one_line(report),
                    getattr(report, "kata_import_error_path", None),
                )
            )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.report.exitstatus = int(exitstatus)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.report.to_json(), encoding="utf-8")


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return XPASSED if report.passed else XFAILED
    if report.failed:
        return FAILED if report.when == "call" else ERROR
    return SKIPPED if report.skipped else PASSED


def _one_line(report: pytest.TestReport | pytest.CollectReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0] if crash.message else ""
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[2])
    text = str(report.longrepr or "").strip()
    return text.splitlines()[-1] if text else ""
