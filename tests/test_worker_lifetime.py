"""A worker subprocess never outlives the test process that started it (kata_engine/worker.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from kata_engine import worker

PARENT = """
import subprocess, sys
from kata_engine.worker import _die_with_parent
import os
child = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(120)"],
    start_new_session=True,
    preexec_fn=_die_with_parent(os.getpid()),
)
print(child.pid, flush=True)
sys.stdin.read()  # wait until killed
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by init) counts as gone.
    status = f"/proc/{pid}/status"
    if os.path.exists(status):
        with open(status) as lines:
            return not any(line.startswith("State:\tZ") for line in lines)
    return True


@pytest.mark.skipif(worker._PRCTL is None, reason="parent-death signals are Linux only")
def test_a_worker_dies_with_the_process_that_started_it() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child), "the child should run while its parent does"

    parent.send_signal(signal.SIGKILL)  # no finally, no atexit: only the kernel can help
    parent.wait(timeout=10)

    deadline = time.monotonic() + 10  # a guard against a hang, not a time assertion
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail(f"the child {child} outlived its SIGKILLed parent: it was orphaned")


def test_the_parent_death_hook_loads_nothing_in_the_child() -> None:
    # The hook is built in the parent around an already loaded prctl; the child only calls it.
    hook = worker._die_with_parent(os.getpid())
    if worker._PRCTL is None:
        assert hook is None
        return
    assert hook is not None
    names = hook.__code__.co_names
    assert "CDLL" not in names and "find_library" not in names, (
        f"the preexec hook refers to {names}; loading a library in a forked child is unsafe"
    )
