"""Whether a kata module is still a stub: it raises its task's NotImplementedError (provided).

Also which phases a worker runs when ``KATA_PHASES`` does not say: the built ones.

Stubs raise ``NotImplementedError("task N.M: ...")`` (katas/README.md). The worker (app.main) and
``kata bench`` read a module's source with this one test, without importing it: importing a phase
module registers its agents.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
from pathlib import Path
from typing import NamedTuple

# Stubs a worker runs without: while task 2.5's module is a stub, app.main runs task 2.4's
# per-event agent instead (KATA_ENRICHMENT=auto). The kata plugin's fail-fast check skips them.
OPTIONAL_FOR_THE_WORKER = frozenset({"katas/phase2/batching.py"})


_TASK = re.compile(r"task (\d+\.\d+):")


def stub_tasks(source: str) -> list[str]:
    """The task ids of every ``raise NotImplementedError("task N.M: ...")`` left in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # not a stub any more; importing it will say what is wrong
    found: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
            continue
        call = node.exc
        if isinstance(call.func, ast.Name) and call.func.id == "NotImplementedError" and call.args:
            message = call.args[0]
            if isinstance(message, ast.Constant) and (match := _TASK.match(str(message.value))):
                found.append(match.group(1))
    return found


def raises_stub_error(source: str, task_id: str) -> bool:
    """Whether ``source`` still has a ``raise NotImplementedError("task <task_id>: ...")``."""
    return task_id in stub_tasks(source)


def first_stub(package: Path, repository: Path) -> tuple[str, str] | None:
    """``(task id, file)`` of the lowest-numbered stub left in a phase's package, or None.

    Test files and OPTIONAL_FOR_THE_WORKER are left out: a worker does not run them. ``file`` is
    relative to ``repository`` ("katas/phase3/lifecycle.py").
    """
    found: list[tuple[tuple[int, ...], str, str]] = []
    for path in sorted(package.glob("*.py")):
        relative = path.relative_to(repository).as_posix()
        if path.name.startswith("test_") or relative in OPTIONAL_FOR_THE_WORKER:
            continue
        for task in stub_tasks(path.read_text(encoding="utf-8")):
            found.append((tuple(int(n) for n in task.split(".")), task, relative))
    if not found:
        return None
    _, task, relative = min(found)
    return task, relative


class FirstStub(NamedTuple):
    """The first stub that keeps a phase out of the worker."""

    phase: int
    task: str
    path: str  # "katas/phase3/lifecycle.py"


def default_phases(
    available: list[int], katas: Path | None = None
) -> tuple[list[int], FirstStub | None]:
    """The leading built phases of ``available``, and the first stub after them, if any.

    Each phase reads the topics the one before it writes, so the worker runs phases 2..k where
    k is the last phase before the first with a stub. The reference solutions have none.
    """
    if os.environ.get("KATA_IMPL", "").strip() == "solutions":
        return available, None
    if katas is None:
        spec = importlib.util.find_spec("katas")
        if spec is None or not spec.submodule_search_locations:
            return available, None
        katas = Path(next(iter(spec.submodule_search_locations)))
    built: list[int] = []
    for phase in available:
        stub = first_stub(katas / f"phase{phase}", katas.parent)
        if stub is not None:
            return built, FirstStub(phase, *stub)
        built.append(phase)
    return built, None
