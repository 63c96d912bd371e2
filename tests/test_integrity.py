"""The katas prove themselves: stubs are red for the right reason, solutions are green,
and every mutant (a plausible wrong solution) is caught by the task's tests.

Each check runs pytest in a subprocess with the switch set explicitly (``kata_engine.runner``),
so the learner-mode run never inherits ``--solutions`` from this maintainer run. They are
maintainer checks: they run under ``pytest --solutions`` (CI) and skip in a learner's run,
whose stubs are meant to change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest

import app.transport.races
from kata_engine.manifest import Manifest, load, task_sort_key
from kata_engine.report import FAILED, PASSED, OutcomeRecord
from kata_engine.runner import PytestRun, run_pytest
from tests.mutants import MUTANTS, Mutant
from tests.mutants.barrier import BARRIER_MUTANTS, BARRIER_TESTS, BarrierMutant

CONCURRENT_RUNS = 2  # the machines that run this have two cores


@pytest.fixture(autouse=True)
def maintainer_run_only(request: pytest.FixtureRequest) -> None:
    if not request.config.getoption("--solutions"):
        pytest.skip("integrity checks run in the maintainer loop: pytest --solutions")


@cache
def manifest() -> Manifest:
    return load(check_files=False)


def kata_test_modules() -> list[str]:
    # A module the manifest names but the tree lacks fails tests/test_manifest.py instead.
    named = [test for task in manifest().tasks() for test in task.tests]
    return [test for test in named if (manifest().root / test).is_file()]


def describe(records: list[OutcomeRecord]) -> str:
    return "\n".join(f"  {r.nodeid}: {r.outcome} {r.message}" for r in records)


def assert_red_for_the_stubs_reason(run: PytestRun) -> None:
    report = run.report
    assert not report.collection_errors, f"collection errors: {report.collection_errors}"
    assert report.tests, f"no kata test ran:\n{run.output[-2000:]}"
    not_red = [r for r in report.tests if r.outcome != FAILED or not r.not_implemented]
    assert not not_red, "tests that do not fail with a stub's NotImplementedError:\n" + describe(
        not_red
    )
    # A test may stop at an earlier task's stub (it uses that task); never at a later one's.
    later = [
        r
        for r in report.tests
        if r.task is None
        or r.stub_task is None
        or task_sort_key(r.stub_task) > task_sort_key(r.task)
    ]
    assert not later, "tests stopped by an unknown or later task's stub:\n" + describe(later)


@pytest.fixture(scope="module")
def stubs_run() -> PytestRun:
    return run_pytest(kata_test_modules(), root=manifest().root, markexpr="not kafka")


def test_every_kata_test_fails_against_the_stubs_for_the_stubs_reason(
    stubs_run: PytestRun,
) -> None:
    assert_red_for_the_stubs_reason(stubs_run)


def test_every_task_has_a_test_that_runs_without_a_broker(stubs_run: PytestRun) -> None:
    tested = {record.task for record in stubs_run.report.tests}
    untested = [task.id for task in manifest().tasks() if task.id not in tested]
    # Mutants run with -m "not kafka": a task proven only by kafka tests cannot catch them.
    assert not untested, f"tasks with no non-kafka test: {untested}"


def test_each_task_is_red_with_only_its_own_stub_in_place() -> None:
    # Every other module is the reference solution, so what fails is this task and nothing else:
    # a test that only passed through another task's stub would show up here.
    def run_alone(task_id: str) -> PytestRun:
        task = manifest().task(task_id)
        return run_pytest(
            list(task.tests),
            root=manifest().root,
            markexpr="not kafka",
            extra_args=["--only-stub", task_id],
        )

    task_ids = [task.id for task in manifest().tasks()]
    with ThreadPoolExecutor(max_workers=CONCURRENT_RUNS) as pool:
        runs = dict(zip(task_ids, pool.map(run_alone, task_ids), strict=True))
    for task_id, run in runs.items():
        assert_red_for_the_stubs_reason(run)
        wrong = [r for r in run.report.tests if r.stub_task != task_id]
        assert not wrong, f"task {task_id} alone is not what fails:\n" + describe(wrong)


def test_kafka_kata_tests_fail_against_the_stubs(kafka_bootstrap: str) -> None:
    # Kafka kata tests are designed to fail fast on stubs; the timeout catches one that hangs.
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    run = run_pytest(
        kata_test_modules(), root=manifest().root, markexpr="kafka", env=env, timeout=300
    )
    if not run.report.tests and not run.report.collection_errors:
        pytest.skip("no kata test is marked kafka yet")
    assert_red_for_the_stubs_reason(run)


def test_every_kata_test_passes_against_the_solutions() -> None:
    # The CI run itself runs katas/ with --solutions, where the plugin turns a skipped or
    # xfailed kata test into a failure; this re-run proves that the non-kafka part is green
    # even when someone runs only tests/.
    run = run_pytest(kata_test_modules(), root=manifest().root, solutions=True)
    report = run.report
    assert not report.collection_errors, f"collection errors: {report.collection_errors}"
    not_green = [r for r in report.tests if r.outcome != PASSED]
    assert report.tests and not not_green, "not green:\n" + describe(not_green)


# --- mutants ------------------------------------------------------------------------------------


def test_every_task_has_a_mutant() -> None:
    covered = {mutant.task for mutant in MUTANTS.values()}
    missing = [task.id for task in manifest().tasks() if task.id not in covered]
    assert not missing, f"tasks without a mutant in tests/mutants/phaseN.py: {missing}"
    unknown = sorted(covered - {task.id for task in manifest().tasks()})
    assert not unknown, f"mutants for tasks the manifest does not know: {unknown}"


def mutant_targets(mutant: Mutant) -> list[str]:
    """The task's test modules, plus any other module a ``caught_by`` entry names."""
    targets = list(manifest().task(mutant.task).tests)
    for expected in mutant.caught_by:
        module = expected.split("::", 1)[0]
        targets += [m for m in kata_test_modules() if m.endswith(module) and m not in targets]
    return targets


