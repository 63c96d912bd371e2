"""docs/faust-behaviour.md names, for each fact, the test that pins it: those tests exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "faust-behaviour.md"
# `tests/x.py`, `katas/phase3/test_x.py::test_name`, or `::test_name` after one of those.
_REFERENCE = re.compile(r"`((?:tests|katas)/[\w/]+\.py)?(?:::(\w+))?`")


def test_every_test_the_doc_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing: list[str] = []
    named = 0
    module: Path | None = None
    for path, name in _REFERENCE.findall(text):
        if not path and not name:
            continue
        if path:
            module = ROOT / path
            named += 1
            if not module.is_file():
                missing.append(path)
                continue
        if name and module is not None and module.is_file():
            tree = ast.parse(module.read_text(encoding="utf-8"))
            defined = {
                n.name
                for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            }
            if name not in defined:
                missing.append(f"{module.relative_to(ROOT)}::{name}")
    assert named >= 10, f"the doc names only {named} test modules: the pattern is broken"
    assert not missing, f"docs/faust-behaviour.md names tests that do not exist: {missing}"
