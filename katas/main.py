"""The worker entry point (provided): ``uv run faust -A katas.main worker -l info``.

It loads the Faust app from katas.app and imports the phase modules that define agents, tables,
timers and pages, so they register on the app before the worker starts.

Environment:
  KATA_PHASES  which phases to load, comma-separated (``2`` or ``2,3``); default: every phase
               listed in PHASE_MODULES whose folder exists. Unknown or missing phases are an error.
  KATA_IMPL    ``solutions`` runs the reference solutions instead of your katas/phaseN modules.
  everything in katas/config.py (broker, app id, topic prefix, web port, ...).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from katas.app import app

__all__ = ["PHASE_MODULES", "app", "load_phases", "selected_phases"]

# The modules that register something on the app, per phase (phase 1 registers nothing).
PHASE_MODULES: dict[int, tuple[str, ...]] = {
    2: ("katas.phase2.enrichment",),
}

_KATAS = Path(__file__).resolve().parent


def selected_phases(value: str | None = None) -> list[int]:
    """The phases named by ``KATA_PHASES`` (or ``value``); raise ValueError if it is bad."""
    raw = os.environ.get("KATA_PHASES", "") if value is None else value
    available = [phase for phase in PHASE_MODULES if (_KATAS / f"phase{phase}").is_dir()]
    if not raw.strip():
        return available
    chosen: list[int] = []
    for part in raw.split(","):
        text = part.strip()
        if not text.isdigit() or int(text) not in available:
            known = ", ".join(str(phase) for phase in available)
            raise ValueError(f"KATA_PHASES={raw!r}: {text!r} is not one of the phases {known}")
        chosen.append(int(text))
    return sorted(set(chosen))


def load_phases(phases: list[int]) -> None:
    """Import the modules of ``phases`` so their agents register on ``app``."""
    for phase in phases:
        for module in PHASE_MODULES[phase]:
            importlib.import_module(module)  # through the switch: yours, or solutions/


try:
    _phases = selected_phases()
except ValueError as error:  # a usage error: one line, no traceback
    print(f"katas.main: {error}", file=sys.stderr)
    raise SystemExit(2) from None
load_phases(_phases)
