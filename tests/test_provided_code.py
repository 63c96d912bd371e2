"""Provided code is the same in a stub and in its reference solution.

Several stubs carry code the learner does not write (a Record class, a table, a helper, the
provided half of a module): the solution repeats it. Nothing else keeps the two copies equal, and
a copy that drifts means the tests prove a solution that runs other provided code than the
learner's. Provided = every top-level class, function, assignment and call of the stub that is not
one of the task's stubs (a function whose body, docstring aside, raises the task's
NotImplementedError, possibly inside its ``async for``); each must have a twin of the same name
in the solution with the same code (docstrings and comments may differ).
"""

from __future__ import annotations

import ast
from functools import cache

import pytest

from kata_engine.manifest import Manifest, Task, load, stub_task_id

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Assign | ast.AnnAssign


@cache
def manifest() -> Manifest:
    return load(check_files=False)


def _raises_not_implemented(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.Raise) or not isinstance(statement.exc, ast.Call):
        return False
    arguments = statement.exc.args
    return (
        isinstance(statement.exc.func, ast.Name)
        and statement.exc.func.id == "NotImplementedError"
        and len(arguments) == 1
        and isinstance(arguments[0], ast.Constant)
        and isinstance(arguments[0].value, str)
        and stub_task_id(arguments[0].value) is not None
    )


def is_stub(node: ast.stmt) -> bool:
    """A function the learner writes: its body raises the task's NotImplementedError."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    return any(
        _raises_not_implemented(inner) for inner in ast.walk(node) if isinstance(inner, ast.stmt)
    )


def name_of(node: ast.stmt) -> str | None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return target.id if isinstance(target, ast.Name) and target.id != "_" else None
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):  # app.timer(...)(f)
        return f"the call {ast.unparse(node)}"
    return None


def without_docstrings(node: ast.AST) -> str:
    copy = ast.parse(ast.unparse(node))
    for inner in ast.walk(copy):
        body = getattr(inner, "body", None)
        if (
            isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module)
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            inner.body = body[1:] or [ast.Pass()]
    return ast.unparse(copy)


def definitions(path: str) -> dict[str, ast.stmt]:
    tree = ast.parse((manifest().root / path).read_text(encoding="utf-8"))
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        name = name_of(node)
        if name is not None:
            found[name] = node
    return found


def provided(task: Task) -> dict[str, ast.stmt]:
    return {name: node for name, node in definitions(task.stub).items() if not is_stub(node)}


@pytest.mark.parametrize("task", list(manifest().tasks()), ids=lambda task: task.id)
def test_provided_code_is_the_same_in_the_stub_and_the_solution(task: Task) -> None:
    solution = definitions(task.solution)
    missing = sorted(set(provided(task)) - set(solution))
    assert not missing, (
        f"{task.stub} provides {missing}, which {task.solution} does not define: the tests "
        "would prove the solution with other provided code than the learner runs"
    )
    differ = [
        name
        for name, node in provided(task).items()
        if without_docstrings(node) != without_docstrings(solution[name])
    ]
    assert not differ, (
        f"the provided {differ} differ between {task.stub} and {task.solution}: copy the "
        "provided code from one to the other (only docstrings and comments may differ)"
    )


def test_the_check_sees_provided_code_and_stubs() -> None:
    # Guards the test above against comparing nothing: phase 4's windowing stub provides
    # classes and tables and leaves the agents to write.
    task = manifest().task("4.5")
    names = set(provided(task))
    stubs = {name for name, node in definitions(task.stub).items() if is_stub(node)}
    assert {"SensorWindows", "window_state", "window_horizon"} <= names, names
    assert stubs and not stubs & names, (stubs, names)
