"""The pytest plugin behind every test run in this repository.

Options:
  --solutions        run the tests against ``solutions/`` instead of your ``katas/phaseN`` modules
  --require-kafka    a kafka test that cannot get a broker fails instead of skipping (CI uses this)
  --kata-report PATH write per-test outcomes as JSON (``kata status`` and the integrity tests)
  --kata-progress PATH  with --kata-report: each test's node id as it starts (a live display)
  --only-stub TASK   (maintainers) the solutions everywhere except TASK's stub, to prove that
                     the task's tests fail for the task's own reason

Learner-friendly output (the manifest ``katas/info.toml`` drives it):
  - tests run in teaching order (phase, task), so ``pytest -x`` stops at the first unsolved task;
  - a test that fails because a stub still raises ``NotImplementedError("task 2.2: …")`` is one
    line: which task is not done, which file to edit, the hint command (``-v`` or ``--tb=long``
    shows the traceback);
  - a learner's module that fails to import names the file and the line.

Fixtures:
  faust_app        the pipeline's Faust app, ready for the harness on this test's loop, tables empty
  kafka_bootstrap  ``host:port`` of a real broker from the broker chain (session scope)
  kafka_isolation  unique app id and topic prefix for one test, plus the env vars that carry them
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import linecache
import os
import sys
import uuid
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from app.stub_check import OPTIONAL_FOR_THE_WORKER
from kata_engine import switch
from kata_engine.failures import import_failure, not_done, untouched_stub_message
from kata_engine.manifest import MANIFEST_PATH, Manifest, ManifestError, Task, load, task_sort_key
from kata_engine.report import ReportWriter

if TYPE_CHECKING:
    import faust


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kata")
    group.addoption(
        "--solutions",
        action="store_true",
        help="test the reference solutions instead of your katas/phaseN modules",
    )
    group.addoption(
        "--require-kafka",
        action="store_true",
        help="fail (instead of skip) kafka tests when no broker can be provided",
    )
    group.addoption(
        "--kata-report",
        default=None,
        metavar="PATH",
        help="write per-test outcomes (and which stub is not done) as JSON to PATH",
    )
    group.addoption(
        "--kata-progress",
        default=None,
        metavar="PATH",
        help="append the node id of every test as it starts to PATH (kata status shows it)",
    )
    group.addoption(
        "--only-stub",
        default=None,
        metavar="TASK",
        help="(maintainers) use the solutions for every module except TASK's stub",
    )


@dataclass
class _KataState:
    manifest: Manifest | None
    not_done_tasks: set[str] = field(default_factory=set)


_STATE = pytest.StashKey[_KataState]()


def pytest_configure(config: pytest.Config) -> None:
    try:
        switch.current()
    except switch.SwitchError as exc:  # a typo in KATA_IMPL: one line, not a traceback
        pytest.exit(str(exc), returncode=2)
    only_stub = config.getoption("--only-stub")
    if config.getoption("--solutions") or only_stub:
        switch.use_solutions()
    config.stash[_STATE] = _KataState(_load_manifest(config.rootpath))
    if only_stub:
        _keep_stub(config, only_stub)
    report_path = config.getoption("--kata-report")
    if report_path:
        progress = config.getoption("--kata-progress")
        writer = ReportWriter(
            Path(report_path).resolve(),
            switch.current(),
            Path(progress).resolve() if progress else None,
        )
        config.pluginmanager.register(writer, "kata-report")


def _load_manifest(rootpath: Path) -> Manifest | None:
    # Files may be missing while a phase is being written; the integrity tests check them.
    if not (rootpath / MANIFEST_PATH).is_file():
        return None
    try:
        return load(rootpath, check_files=False)
    except ManifestError as exc:
        raise pytest.UsageError(f"{MANIFEST_PATH}: {exc}") from None


class _LearnerModule(importlib.abc.MetaPathFinder):
    """Imports one stub module from katas/ even though the switch routes the rest to solutions."""

    def __init__(self, module: str) -> None:
        self.module = module

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.module:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, path)


def _keep_stub(config: pytest.Config, task_id: str) -> None:
    manifest = _manifest(config)
    if manifest is None:
        raise pytest.UsageError(f"--only-stub needs {MANIFEST_PATH}")
    try:
        task = manifest.task(task_id)
    except ManifestError as exc:
        raise pytest.UsageError(f"--only-stub: {exc}") from None
    sys.meta_path.insert(0, _LearnerModule(task.module))


def _manifest(config: pytest.Config) -> Manifest | None:
    state = config.stash.get(_STATE, None)
    return state.manifest if state else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test that needs the broker is a kafka test, so `-m "not kafka"` leaves it out.
    for item in items:
        if "kafka_bootstrap" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)
    manifest = _manifest(config)
    if manifest is not None:
        # Teaching order: `pytest -x` stops at the first unsolved task. The sort is stable,
        # so tests keep their file order within a module.
        items.sort(key=lambda item: manifest.order_key(item.path))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # A kafka test of a task whose stub (or a stub of a phase its worker loads) is untouched
    # fails at once, before any fixture asks the broker chain for a broker (which may start a
    # JVM or pull an image first). The one "fail fast before a broker" mechanism.
    manifest = _manifest(item.config)
    if manifest is None or item.get_closest_marker("kafka") is None:
        return
    if switch.current() == switch.SOLUTIONS or item.config.getoption("--only-stub"):
        return
    task = manifest.task_for_test(item.path)
    if task is None:
        return
    for needed in _needed_tasks(manifest, task, item):
        message = untouched_stub_message(manifest.root / needed.stub)
        if message is not None:
            raise NotImplementedError(message)


def _needed_tasks(manifest: Manifest, task: Task, item: pytest.Item) -> list[Task]:
    """The tasks a kafka test needs done: its own, and every task of the phases its worker runs.

    A test module that starts workers says which phases they load in ``KATA_PHASES`` ("2,3"):
    any stub left in those phases would crash the worker's agents.
    """
    phases = getattr(getattr(item, "module", None), "KATA_PHASES", "")
    wanted = {int(part) for part in str(phases).split(",") if part.strip().isdigit()}
    needed = [
        t
        for t in manifest.tasks()
        if (t.phase in wanted and str(t.stub) not in OPTIONAL_FOR_THE_WORKER) or t.id == task.id
    ]
    return sorted(needed, key=lambda t: task_sort_key(t.id))


def _wants_tracebacks(config: pytest.Config) -> bool:
    return config.get_verbosity() > 0 or config.getoption("tbstyle", "auto") != "auto"


def _not_done_line(test_task: Task | None, stub_task: Task | None, message: str) -> str:
    if stub_task is None:
        return f"not done yet: {message}"
    what = f"task {stub_task.id} ({stub_task.title}) is not done yet — {stub_task.stub}."
    if test_task is not None and test_task.id != stub_task.id:
        what = f"this test of task {test_task.id} needs " + what
    return f"{what} Hint: uv run kata hint {stub_task.id}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    config = item.config
    with _one_line_for_a_stub(item, call):
        report = yield
    # Under --require-kafka a skipped kafka test proves nothing, so it counts as a failure.
    if report.skipped and item.get_closest_marker("kafka") and config.getoption("--require-kafka"):
        report.outcome = "failed"
        report.longrepr = f"kafka test skipped under --require-kafka: {report.longrepr}"
    manifest = _manifest(config)
    if manifest is None:
        return report
    test_task = manifest.task_for_test(item.path)
    report.kata_task = test_task.id if test_task else None  # type: ignore[attr-defined]
    if test_task is not None and config.getoption("--solutions"):
        _no_escape_for_solutions(item, report)
    if not (report.failed and call.excinfo):
        return report
    stub = not_done(call.excinfo.value, manifest)
    if stub is None:
        return report
    stub_task = _known_task(manifest, stub.task_id)
    report.kata_not_implemented = True  # type: ignore[attr-defined]
    report.kata_stub_task = stub.task_id  # type: ignore[attr-defined]
    report.kata_summary = f"NotImplementedError: {stub.message}"  # type: ignore[attr-defined]
    if stub.task_id:
        config.stash[_STATE].not_done_tasks.add(stub.task_id)
    if not _wants_tracebacks(config):
        report.longrepr = _not_done_line(test_task, stub_task, stub.message)
        # Captured logs would repeat the traceback (Faust logs the crashed agent).
        report.sections = []
    return report


@contextmanager
def _one_line_for_a_stub(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """While pytest builds the report of a stub's failure, skip building its traceback.

    The traceback of a stub failure is replaced by one line anyway, and building it (reading
    and parsing the source of every frame) was most of a phase run's time on the stubs.
    """
    manifest = _manifest(item.config)
    stub = None
    if manifest is not None and call.excinfo is not None and not _wants_tracebacks(item.config):
        stub = not_done(call.excinfo.value, manifest)
    if stub is None:
        yield
        return
    line = _not_done_line(
        manifest.task_for_test(item.path) if manifest else None,
        _known_task(manifest, stub.task_id) if manifest else None,
        stub.message,
    )

    def one_line(excinfo: object, style: object = None) -> str:
        return line

    # Instance attributes shadow the methods for this one report only.
    names = ("repr_failure", "_repr_failure_py")
    for name in names:
        setattr(item, name, one_line)
    try:
        yield
    finally:
        for name in names:
            delattr(item, name)


def _no_escape_for_solutions(item: pytest.Item, report: pytest.TestReport) -> None:
    # Against the reference every kata test must pass: a skip or xfail would hide a red test.
    # (A kafka test without a broker may skip, unless --require-kafka already failed it.)
    escaped = hasattr(report, "wasxfail") or (
        report.skipped and not item.get_closest_marker("kafka")
    )
    if escaped:
        why = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        report.outcome = "failed"
        report.longrepr = f"kata test {why} under --solutions (must pass): {report.longrepr}"
        if hasattr(report, "wasxfail"):
            del report.wasxfail


def _known_task(manifest: Manifest, task_id: str | None) -> Task | None:
    if task_id is None:
        return None
    try:
        return manifest.task(task_id)
    except ManifestError:
        return None


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    manifest = _manifest(collector.config)
    call = report.__dict__.get("call")  # set by pytest's own hook for this very purpose
    if not (report.failed and manifest is not None and call is not None and call.excinfo):
        return report
    test_task = manifest.task_for_test(collector.path)
    report.kata_task = test_task.id if test_task else None  # type: ignore[attr-defined]
    failure = import_failure(call.excinfo.value, manifest)
    if failure is None:
        return report
    report.kata_import_error_path = failure.path  # type: ignore[attr-defined]
    report.kata_summary = failure.describe()  # type: ignore[attr-defined]
    if not _wants_tracebacks(collector.config):
        source = linecache.getline(str(manifest.root / failure.path), failure.line or 0).rstrip()
        lines = [failure.describe()]
        if source:
            lines.append(f"    {source.strip()}")
        lines.append("Fix that file and re-run (pytest -v shows the full traceback).")
        report.longrepr = "\n".join(lines)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    state = terminalreporter.config.stash.get(_STATE, None)
    if state is None or state.manifest is None or not state.not_done_tasks:
        return
    first = min(state.not_done_tasks, key=task_sort_key)
    task = _known_task(state.manifest, first)
    waiting = ", ".join(sorted(state.not_done_tasks, key=task_sort_key))
    terminalreporter.write_sep("-", "kata")
    terminalreporter.write_line(f"tasks not done yet: {waiting}")
    if task is not None:
        terminalreporter.write_line(
            f"next: task {task.id} — {task.title} — edit {task.stub} (uv run kata hint {task.id})"
        )


@pytest.fixture
async def faust_app() -> AsyncIterator[faust.App]:
    """The pipeline's Faust app, ready for ``run_agent`` on this test's event loop, tables empty."""
    from app.faust_app import (
        app,
    )  # imported here: faust is slow to import and most runs need it late
    from kata_engine.testing import prepared_app

    async with prepared_app(app) as ready:
        yield ready


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    """Bootstrap servers (``host:port``) of a real Apache Kafka broker for this test session."""
    from kata_engine.broker import BrokerUnavailable, provide_broker

    def announce(line: str) -> None:
        # Straight to the terminal: starting a broker takes a while, and says so up front.
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else nullcontext():
            print(f"\n{line}", file=sys.stderr, flush=True)

    with ExitStack() as stack:
        try:
            broker = stack.enter_context(provide_broker(announce))
        except BrokerUnavailable as exc:
            reason = str(exc) if str(exc).startswith("no broker") else f"no Kafka broker: {exc}"
            if request.config.getoption("--require-kafka"):
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)
        yield broker.bootstrap_servers


@dataclass(frozen=True)
class KafkaIsolation:
    """Names that belong to one test only, so tests never see each other's data."""

    bootstrap_servers: str
    app_id: str
    topic_prefix: str

    def topic(self, name: str) -> str:
        """A topic name unique to this test."""
        return f"{self.topic_prefix}{name}"

    def env(self) -> dict[str, str]:
        """The environment for a worker or CLI subprocess that should use these names."""
        return {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "KATA_APP_ID": self.app_id,
            "KATA_TOPIC_PREFIX": self.topic_prefix,
        }


@pytest.fixture
def kafka_isolation(kafka_bootstrap: str) -> KafkaIsolation:
    token = uuid.uuid4().hex[:10]
    return KafkaIsolation(kafka_bootstrap, f"kata-test-{token}", f"t-{token}-")
