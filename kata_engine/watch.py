"""``kata watch``: re-run a phase's tests whenever a .py file under katas/ is saved.

It waits for file-system events (watchfiles: inotify, FSEvents, ...). Where events never arrive,
as in some mounted or network folders, ``kata watch --poll`` (or KATA_WATCH_POLL=1) compares
modification times every second instead; so does a machine where watchfiles cannot start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

POLL_SECONDS = 1.0
DEBOUNCE_MS = 300  # editors save in several steps: one run per save, not one per step


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


READY, CHANGED = "ready", "changed"  # what the change iterators yield
READY_CHECK_MS = 200  # how soon the event watcher reports that it is registered


def polled_changes(folder: Path, stop: threading.Event) -> Iterator[str]:
    """Yield READY once the baseline is taken, then CHANGED per change of a .py file."""
    previous = snapshot(folder)
    yield READY
    while not stop.wait(POLL_SECONDS):
        current = snapshot(folder)
        if current != previous:
            previous = current
            yield CHANGED


def event_changes(folder: Path, stop: threading.Event) -> Iterator[str]:
    """Yield READY once the file-event watch is registered, then CHANGED per batch of events."""
    from watchfiles import PythonFilter, watch

    ready = False
    # yield_on_timeout: an empty batch after READY_CHECK_MS proves the watch is registered.
    for batch in watch(
        folder,
        watch_filter=PythonFilter(),
        debounce=DEBOUNCE_MS,
        stop_event=stop,
        rust_timeout=READY_CHECK_MS,
        yield_on_timeout=True,
    ):
        if not ready:
            ready = True
            yield READY
        if batch:
            yield CHANGED


def changes(folder: Path, stop: threading.Event, *, poll: bool) -> tuple[str, Iterator[str]]:
    """How changes are detected (for the user) and the iterator that reports them."""
    if not poll:
        try:
            import watchfiles  # noqa: F401  (only to learn whether it can be used)
        except ImportError:
            poll = True
    if poll:
        return f"polling every {POLL_SECONDS:g} s", polled_changes(folder, stop)
    return "file events", event_changes(folder, stop)


def poll_requested() -> bool:
    return os.environ.get("KATA_WATCH_POLL", "").strip() not in ("", "0")


def watch(
    root: Path,
    command: Sequence[str],
    *,
    poll: bool = False,
    announce: Callable[[str], None] = print,
    rounds: int | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run ``command`` now and after every change under ``root/katas``; Ctrl-C ends the loop.

    "watching ... for changes" is announced once the watcher has its baseline (polling) or is
    registered (file events): a save after that line is never missed. ``rounds`` bounds the
    number of runs and ``stop`` ends the wait early (tests use both).
    """
    folder = root / "katas"
    stop = stop or threading.Event()
    how, events = changes(folder, stop, poll=poll)
    runs = 0
    ready = False
    while True:
        announce(f"$ {' '.join(command)}")
        subprocess.run(command, cwd=root, check=False)
        runs += 1
        if rounds is not None and runs >= rounds:
            return
        if ready:
            announce(f"watching {folder} for changes ({how}; Ctrl-C stops)")
        while True:
            try:
                event = next(events, None)
            except OSError as exc:  # e.g. the system's inotify watch limit is reached
                how, events = changes(folder, stop, poll=True)
                announce(f"file events are unavailable ({exc}); {how} instead")
                ready = False
                continue
            if event is None:
                return  # stopped
            if event == READY:
                # Announced only now: a save from here on is seen (tests wait for this line).
                ready = True
                announce(f"watching {folder} for changes ({how}; Ctrl-C stops)")
                continue
            break  # CHANGED


def pytest_command(targets: Sequence[str]) -> list[str]:
    """The tests to re-run: -x stops at the first failure, which is always the next thing to do
    (tests run in task order), so every save shows one focused message, not a wall of red."""
    return [sys.executable, "-m", "pytest", *targets, "-m", "not kafka", "-q", "-x"]
