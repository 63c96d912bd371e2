"""Find a stub as it was shipped, for ``kata reset``.

The shipped stub is the file as the repository you cloned has it: ``origin/HEAD`` (your own
commits live on your branch, not there, so they never count as "shipped", and a stub the
maintainers improved since is restored in its newest form once you ``git fetch``). Without such a
remote, it is the file's content in the commit that first added it
(``git log --diff-filter=A --format=%H -- <path> | tail -1``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class NotShipped(Exception):
    """The stub cannot be found in git history (not a clone, or the file was never committed)."""


def _git(root: Path, *args: str) -> str:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise NotShipped("git is not installed, so the shipped stub cannot be found") from None
    if completed.returncode != 0:
        first_line = (completed.stderr.strip().splitlines() or ["unknown error"])[0]
        raise NotShipped(f"git {args[0]} failed: {first_line}")
    return completed.stdout


def shipped_stub(root: Path, path: str) -> str:
    """The content of ``path`` (repository-relative) as shipped: see the module docstring."""
    try:
        return _git(root, "show", f"refs/remotes/origin/HEAD:{path}")
    except NotShipped:
        pass  # no clone remote (or the file is new there): fall back to the first version
    commits = _git(root, "log", "--diff-filter=A", "--format=%H", "--", path).split()
    if not commits:
        raise NotShipped(f"{path} was never committed in {root}, so there is no shipped version")
    return _git(root, "show", f"{commits[-1]}:{path}")
