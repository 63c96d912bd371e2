"""The repository's shape: one home per concern, imports in one direction.

- ``katas/`` holds only the learner's work (README, info.toml, phaseN/ folders).
- ``app`` (the provided service) imports neither ``katas`` nor ``kata_engine``; ``app.main`` loads
  the phase modules by name, which is the one place the service meets the katas.
- ``kata_engine`` never imports ``katas`` or ``tests``; nothing outside ``tests`` imports ``tests``.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "kata_engine", "katas", "solutions")


def imported_roots(path: Path) -> set[str]:
    """Top-level packages that ``path`` imports, at any depth (lazy imports count too)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def python_files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


FORBIDDEN = {
    "app": {"katas", "kata_engine", "solutions", "tests"},
    "kata_engine": {"katas", "solutions", "tests"},
    "katas": {"solutions", "tests"},
    "solutions": {"tests"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_run_one_way(package: str) -> None:
    wrong = {
        str(path.relative_to(REPO)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in python_files(package)
        if imported_roots(path) & FORBIDDEN[package]
    }
    assert not wrong, f"{package} must not import {sorted(FORBIDDEN[package])}; found: {wrong}"


def test_katas_holds_only_the_learners_work() -> None:
    allowed = {"README.md", "info.toml", "__init__.py", "__pycache__"}
    extra = sorted(
        entry.name
        for entry in (REPO / "katas").iterdir()
        if entry.name not in allowed and not (entry.is_dir() and entry.name.startswith("phase"))
    )
    assert not extra, f"katas/ is the learner's alone; move these to app/ or kata_engine/: {extra}"


@pytest.mark.parametrize("package", ["app", "kata_engine"])
def test_every_provided_module_imports(package: str) -> None:
    root = importlib.import_module(package)
    failed: dict[str, str] = {}
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if info.name.endswith("__main__") or info.name == "app.main":
            continue  # entry points: they run on import (app.main is exercised by the worker tests)
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # report every failure, not only the first
            failed[info.name] = f"{type(exc).__name__}: {exc}"
    assert not failed, f"modules of {package} that fail to import: {failed}"
