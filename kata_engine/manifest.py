"""The kata manifest (``katas/info.toml``): phases and tasks in teaching order, as typed data.

The CLI (``kata status|hint|solution|reset``), the pytest plugin (test order, friendly failures)
and the integrity tests all read the manifest through :func:`load`.

Stub message format
-------------------
Every stub function raises ``NotImplementedError`` with a message that starts with its task id::

    raise NotImplementedError("task 2.2: classify the temperature — run `uv run kata hint 2.2`")

``task N.M:`` at the very start is what the plugin parses (:func:`stub_task_id`) to print
"task 2.2 (…) is not done yet" instead of a traceback; the integrity tests check that each stub
names its own task.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST_PATH = "katas/info.toml"
SOLUTIONS_FOLDER = "solutions"
MIN_HINT_LEVELS = 3

_TASK_ID = re.compile(r"^(\d+)\.(\d+)$")
_STUB_MESSAGE = re.compile(r"^task (\d+\.\d+):")
_PHASE_FOLDER = re.compile(r"^katas/phase(\d+)$")


class ManifestError(Exception):
    """``katas/info.toml`` is malformed; the message says where and how to fix it."""


def repository_root() -> Path:
    """The root of this repository (the folder that holds ``katas/`` and ``solutions/``)."""
    return Path(__file__).resolve().parents[1]


def stub_task_id(message: str) -> str | None:
    """The task id a stub's NotImplementedError message starts with, e.g. ``"2.2"``."""
    match = _STUB_MESSAGE.match(message.strip())
    return match[1] if match else None


def task_sort_key(task_id: str) -> tuple[int, int]:
    """``"2.10"`` sorts after ``"2.9"``."""
    match = _TASK_ID.match(task_id)
    if match is None:
        raise ValueError(f"task id {task_id!r} must look like '2.2'")
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class Task:
    """One kata task: a stub the learner edits and the test modules that prove it."""

    id: str
    title: str
    stub: str  # repository-relative path, e.g. "katas/phase2/classify.py"
    tests: tuple[str, ...]  # repository-relative test module paths
    hints: tuple[str, ...]  # level 1 (a nudge) first, the last close to a recipe
    phase: int

    @property
    def solution(self) -> str:
        """The reference implementation: the stub's path under ``solutions/``."""
        return str(PurePosixPath(SOLUTIONS_FOLDER, *PurePosixPath(self.stub).parts[1:]))

    @property
    def module(self) -> str:
        """The stub's import name, e.g. ``katas.phase2.classify``."""
        return str(PurePosixPath(self.stub).with_suffix("")).replace("/", ".")

    @property
    def name(self) -> str:
        """The stub's module name without its package, e.g. ``classify``."""
        return PurePosixPath(self.stub).stem


@dataclass(frozen=True)
class Phase:
    id: int
    title: str
    folder: str  # "katas/phase2"
    key_questions: tuple[str, ...]
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class Manifest:
    root: Path
    phases: tuple[Phase, ...]

    def tasks(self) -> Iterator[Task]:
        """Every task, in teaching order."""
        for phase in self.phases:
            yield from phase.tasks

    def task(self, task_id: str) -> Task:
        """The task with this id; ManifestError naming the known ids otherwise."""
        for task in self.tasks():
            if task.id == task_id:
                return task
        known = ", ".join(task.id for task in self.tasks())
        raise ManifestError(f"no task {task_id!r} (tasks: {known})")

    def phase(self, phase_id: int) -> Phase:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        known = ", ".join(str(phase.id) for phase in self.phases)
        raise ManifestError(f"no phase {phase_id} (phases: {known})")

    def relative(self, path: Path | str) -> str | None:
        """``path`` relative to the root in POSIX form, or None when it lies outside."""
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None

    def test_module(self, nodeid_or_path: str | Path) -> str | None:
        """The repository-relative test module of a node id (``path::name[param]``) or path."""
        path = Path(str(nodeid_or_path).split("::", 1)[0])
        return self.relative(path if path.is_absolute() else self.root / path)

    def task_for_test(self, nodeid_or_path: str | Path) -> Task | None:
        """The task a test belongs to, or None for a test outside the katas."""
        module = self.test_module(nodeid_or_path)
        return next((task for task in self.tasks() if module in task.tests), None)

    def task_for_stub(self, path: Path | str) -> Task | None:
        """The task whose stub (or its solution twin) lives at ``path``."""
        relative = self.relative(path)
        return next((t for t in self.tasks() if relative in (t.stub, t.solution)), None)

    def order_key(self, nodeid_or_path: str | Path) -> tuple[int, int, int]:
        """Sort key in teaching order: (0, task position, module position); others sort last."""
        module = self.test_module(nodeid_or_path)
        for position, task in enumerate(self.tasks()):
            if module in task.tests:
                return (0, position, task.tests.index(module))
        return (1, 0, 0)

    def missing_files(self) -> list[str]:
        """Stubs, solutions and test modules the manifest names but the tree lacks."""
        named = [path for task in self.tasks() for path in (task.stub, task.solution, *task.tests)]
        return [path for path in named if not (self.root / path).is_file()]


def load(root: Path | None = None, *, check_files: bool = True) -> Manifest:
    """Read and validate ``katas/info.toml`` under ``root`` (default: this repository).

    ``check_files`` also requires every stub and test module to exist (``kata reset`` turns it
    off, since the stub it restores may be missing).
    """
    root = (root or repository_root()).resolve()
    path = root / MANIFEST_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{MANIFEST_PATH} not found under {root}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{MANIFEST_PATH} is not valid TOML: {exc}") from None
    phases = tuple(_phase(raw, index) for index, raw in enumerate(_tables(data, "phase", "")))
    manifest = Manifest(root, phases)
    _check_unique(manifest)
    if check_files:
        for task in manifest.tasks():
            for needed in (task.stub, *task.tests):
                if not (root / needed).is_file():
                    raise ManifestError(f"task {task.id}: {needed} does not exist")
    return manifest


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ManifestError(f"{where}[[{key}]] must be an array of tables")
    if not raw:
        raise ManifestError(f"{where}no [[{key}]] entries")
    return raw


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{where}: '{key}' is missing or empty")
    return value.strip()


