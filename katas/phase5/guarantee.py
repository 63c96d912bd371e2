"""Task 5.1: run the pipeline exactly once.

Faust's switch is one setting, ``processing_guarantee``: ``at_least_once`` (the default: after a
crash, events are processed again and their outputs appear twice) or ``exactly_once`` (every
output, every table write and the consumed offsets go into Kafka transactions that commit
together, and the consumers read ``read_committed``). Phase 5 runs exactly_once, unless the
environment asks for the other one (the crash test in tests/ runs both).

You write:

- ``guarantee_from(env)``: ``ProcessingGuarantee.EXACTLY_ONCE`` when ``env`` has no (or a blank)
  ``KATA_PROCESSING_GUARANTEE``; otherwise the guarantee it names (``at_least_once`` or
  ``exactly_once``); anything else is a ``ValueError``.
- ``apply_guarantee(target, guarantee)``: set it on the app's configuration (``target.conf``)
  and return what the configuration now holds.
- ``commit_log()``: where to SEE the transactions. Start a worker with exactly_once, find the log
  level at which Faust logs each transactional commit, and the text those lines share; return
  ``(level, text)``, e.g. ``("info", "...")``. The text must be in the line Faust logs right
  after a transaction's commit succeeded, and in no other line of its Kafka driver (not the
  line about sending the offsets, not the one about starting the next transaction): the tests
  count the lines with your text as commits. The integration test starts a worker at your level
  and looks for your text. Where to look: the phase README, "Seeing the transactions".

Provided: ``configure`` (your two functions) and the call at import, before the worker starts.
What makes Faust's exactly_once exact here is the app's transport (app/transport, the README).

Run: ``uv run pytest katas/phase5/test_guarantee.py``
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import faust
from faust.types.enums import ProcessingGuarantee

from app.faust_app import app

GUARANTEE_VARIABLE = "KATA_PROCESSING_GUARANTEE"


def guarantee_from(env: Mapping[str, str]) -> ProcessingGuarantee:
    """exactly_once, unless ``env`` names a guarantee (the crash test runs both)."""
    raise NotImplementedError("task 5.1: choose the guarantee — run `uv run kata hint 5.1`")


def apply_guarantee(target: faust.App, guarantee: ProcessingGuarantee) -> ProcessingGuarantee:
    """Set ``target``'s processing guarantee (before its worker starts); return what it holds."""
    raise NotImplementedError("task 5.1: set the guarantee — run `uv run kata hint 5.1`")


def commit_log() -> tuple[str, str]:
    """The worker log level that shows the transactional commits, and text every such line has."""
    raise NotImplementedError("task 5.1: find the commit log lines — run `uv run kata hint 5.1`")


def configure(target: faust.App, env: Mapping[str, str]) -> ProcessingGuarantee:
    """Provided: your guarantee on ``target``.

    What makes Faust's exactly_once exact here is in the app's transport, in force under
    either guarantee (app/transport, the phase 5 README); app.main refuses exactly_once on
    other faust-streaming or aiokafka versions than the pinned ones.
    """
    return apply_guarantee(target, guarantee_from(env))


# At import, before the worker starts: Faust decides on transactions when the worker builds its
# consumer and producers, and never again. Until you write the task, the app keeps the guarantee
# of app/config.py.
try:
    GUARANTEE = configure(app, os.environ)
except NotImplementedError:
    GUARANTEE = ProcessingGuarantee(app.conf.processing_guarantee)
