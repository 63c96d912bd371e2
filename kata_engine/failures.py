"""Why a kata test failed, in terms a learner understands.

Two failures deserve one readable line instead of a traceback:
- a stub that still raises ``NotImplementedError("task 2.2: …")`` (the task is not done yet);
- a learner's module that cannot be imported (a syntax error, a bad import, a typo at top level).
"""

from __future__ import annotations

import ast
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kata_engine.manifest import Manifest, Task, stub_task_id

# A learner's module: katas/phaseN/<name>.py that is not a test module.
_LEARNER_MODULE = re.compile(r"^katas/phase\d+/(?!test_|conftest\.py$)[\w]+\.py$")


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then its causes and contexts (and the members of exception groups)."""
    pending, seen = [error], set[int]()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


@dataclass(frozen=True)
class NotDone:
    """A stub's NotImplementedError: which task's stub raised it."""

    task_id: str | None  # from the message ("task 2.2: …") or else from the raising file
    message: str


def not_done(error: BaseException, manifest: Manifest | None) -> NotDone | None:
    """The stub NotImplementedError behind ``error`` (agents may wrap it), if any."""
    for current in exception_chain(error):
        if isinstance(current, NotImplementedError):
            message = str(current)
            task_id = stub_task_id(message)
            if task_id is None and manifest is not None:
                task = _raising_task(current, manifest)
                task_id = task.id if task else None
            return NotDone(task_id, message)
    return None


def _raising_task(error: BaseException, manifest: Manifest) -> Task | None:
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        task = manifest.task_for_stub(frame.filename)
        if task is not None:
            return task
    return None


@dataclass(frozen=True)
class ImportFailure:
    """A learner's module that failed to import."""

    path: str  # repository-relative, e.g. "katas/phase2/classify.py"
    line: int | None
    summary: str  # "SyntaxError: invalid syntax"
    task: Task | None

    def describe(self) -> str:
        where = f"{self.path}, line {self.line}" if self.line else self.path
        owner = f" (task {self.task.id})" if self.task else ""
        return f"could not import your module {where}{owner}: {self.summary}"


def import_failure(error: BaseException, manifest: Manifest) -> ImportFailure | None:
    """The learner's module at fault when collecting a test module raised ``error``."""
    for current in exception_chain(error):
        summary = traceback.format_exception_only(current)[-1].strip()
        if isinstance(current, SyntaxError) and current.filename:
            found = _learner_path(current.filename, manifest)
            if found:
                detail = f"{type(current).__name__}: {current.msg}"
                return ImportFailure(found, current.lineno, detail, _owner(found, manifest))
        for frame in reversed(traceback.extract_tb(current.__traceback__)):
            found = _learner_path(frame.filename, manifest)
            if found:
                return ImportFailure(found, frame.lineno, summary, _owner(found, manifest))
    return None


def _learner_path(filename: str, manifest: Manifest) -> str | None:
    relative = manifest.relative(Path(filename))
    return relative if relative and _LEARNER_MODULE.match(relative) else None


def _owner(path: str, manifest: Manifest) -> Task | None:
    return next((task for task in manifest.tasks() if task.stub == path), None)


def untouched_stub_message(path: Path) -> str | None:
    """The message of the first function in ``path`` that is still its stub, else None.

    A function is still a stub when its body, after the docstring and any ``_ = ...`` line
    (the stubs name what the learner will need that way), is nothing but
    ``raise NotImplementedError("task N.M: ...")``, or an agent's ``async for`` (or ``for``)
    loop whose body is that raise (after provided assignments), and possibly the ``yield`` that
    makes it a generator. A file
    that cannot be read or parsed gives None: running the test then reports the real problem.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            message = _stub_body(node.body)
            if message is not None:
                return message
    return None


def _essential(body: list[ast.stmt]) -> list[ast.stmt]:
    """``body`` without its docstring, ``_ = ...`` lines and bare ``yield`` statements."""
    kept: list[ast.stmt] = []
    for index, statement in enumerate(body):
        if (
            index == 0
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
        ):
            continue  # the docstring
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and statement.targets[0].id == "_"
        ):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Yield):
            continue
        kept.append(statement)
    return kept


def _stub_body(body: list[ast.stmt]) -> str | None:
    essential = _essential(body)
    # Provided set-up lines before the agent's loop (task 2.5's ``batches = ...take_events(...)``)
    # leave the loop the stub.
    while len(essential) > 1 and isinstance(essential[0], ast.Assign):
        if not isinstance(essential[-1], ast.For | ast.AsyncFor):
            return None
        essential = essential[1:]
    if len(essential) != 1:
        return None
    statement = essential[0]
    if isinstance(statement, ast.For | ast.AsyncFor) and not statement.orelse:
        return _stub_body(statement.body)
    if not isinstance(statement, ast.Raise):
        return None
    raised = statement.exc
    if not (isinstance(raised, ast.Call) and isinstance(raised.func, ast.Name)):
        return None
    if raised.func.id != "NotImplementedError" or len(raised.args) != 1:
        return None
    argument = raised.args[0]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value if stub_task_id(argument.value) else None
    return None