def run_mutant(mutant: Mutant) -> PytestRun:
    return run_pytest(
        mutant_targets(mutant),
        root=manifest().root,
        solutions=True,
        extra_args=["-p", "tests.mutants.plugin", f"--mutant={mutant.name}"],
    )


@pytest.fixture(scope="module")
def mutant_runs(request: pytest.FixtureRequest) -> Iterator[dict[str, PytestRun]]:
    # Every selected mutant once, two subprocesses at a time; each parametrized test reads
    # its own result.
    mutants = [
        MUTANTS[item.callspec.id]  # the parametrize id is the mutant's name
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_the_mutant_is_caught"
        and hasattr(item, "callspec")
    ]
    with ThreadPoolExecutor(max_workers=CONCURRENT_RUNS) as pool:
        yield dict(zip((m.name for m in mutants), pool.map(run_mutant, mutants), strict=True))


@pytest.mark.parametrize("mutant", list(MUTANTS.values()), ids=lambda mutant: mutant.name)
def test_the_mutant_is_caught(mutant: Mutant, mutant_runs: dict[str, PytestRun]) -> None:
    report = mutant_runs[mutant.name].report
    assert not report.collection_errors, f"collection errors: {report.collection_errors}"
    failed = [r for r in report.tests if r.outcome in (FAILED, "error")]
    assert failed, f"mutant {mutant.name} ({mutant.description}) survived: every test passed"
    unfinished = [r for r in failed if r.not_implemented]
    assert not unfinished, "a mutant is wrong, not unfinished:\n" + describe(unfinished)
    for expected in mutant.caught_by:
        assert any(expected in r.nodeid for r in failed), (
            f"mutant {mutant.name}: no failing test matches {expected!r}; failing:\n"
            + describe(failed)
        )


# --- barrier mutants: the transport with one race's fix removed ---------------------------------


def test_every_race_has_a_barrier_mutant() -> None:
    races = {mutant.race for mutant in BARRIER_MUTANTS}
    numbered = {re.fullmatch(r"Race(\d+)\w*", name) for name in vars(app.transport.races)}
    expected = {match.group(1) for match in numbered if match} | {
        "takeover",
        "final commit",
        "shutdown",
    }
    assert races >= expected, f"races without a barrier mutant: {sorted(expected - races)}"


@pytest.fixture(scope="module")
def barrier_mutant_runs() -> dict[str, PytestRun]:
    def run(mutant: BarrierMutant) -> PytestRun:
        # Only the tests that must catch it: each run starts a Python with Faust, once.
        targets = [f"{BARRIER_TESTS.rsplit('/', 1)[0]}/{test}" for test in mutant.caught_by]
        return run_pytest(
            targets,
            root=manifest().root,
            solutions=True,
            extra_args=["-p", "tests.mutants.plugin", f"--mutant={mutant.name}"],
        )

    with ThreadPoolExecutor(max_workers=CONCURRENT_RUNS) as pool:
        runs = pool.map(run, BARRIER_MUTANTS)
        return dict(zip((m.name for m in BARRIER_MUTANTS), runs, strict=True))


@pytest.mark.parametrize("mutant", BARRIER_MUTANTS, ids=lambda mutant: mutant.name)
def test_the_barrier_mutant_is_caught(
    mutant: BarrierMutant, barrier_mutant_runs: dict[str, PytestRun]
) -> None:
    report = barrier_mutant_runs[mutant.name].report
    assert not report.collection_errors, f"collection errors: {report.collection_errors}"
    failed = [r for r in report.tests if r.outcome in (FAILED, "error")]
    assert failed, f"barrier mutant {mutant.name} ({mutant.description}) survived"
    for expected in mutant.caught_by:
        assert any(expected in r.nodeid for r in failed), (
            f"barrier mutant {mutant.name} (race {mutant.race}): no failing test matches "
            f"{expected!r}; failing:\n" + describe(failed)
        )
