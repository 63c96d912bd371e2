"""The one "fail fast before a broker" mechanism recognises every shipped stub, and no solution.

The kata plugin checks, before a kafka test asks for a broker, that the test's task and every
task of the phases its workers load (``KATA_PHASES`` in the test module) are no longer stubs:
``untouched_stub_message`` reads each stub file. A stub form it missed (an agent's ``async for``
loop, a ``_ = ...`` line) would let a kafka test start a broker and a worker only to crash.
"""

from __future__ import annotations

import pytest

from kata_engine.failures import untouched_stub_message
from kata_engine.manifest import Task, load, stub_task_id

TASKS = list(load(check_files=False).tasks())


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.id)
def test_the_shipped_stub_is_recognised_and_the_solution_is_not(task: Task) -> None:
    root = load(check_files=False).root
    message = untouched_stub_message(root / task.stub)
    assert message is not None and stub_task_id(message) == task.id, (
        f"{task.stub} is shipped as a stub, but the fail-fast check found {message!r}: a kafka "
        "test of this task would ask for a broker and start a worker before failing"
    )
    solved = untouched_stub_message(root / task.solution)
    assert solved is None, f"{task.solution} is a solution, yet the check calls it a stub: {solved}"
