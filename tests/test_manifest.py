"""The manifest: the loader rejects broken manifests, and the shipped tree matches it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kata_engine.manifest import Manifest, ManifestError, Task, load, stub_task_id

GOOD_TASK = """
[[phase.task]]
id = "1.1"
title = "Greet"
stub = "katas/phase1/greet.py"
tests = ["katas/phase1/test_greet.py"]
hints = ["Strings can be returned.", "Return a string.", "return 'hello'"]
"""
PHASE = """
[[phase]]
id = 1
title = "Greetings"
folder = "katas/phase1"
"""


def write_tree(root: Path, manifest_text: str, files: tuple[str, ...] = ()) -> Path:
    (root / "katas").mkdir(parents=True, exist_ok=True)
    (root / "katas" / "info.toml").write_text(manifest_text, encoding="utf-8")
    for name in ("katas/phase1/greet.py", "katas/phase1/test_greet.py", *files):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("", encoding="utf-8")
    return root


def test_a_good_manifest_loads_into_tasks_in_order(tmp_path: Path) -> None:
    second = GOOD_TASK.replace('"1.1"', '"1.2"').replace("greet", "shout")
    root = write_tree(tmp_path, PHASE + GOOD_TASK + second, ("katas/phase1/shout.py",))
    (root / "katas/phase1/test_shout.py").write_text("", encoding="utf-8")

    manifest = load(root)

    assert [task.id for task in manifest.tasks()] == ["1.1", "1.2"]
    task = manifest.task("1.2")
    assert task.solution == "solutions/phase1/shout.py"
    assert task.module == "katas.phase1.shout"
    assert manifest.task_for_test("katas/phase1/test_shout.py::test_x[1]") == task
    assert manifest.task_for_test(root / "katas/phase1/test_greet.py") == manifest.task("1.1")
    assert manifest.task_for_test("tests/test_other.py::test_y") is None
    assert manifest.order_key("katas/phase1/test_shout.py") > manifest.order_key(
        "katas/phase1/test_greet.py"
    )
    assert manifest.order_key("tests/test_other.py") > manifest.order_key(
        "katas/phase1/test_shout.py"
    )


@pytest.mark.parametrize(
    ("broken", "complaint"),
    [
        (PHASE + GOOD_TASK.replace("hints = [", "hint = ["), "'hints' must be a list"),
        (PHASE + GOOD_TASK.replace('"Return a string."', '"  "'), "list of non-empty strings"),
        (PHASE + GOOD_TASK.replace('"Return a string.", ', ""), "has 2 level(s)"),
        (PHASE + GOOD_TASK.replace("test_greet.py", "test_gone.py"), "test_gone.py does not exist"),
        (PHASE + GOOD_TASK + GOOD_TASK, "appears twice"),
        (PHASE + GOOD_TASK.replace('"1.1"', '"1-1"'), "must be a string like '2.2'"),
        (PHASE + GOOD_TASK.replace('"1.1"', '"2.1"'), "must start with its phase number"),
        (PHASE + GOOD_TASK.replace('stub = "katas/phase1/', 'stub = "katas/'), "must be a .py"),
        (PHASE.replace("katas/phase1", "katas/one") + GOOD_TASK, "folder must be"),
        (PHASE, "no [[task]] entries"),
        ("", "no [[phase]] entries"),
        ("[[phase]\n", "not valid TOML"),
    ],
)
def test_a_broken_manifest_is_rejected_with_a_clear_error(
    tmp_path: Path, broken: str, complaint: str
) -> None:
    write_tree(tmp_path, broken)

    with pytest.raises(ManifestError, match=re.escape(complaint)):
        load(tmp_path)


def test_one_test_module_cannot_belong_to_two_tasks(tmp_path: Path) -> None:
    second = GOOD_TASK.replace('"1.1"', '"1.2"').replace(
        '"katas/phase1/greet.py"', '"katas/phase1/b.py"'
    )
    write_tree(tmp_path, PHASE + GOOD_TASK + second, ("katas/phase1/b.py",))

    with pytest.raises(ManifestError, match=re.escape("belongs to task 1.1 and 1.2")):
        load(tmp_path)


@pytest.mark.parametrize(
    ("message", "task_id"),
    [
        ("task 2.2: classify a temperature — run `uv run kata hint 2.2`", "2.2"),
        ("task 10.12: later", "10.12"),
        ("classify a temperature", None),
        ("the task 2.2: is mentioned later", None),
    ],
)
def test_the_stub_message_format_names_its_task(message: str, task_id: str | None) -> None:
    assert stub_task_id(message) == task_id


# --- the shipped tree ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load(check_files=False)  # the tests below name what is missing


def test_every_task_has_real_hints(manifest: Manifest) -> None:
    unfinished = [
        f"{task.id} level {level}"
        for task in manifest.tasks()
        for level, hint in enumerate(task.hints, start=1)
        if "TODO" in hint or len(hint) < 20
    ]
    assert not unfinished, f"hints that are placeholders: {unfinished}"


def test_every_stub_has_a_solution_twin_and_every_solution_a_stub(manifest: Manifest) -> None:
    missing = manifest.missing_files()
    assert not missing, f"named in the manifest but absent: {missing}"
    twins = {task.solution for task in manifest.tasks()}
    solutions = {
        path.relative_to(manifest.root).as_posix()
        for path in (manifest.root / "solutions").glob("phase*/*.py")
        if path.name != "__init__.py"
    }
    assert solutions - twins == set(), "solution modules that are no task's stub"


def test_every_kata_test_module_belongs_to_exactly_one_task(manifest: Manifest) -> None:
    on_disk = {
        path.relative_to(manifest.root).as_posix()
        for path in (manifest.root / "katas").glob("phase*/test_*.py")
    }
    owned = [test for task in manifest.tasks() for test in task.tests]
    assert len(owned) == len(set(owned)), "a test module is listed under two tasks"
    assert on_disk - set(owned) == set(), "orphan test modules (add them to a task)"


def test_every_phase_folder_is_in_the_manifest(manifest: Manifest) -> None:
    folders = {p.relative_to(manifest.root).as_posix() for p in manifest.root.glob("katas/phase*")}
    assert folders == {phase.folder for phase in manifest.phases}


def stub_task_ids(task: Task, root: Path) -> set[str | None]:
    """The task ids named by every ``raise NotImplementedError("...")`` in the stub."""
    tree = ast.parse((root / task.stub).read_text(encoding="utf-8"))
    named: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            call = node.exc
            if isinstance(call.func, ast.Name) and call.func.id == "NotImplementedError":
                first = call.args[0] if call.args else None
                text = first.value if isinstance(first, ast.Constant) else None
                named.add(stub_task_id(text) if isinstance(text, str) else None)
    return named


def test_every_stub_raises_not_implemented_naming_its_own_task(manifest: Manifest) -> None:
    wrong = {
        task.stub: ids
        for task in manifest.tasks()
        if (manifest.root / task.stub).is_file()  # a missing stub fails the twin test above
        and (ids := stub_task_ids(task, manifest.root)) != {task.id}
    }
    assert not wrong, (
        f"stubs must raise NotImplementedError('task N.M: ...') for their task: {wrong}"
    )
