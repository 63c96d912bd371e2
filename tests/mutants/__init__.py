"""Mutants: plausible wrong solutions that the kata tests must catch.

A mutant patches a *solution* module in place (``setattr`` on a ``solutions.phaseN.mod``
attribute), then the task's tests run against it with
``pytest --solutions -p tests.mutants.plugin --mutant NAME``. The integrity
suite (``tests/test_integrity.py``) proves that every mutant makes the tests named in
``caught_by`` fail, and that every task has at least one mutant.

Each ``tests/mutants/phaseN.py`` exports ``MUTANTS: list[Mutant]``::

    from tests.mutants import Mutant, replace

    def _warning_above_threshold() -> None:
        from solutions.phase2 import classify  # import inside apply, never at the top

        def wrong(temperature: float, settings: Settings) -> Status:
            ...  # the plausible mistake

        replace(classify, "classify", wrong)

    MUTANTS = [
        Mutant(
            name="classify-warning-off-by-one",
            task="2.2",
            description="warning starts above the threshold instead of at it",
            apply=_warning_above_threshold,
            caught_by=("test_classify.py::test_exact_at_thresholds",),
        ),
    ]

Rules for ``apply``: import solution modules inside it (the switch must be set before any
``katas.phaseN`` module is imported, and this registry is imported by the integrity tests in
learner mode too); patch attributes, never edit files; it runs in ``pytest_configure``, before
collection, so test modules that ``from katas.phaseN.mod import name`` see the patched name.
Mutant runs use ``-m "not kafka"``: every mutant must be caught by a non-kafka test.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TASK_ID = re.compile(r"^\d+\.\d+$")
_REGISTRY_MODULE = re.compile(r"^phase\d+$")


@dataclass(frozen=True)
class Mutant:
    """One known-wrong change to a solution, and the tests that must catch it."""

    name: str  # kebab-case, unique: "classify-warning-off-by-one"
    task: str  # the task whose solution is mutated: "2.2"
    description: str  # what is wrong, in a few words
    apply: Callable[[], None]  # patches solutions.phaseN.mod attributes in place
    caught_by: tuple[str, ...]  # node-id substrings of tests that must fail

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"mutant name {self.name!r} must be kebab-case")
        if not _TASK_ID.match(self.task):
            raise ValueError(f"mutant {self.name}: task {self.task!r} must look like '2.2'")
        if not self.caught_by or isinstance(self.caught_by, str):
            raise ValueError(f"mutant {self.name}: caught_by must be a non-empty tuple of strings")


class MutantRegistryError(Exception):
    """The registry is inconsistent (duplicate names, a module without MUTANTS)."""


def replace(module: ModuleType | str, attribute: str, replacement: object) -> None:
    """Set ``module.attribute = replacement``; the attribute must already exist (catches typos)."""
    target = importlib.import_module(module) if isinstance(module, str) else module
    if not target.__name__.startswith("solutions."):
        raise ValueError(f"mutants patch solutions only, not {target.__name__}")
    if not hasattr(target, attribute):
        raise AttributeError(f"{target.__name__} has no attribute {attribute!r} to mutate")
    setattr(target, attribute, replacement)


def discover() -> dict[str, Mutant]:
    """All mutants of all ``tests/mutants/phaseN.py`` modules, by name."""
    found: dict[str, Mutant] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if not _REGISTRY_MODULE.match(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        mutants = getattr(module, "MUTANTS", None)
        if not isinstance(mutants, list):
            raise MutantRegistryError(f"{module.__name__} must export MUTANTS: list[Mutant]")
        for mutant in mutants:
            if not isinstance(mutant, Mutant):
                raise MutantRegistryError(f"{module.__name__}.MUTANTS holds {mutant!r}")
            if mutant.name in found:
                raise MutantRegistryError(f"duplicate mutant name {mutant.name!r}")
            found[mutant.name] = mutant
    return found


def apply_mutant(name: str) -> None:
    """Apply the named mutant (the switch must already route katas.phaseN to solutions).

    Barrier mutants (tests/mutants/barrier.py: the transport with one race's fix removed) are
    applied the same way.
    """
    from tests.mutants.barrier import BARRIER_MUTANTS

    barrier = {mutant.name: mutant for mutant in BARRIER_MUTANTS}
    registry = discover()
    if name in barrier:
        barrier[name].apply()
        return
    if name not in registry:
        known = ", ".join(sorted([*registry, *barrier])) or "none"
        raise KeyError(f"unknown mutant {name!r} (known: {known})")
    registry[name].apply()


MUTANTS: dict[str, Mutant]  # every registered mutant by name (discovered on first access)
_cache: dict[str, Mutant] | None = None


def __getattr__(attribute: str) -> Any:
    # MUTANTS is computed on first use, so importing Mutant from a phase module is never circular.
    global _cache
    if attribute == "MUTANTS":
        if _cache is None:
            _cache = discover()
        return _cache
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
