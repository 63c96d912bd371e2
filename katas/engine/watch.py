"""``kata watch``: re-run a phase's tests whenever a .py file under katas/ changes.

Polling every second keeps it dependency-free and works on every file system (including
mounted folders where inotify events never arrive).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

POLL_SECONDS = 1.0


def snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    """Modification time and size of every .py file under ``folder``."""
    stamps: dict[Path, tuple[int, int]] = {}
    for path in folder.rglob("*.py"):
        try:
            status = path.stat()
            stamps[path] = (status.st_mtime_ns, status.st_size)
        except FileNotFoundError:  # deleted between listing and stat (editors do this)
            continue
    return stamps


def watch(
    root: Path,
    command: Sequence[str],
    *,
    announce: Callable[[str], None] = print,
    rounds: int | None = None,
) -> None:
    """Run ``command`` now and after every change under ``root/katas``; Ctrl-C ends the loop.

    ``rounds`` bounds the number of runs (tests use it); None means forever.
    """
    folder = root / "katas"
    runs = 0
    previous = snapshot(folder)
    while rounds is None or runs < rounds:
        announce(f"$ {' '.join(command)}")
        subprocess.run(command, cwd=root, check=False)
        runs += 1
        announce(f"watching {folder} for changes (polling every {POLL_SECONDS:g} s, Ctrl-C stops)")
        while rounds is None or runs < rounds:
            time.sleep(POLL_SECONDS)
            current = snapshot(folder)
            if current != previous:
                previous = current
                break


def pytest_command(targets: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", *targets, "-m", "not kafka", "-q"]
