"""``kata``: your progress through the katas, hints, solutions, resets and a local broker.

    uv run kata status [--with-kafka]   run the kata tests, show done / to do per task
                                        (--with-kafka: start a broker if none is running)
    uv run kata hint 2.2                the hint for a task
    uv run kata watch [2]               re-run a phase's tests on every save
    uv run kata solution 2.2            the reference solution, once your tests pass
    uv run kata reset 2.2 [--yes]       restore the stub as shipped
    uv run kata broker [--port 9092]    a local Apache Kafka broker (Java 17+), Ctrl-C stops it
                       [--nodes 3]      ... or a three-node cluster on 9092, 9093, 9094
    uv run kata demo [--mine]           the whole pipeline on a real broker, with a summary
               [--guarantee exactly_once] [--dashboard]
    uv run kata crash [--readings N]    your phases 2-5 under SIGKILL (exactly_once): a table
                                        of what each kill did, and which rule broke
    uv run kata bench 2 [--readings N]  your phase 2 agents' speed beside the reference

Errors are one line on stderr: exit 2 for a usage error, 1 for anything else.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from app.cli_support import port_number, positive_int
from kata_engine import switch
from kata_engine.broker import BrokerUnavailable
from kata_engine.broker.common import START_ENV, node_count
from kata_engine.manifest import Manifest, ManifestError, Task, load, repository_root
from kata_engine.progress import show, task_progress
from kata_engine.report import PASSED, SKIPPED
from kata_engine.runner import RunFailed, run_pytest
from kata_engine.shipped import NotShipped, shipped_stub
from kata_engine.watch import poll_requested, pytest_command, watch

USAGE_ERROR, RUNTIME_ERROR = 2, 1


class UsageError(Exception):
    """Bad arguments: exit 2."""


class CommandError(Exception):
    """The command could not do its job: exit 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line instead of argparse's usage block.
        raise UsageError(f"{message} (see: kata --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kata",
        description="Your progress through the Faust katas.",
        epilog="Docs: katas/README.md",
    )
    parser.add_argument(
        "--solutions",
        action="store_true",
        help="use the reference solutions instead of your code (maintainers)",
    )
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    status = commands.add_parser("status", help="run the kata tests and show your progress")
    status.add_argument(
        "--with-kafka",
        action="store_true",
        help="start a broker for the integration tests if none is running (Docker or Java 17+)",
    )
    hint = commands.add_parser("hint", help="show a hint for a task, one level at a time")
    hint.add_argument("task", help="task id, e.g. 2.2")
    hint.add_argument(
        "--level",
        type=int,
        default=1,
        help="1 = a nudge (default); each level says more; the last is close to a recipe",
    )
    watch_command = commands.add_parser("watch", help="re-run tests whenever you save a file")
    watch_command.add_argument("phase", nargs="?", type=int, help="phase number (default: all)")
    watch_command.add_argument(
        "--poll",
        action="store_true",
        help="compare file times every second instead of waiting for file events "
        "(for folders where events never arrive; or set KATA_WATCH_POLL=1)",
    )
    solution = commands.add_parser("solution", help="show the reference solution once you pass")
    solution.add_argument("task", help="task id, e.g. 2.2")
    reset = commands.add_parser("reset", help="restore a task's stub as shipped")
    reset.add_argument("task", help="task id, e.g. 2.2")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    broker = commands.add_parser("broker", help="run a local Apache Kafka broker (Java 17+)")
    broker.add_argument(
        "--port", type=port_number, default=9092, help="listener port (default 9092)"
    )
    broker.add_argument(
        "--nodes",
        type=node_count,
        default=1,
        help="1 (default) or more: a KRaft cluster on --port and the ports after it",
    )
    demo = commands.add_parser(
        "demo", help="run the whole pipeline on a real broker and show what it did"
    )
    demo.add_argument(
        "--mine", action="store_true", help="run your code instead of the reference solutions"
    )
    demo.add_argument(
        "--guarantee",
        choices=("at_least_once", "exactly_once"),
        default=None,
        help="processing guarantee (default: KATA_PROCESSING_GUARANTEE or at_least_once)",
    )
    demo.add_argument("--readings", type=positive_int, default=2000, help="readings to send (2000)")
    demo.add_argument(
        "--dashboard",
        action="store_true",
        help="print the live dashboard's URL; keep the worker up after the summary until Ctrl-C",
    )
    demo.add_argument(
        "--timeout",
        type=positive_int,
        default=90,
        help="seconds to wait for every outcome before giving up (90)",
    )
    crash = commands.add_parser(
        "crash",
        help="SIGKILL your pipeline (phases 2-5, exactly_once) three times and check the outputs",
    )
    crash.add_argument(
        "--readings", type=positive_int, default=6000, help="readings to send (6000)"
    )
    bench = commands.add_parser(
        "bench", help="measure your phase 2 agents (per event, batched) beside the reference"
    )
    bench.add_argument("phase", type=int, help="the phase to measure (2)")
    bench.add_argument(
        "--readings", type=positive_int, default=3000, help="readings per agent (3000)"
    )
    bench.add_argument(
        "--timeout", type=positive_int, default=60, help="seconds each agent may take (60)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        arguments = build_parser().parse_args(argv)
        return _dispatch(arguments)
    except UsageError as exc:
        _fail(exc)
        return USAGE_ERROR
    except (CommandError, ManifestError, RunFailed, NotShipped) as exc:
        _fail(exc)
        return RUNTIME_ERROR
    except KeyboardInterrupt:
        return 0


def _fail(error: Exception) -> None:
    # One line: a multi-line message (pytest's output tail) goes on after a space.
    message = " | ".join(line.strip() for line in str(error).splitlines() if line.strip())
    print(f"kata: {message}", file=sys.stderr)


def _dispatch(arguments: argparse.Namespace) -> int:
    root: Path = (arguments.root or repository_root()).resolve()
    try:
        solutions: bool = arguments.solutions or switch.current() == switch.SOLUTIONS
    except switch.SwitchError as exc:
        raise UsageError(str(exc)) from None
    command: str = arguments.command
    if command == "broker":
        return _broker(arguments.port, arguments.nodes)
    if command in ("demo", "crash"):
        _check_configuration()
    if command == "demo":
        return _demo(arguments)
    if command == "crash":
        return _crash(solutions, arguments.readings)
    if command == "bench":
        return _bench(arguments, root)
    manifest = load(root, check_files=command not in ("reset", "hint"))
    if command == "status":
        return _status(manifest, solutions, arguments.with_kafka)
    if command == "hint":
        return _hint(_task(manifest, arguments.task), arguments.level)
    if command == "watch":
        return _watch(manifest, solutions, arguments.phase, arguments.poll or poll_requested())
    if command == "solution":
        return _solution(manifest, solutions, _task(manifest, arguments.task))
    if command == "reset":
        return _reset(manifest, _task(manifest, arguments.task), arguments.yes)
    raise UsageError(f"unknown command {command!r}")


def _check_configuration() -> None:
    """The environment app/config.py reads, checked before anything imports it (one line)."""
    try:
        import app.config  # noqa: F401  # reads the environment at import
    except ValueError as exc:
        raise UsageError(f"bad configuration: {exc}") from None


def _task(manifest: Manifest, task_id: str) -> Task:
    try:
        return manifest.task(task_id)
    except ManifestError as exc:
        raise UsageError(str(exc)) from None


def _broker_env(may_start: bool) -> dict[str, str]:
    """The environment for a kata run: the integration tests use a broker that already runs
    (KAFKA_BOOTSTRAP_SERVERS, or one on 127.0.0.1:9092); ``may_start`` lets the chain start one."""
    env = dict(os.environ)
    if not may_start:
        env[START_ENV] = "0"
    return env


def _status(manifest: Manifest, solutions: bool, with_kafka: bool) -> int:
    targets = [test for task in manifest.tasks() for test in task.tests]
    which = "the reference solutions" if solutions else "your code"
    print(f"Running the kata tests against {which}...", flush=True)
    # Every test runs, the integration tests too: a task is done only when all of them pass.
    # Without a running broker they skip, and the task says so instead of counting as done.
    run = run_pytest(
        targets,
        root=manifest.root,
        solutions=solutions,
        markexpr=None,
        env=_broker_env(with_kafka),
        on_start=_ProgressLines(manifest),
    )
    print(flush=True)
    show(Console(), manifest, task_progress(manifest, run.report))
    return 0


class _ProgressLines:
    """While kata status runs: a line per task as its tests start, and one per test module.

    Integration tests take up to minutes each: the learner sees which one is running.
    """

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.started = time.monotonic()
        self.task: str | None = None
        self.module: str | None = None

    def __call__(self, nodeid: str) -> None:
        module = nodeid.partition("::")[0]
        task = self.manifest.task_for_test(module)
        elapsed = f"{time.monotonic() - self.started:5.0f} s"
        if task is not None and task.id != self.task:
            self.task, self.module = task.id, None
            print(f"{elapsed}  task {task.id}  {task.title}", flush=True)
        if module != self.module:
            self.module = module
            print(f"{elapsed}    {module}", flush=True)


def _hint(task: Task, level: int) -> int:
    levels = len(task.hints)
    if not 1 <= level <= levels:
        raise UsageError(f"task {task.id} has hint levels 1 to {levels}, not {level}")
    print(f"Task {task.id}: {task.title}")
    print(f"Edit:  {task.stub}")
    print(f"Tests: {', '.join(task.tests)}")
    print()
    print(f"Hint {level} of {levels}:")
    print(task.hints[level - 1])
    if level < levels:
        print()
        print(f"Still stuck? uv run kata hint {task.id} --level {level + 1}")
    return 0


def _watch(manifest: Manifest, solutions: bool, phase_id: int | None, poll: bool) -> int:
    if phase_id is None:
        targets = [phase.folder for phase in manifest.phases]
    else:
        try:
            targets = [manifest.phase(phase_id).folder]
        except ManifestError as exc:
            raise UsageError(str(exc)) from None
    command = pytest_command(targets) + (["--solutions"] if solutions else [])
    try:
        watch(manifest.root, command, poll=poll)
    except KeyboardInterrupt:
        print("\nstopped watching")
    return 0


def _solution(manifest: Manifest, solutions: bool, task: Task) -> int:
    # All of the task's tests, the integration tests included, against a running broker only.
    run = run_pytest(
        list(task.tests),
        root=manifest.root,
        solutions=solutions,
        markexpr=None,
        env=_broker_env(False),
    )
    records = run.report.for_task(task.id)
    errors = [error for error in run.report.collection_errors if error.task == task.id]
    if errors:
        raise CommandError(f"task {task.id} is not solved yet: {errors[0].message}")
    if not records:
        raise CommandError(f"task {task.id}: no test ran; nothing to unlock")
    not_run = [r for r in records if r.kafka and r.outcome == SKIPPED]
    failing = [r for r in records if r.outcome != PASSED and r not in not_run]
    if not failing and not_run:
        raise CommandError(
            f"task {task.id}: its unit tests pass, but {len(not_run)} integration test(s) did "
            "not run: they need a broker (docker compose up -d, or uv run kata broker in "
            "another terminal); the solution unlocks when they pass"
        )
    if failing:
        example = failing[0].nodeid.split("::", 1)[-1]
        raise CommandError(
            f"task {task.id} is not solved yet: {len(failing)} of {len(records)} tests still "
            f"fail (first: {example}); the solution unlocks when they pass"
        )
    print(f"# {task.solution} — reference solution of task {task.id}: {task.title}")
    print((manifest.root / task.solution).read_text(encoding="utf-8"), end="")
    return 0


def _reset(manifest: Manifest, task: Task, assume_yes: bool) -> int:
    shipped = shipped_stub(manifest.root, task.stub)
    target = manifest.root / task.stub
    if target.is_file() and target.read_text(encoding="utf-8") == shipped:
        print(f"{task.stub} is already as shipped; nothing to do")
        return 0
    if not assume_yes and not _confirm(f"Restore {task.stub} as shipped? Your changes are lost."):
        raise CommandError(f"{task.stub} left as it is")
    target.write_text(shipped, encoding="utf-8")
    print(f"restored {task.stub} as shipped (task {task.id})")
    return 0


def _confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:  # no terminal to ask: the safe answer
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


def _demo(arguments: argparse.Namespace) -> int:
    from kata_engine.demo import DemoError, Options, demo

    guarantee = (
        arguments.guarantee
        or os.environ.get("KATA_PROCESSING_GUARANTEE", "at_least_once").strip()
        or "at_least_once"
    )
    if guarantee not in ("at_least_once", "exactly_once"):
        raise UsageError(
            f"KATA_PROCESSING_GUARANTEE={guarantee!r} must be at_least_once or exactly_once"
        )
    options = Options(
        mine=arguments.mine,
        guarantee=guarantee,
        readings=arguments.readings,
        timeout=float(arguments.timeout),
        dashboard=arguments.dashboard,
    )
    try:
        return demo(options, Console(), Console(stderr=True))
    except DemoError as exc:
        raise CommandError(str(exc)) from None


def _crash(solutions: bool, readings: int) -> int:
    from kata_engine.crash import CrashError, crash, meeting_line, table

    which = "the reference solutions" if solutions else "your code"
    print(f"kata crash: {which}, phases 2-5, exactly_once, {readings} readings, 3 SIGKILLs")
    started = time.monotonic()
    try:
        meeting, verdict = crash(solutions, readings, lambda line: print(line, flush=True))
    except (CrashError, BrokerUnavailable) as exc:
        raise CommandError(str(exc)) from None
    print()
    print(meeting_line(meeting))
    print("stage 2:")
    for line in table(verdict):
        print(line)
    failures = [f"stage 1: {f}" for f in meeting.failures()]
    failures += [f"stage 2: {f}" for f in verdict.failures()]
    for failure in failures:
        print(f"FAILED: {failure}")
    print(
        f"{'all accounted for, nothing twice' if not failures else 'not exactly once'}; "
        f"{time.monotonic() - started:.0f} s"
    )
    return 0 if not failures else RUNTIME_ERROR


def _bench(arguments: argparse.Namespace, root: Path) -> int:
    from kata_engine.bench import BENCHED_PHASES, BenchError, bench

    if arguments.phase not in BENCHED_PHASES:
        raise UsageError(f"kata bench measures phase 2 only, not phase {arguments.phase}")
    try:
        return bench(
            arguments.phase,
            arguments.readings,
            float(arguments.timeout),
            Console(),
            Console(stderr=True),
            root,
        )
    except BenchError as exc:
        raise CommandError(str(exc)) from None


def _broker(port: int, nodes: int) -> int:
    from kata_engine.broker import serve  # lazy: the broker pulls in more than the other commands

    if port + nodes - 1 > 65535:
        raise UsageError(f"--nodes {nodes} from --port {port} goes past port 65535")
    return serve(port=port, nodes=nodes)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
