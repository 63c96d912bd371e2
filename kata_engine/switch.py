"""Which implementation runs: the learner's stubs (default) or the reference solutions.

Tests and the worker import ``katas.phaseN.<module>`` the ordinary way. When the switch is set
to ``solutions`` (``pytest --solutions``, or ``KATA_IMPL=solutions`` for the worker and the demo),
that import returns ``solutions.phaseN.<module>`` instead. There is no fallback: a learner's
module that fails to import fails loudly, and a solution module that is missing is an ImportError.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
from types import ModuleType

ENV_VAR = "KATA_IMPL"
LEARNER = "learner"
SOLUTIONS = "solutions"

# katas.phase2.enrichment -> redirected; katas.phase2.test_enrichment and katas.phase2 -> not.
_STUB_MODULE = re.compile(r"^katas\.(phase\d+)\.(?!test_|conftest$)(\w+)$")


def solution_name(module_name: str) -> str | None:
    """``solutions.phaseN.mod`` for a stub module name, None for anything else."""
    match = _STUB_MODULE.match(module_name)
    return f"solutions.{match[1]}.{match[2]}" if match else None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """Already executed under its own name by create_module."""


class _SolutionsFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        redirected = solution_name(fullname)
        if redirected is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(redirected))


class SwitchError(ValueError):
    """``KATA_IMPL`` holds something else than ``learner`` or ``solutions``; one line."""


def current() -> str:
    """``learner`` or ``solutions``, from the environment."""
    value = os.environ.get(ENV_VAR, LEARNER).strip() or LEARNER
    if value not in (LEARNER, SOLUTIONS):
        raise SwitchError(
            f"{ENV_VAR}={value!r} must be {LEARNER!r} (your code) or {SOLUTIONS!r} "
            f"(the reference), or unset"
        )
    return value


def use_solutions() -> None:
    """Route ``katas.phaseN.<module>`` imports to ``solutions``; child processes inherit it."""
    os.environ[ENV_VAR] = SOLUTIONS
    already = [name for name in sys.modules if solution_name(name)]
    if already:
        raise RuntimeError(f"switch set too late: {', '.join(already)} already imported")
    if not any(isinstance(finder, _SolutionsFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SolutionsFinder())


def install_from_env() -> None:
    """Apply ``KATA_IMPL`` from the environment (called when ``katas`` is imported).

    A bad value ends the process with one line on stderr and exit code 2: this runs on import,
    inside whatever entry point (the worker, a script), where a traceback would help nobody.
    """
    try:
        selected = current()
    except SwitchError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    if selected == SOLUTIONS:
        use_solutions()
