"""The last hint level of every task agrees with the reference solution, which the tests prove.

The last level is close to a recipe: a learner who types it in must get a solution, not a red
test that the hint contradicts (a log line without the part a test reads, a different
repartition name). Running prose as code is not possible, so this checks what a recipe can get
wrong without anyone noticing: every string literal in the last hint's code is a string
literal of the solution (log formats, topic names, levels: ``...`` stands for an elided part),
and every function it calls and every keyword argument it passes appear in the solution.
Local variable names and the order of statements are the learner's to choose.
"""

from __future__ import annotations

import builtins
import re
from functools import cache

import pytest

from kata_engine.manifest import Manifest, Task, load

# `code` or a fenced block in a hint.
_CODE = re.compile(r"```[a-z]*\n(.*?)```|`([^`]+)`", re.S)
_LITERAL = re.compile(r'(?<![\w\'])f?"((?:[^"\\\n]|\\.)*)"')
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_KEYWORD = re.compile(r"[(,]\s*([a-z_]\w*)=(?!=)")  # name=value inside a call, no spaces


@cache
def manifest() -> Manifest:
    return load(check_files=False)


def code_of(hint: str) -> list[str]:
    return [block or inline for block, inline in _CODE.findall(hint)]


def normalized(text: str) -> str:
    return " ".join(text.split())


def solution_literals(task: Task) -> set[str]:
    source = (manifest().root / task.solution).read_text(encoding="utf-8")
    return {normalized(literal) for literal in _LITERAL.findall(source)}


def literal_found(literal: str, known: set[str]) -> bool:
    pattern = re.compile(".*".join(re.escape(part) for part in normalized(literal).split("...")))
    return any(pattern.fullmatch(candidate) for candidate in known)


def names_of(snippets: list[str]) -> set[str]:
    names: set[str] = set()
    for snippet in snippets:
        without_strings = _LITERAL.sub('""', snippet)
        names |= set(_CALL.findall(without_strings)) | set(_KEYWORD.findall(without_strings))
    return {name for name in names if not hasattr(builtins, name)}


def tasks() -> list[Task]:
    return list(manifest().tasks())


@pytest.mark.parametrize("task", tasks(), ids=lambda task: task.id)
def test_the_last_hints_string_literals_are_the_solutions(task: Task) -> None:
    snippets = code_of(task.hints[-1])
    literals = [literal for snippet in snippets for literal in _LITERAL.findall(snippet)]
    known = solution_literals(task)
    missing = [literal for literal in literals if not literal_found(literal, known)]
    assert not missing, (
        f"the last hint of task {task.id} (kata hint {task.id} --level {len(task.hints)}) has "
        f"the string literals {missing}, which {task.solution} does not have: a learner who "
        "follows the hint writes something the tests may reject (e.g. a log line without the "
        "part they read). Make the hint and the solution agree"
    )


@pytest.mark.parametrize("task", tasks(), ids=lambda task: task.id)
def test_the_last_hints_calls_and_keywords_are_in_the_solution(task: Task) -> None:
    source = (manifest().root / task.solution).read_text(encoding="utf-8")
    names = names_of(code_of(task.hints[-1]))
    missing = sorted(name for name in names if not re.search(rf"\b{name}\b", source))
    assert not missing, (
        f"the last hint of task {task.id} calls or passes {missing}, which {task.solution} "
        "never uses: the hint describes another solution than the one the tests prove"
    )


def test_the_checks_see_the_hints_code() -> None:
    # Guards the checks above against finding nothing: the hints do hold code with literals.
    literals = [
        literal
        for task in tasks()
        for snippet in code_of(task.hints[-1])
        for literal in _LITERAL.findall(snippet)
    ]
    assert len(literals) >= 20, f"found only {literals} in the last hints: the parser is broken"
    assert literal_found(
        "recovered ... from the changelog; partitions %s of %s",
        {"recovered %d sensors (%d readings) from the changelog; partitions %s of %s"},
    )
    assert not literal_found(
        "recovered %d sensors (%d readings) from the changelog",
        {"recovered %d sensors (%d readings) from the changelog; partitions %s of %s"},
    ), "a literal that is only the start of the solution's must not count as found"