def _phase(raw: dict[str, Any], index: int) -> Phase:
    phase_id = raw.get("id")
    if not isinstance(phase_id, int) or isinstance(phase_id, bool) or phase_id < 1:
        raise ManifestError(f"phase #{index + 1}: 'id' must be a positive integer")
    where = f"phase {phase_id}"
    folder = _text(raw, "folder", where).rstrip("/")
    folder_match = _PHASE_FOLDER.match(folder)
    if folder_match is None or int(folder_match[1]) != phase_id:
        raise ManifestError(f"{where}: folder must be 'katas/phase{phase_id}', not {folder!r}")
    questions = raw.get("key_questions", [])
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise ManifestError(f"{where}: 'key_questions' must be a list of strings")
    tasks = tuple(_task(task, phase_id, folder) for task in _tables(raw, "task", f"{where}: "))
    return Phase(phase_id, _text(raw, "title", where), folder, tuple(questions), tasks)


def _task(raw: dict[str, Any], phase_id: int, folder: str) -> Task:
    task_id = raw.get("id")
    if not isinstance(task_id, str) or not _TASK_ID.match(task_id):
        raise ManifestError(f"phase {phase_id}: task id {task_id!r} must be a string like '2.2'")
    where = f"task {task_id}"
    if task_sort_key(task_id)[0] != phase_id:
        raise ManifestError(f"{where}: id must start with its phase number {phase_id}")
    stub = _text(raw, "stub", where)
    if not _is_module_in(stub, folder) or PurePosixPath(stub).name.startswith("test_"):
        raise ManifestError(f"{where}: stub {stub!r} must be a .py module directly in {folder}/")
    tests = raw.get("tests")
    if not isinstance(tests, list) or not tests or not all(isinstance(t, str) for t in tests):
        raise ManifestError(f"{where}: 'tests' must be a non-empty list of paths")
    for test in tests:
        if not _is_module_in(test, folder) or not PurePosixPath(test).name.startswith("test_"):
            raise ManifestError(f"{where}: test {test!r} must be {folder}/test_*.py")
    return Task(
        id=task_id,
        title=_text(raw, "title", where),
        stub=stub,
        tests=tuple(tests),
        hints=_hints(raw, where),
        phase=phase_id,
    )


def _hints(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    hints = raw.get("hints")
    if not isinstance(hints, list) or not all(isinstance(h, str) and h.strip() for h in hints):
        raise ManifestError(f"{where}: 'hints' must be a list of non-empty strings")
    if len(hints) < MIN_HINT_LEVELS:
        raise ManifestError(
            f"{where}: 'hints' has {len(hints)} level(s); give at least {MIN_HINT_LEVELS}"
            " (a nudge first, a recipe last)"
        )
    return tuple(hint.strip() for hint in hints)


def _is_module_in(path: str, folder: str) -> bool:
    pure = PurePosixPath(path)
    return str(pure.parent) == folder and pure.suffix == ".py"


def _check_unique(manifest: Manifest) -> None:
    seen_phases: set[int] = set()
    seen_tasks: set[str] = set()
    owner: dict[str, str] = {}
    for phase in manifest.phases:
        if phase.id in seen_phases:
            raise ManifestError(f"phase {phase.id} appears twice")
        seen_phases.add(phase.id)
        for task in phase.tasks:
            if task.id in seen_tasks:
                raise ManifestError(f"task {task.id} appears twice")
            seen_tasks.add(task.id)
            for path in (task.stub, *task.tests):
                if path in owner:
                    raise ManifestError(f"{path} belongs to task {owner[path]} and {task.id}")
                owner[path] = task.id
    ids = [phase.id for phase in manifest.phases]
    if ids != sorted(ids):
        raise ManifestError(f"phases must be in order, got {ids}")
    for phase in manifest.phases:
        keys = [task_sort_key(task.id) for task in phase.tasks]
        if keys != sorted(keys):
            raise ManifestError(f"phase {phase.id}: tasks must be in order")


KEY_QUESTION_INVITE = "Write your own answer down first"


def key_question_problems(manifest: Manifest) -> list[str]:
    """What is wrong with the phases' key questions, one sentence each (empty: all fine).

    The phase README holds each key question of ``info.toml`` as a ``## Key question: ...``
    heading, then an invitation to answer it (``Write your own answer down first ...``), then
    the answer inside a ``<details>`` fold.
    """
    problems: list[str] = []
    for phase in manifest.phases:
        readme_path = manifest.root / phase.folder / "README.md"
        readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
        where = f"{phase.folder}/README.md"
        for question in phase.key_questions:
            heading = f"## Key question: {question}\n"
            if heading not in readme:
                problems.append(f"{where} has no heading {heading.strip()!r}")
                continue
            section = readme.split(heading, 1)[1].split("\n## ", 1)[0]
            invite, fold = section.find(KEY_QUESTION_INVITE), section.find("<details>")
            if fold < 0 or "</details>" not in section:
                problems.append(f"{where}: the answer to {question!r} is not in a <details> fold")
            elif not 0 <= invite < fold:
                problems.append(
                    f"{where}: {question!r} does not invite an answer before its fold "
                    f"({KEY_QUESTION_INVITE!r} ...)"
                )
    return problems
