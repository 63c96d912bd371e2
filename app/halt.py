"""Stop the worker at once, without acknowledging the event in hand (provided).

Faust acknowledges an event in a ``finally`` once the agent body is done with it, even when the
body raised (phase 2 README, "What Faust does with an event whose agent raised"). So an agent that
cannot write ANY outcome for an event (not even a dead letter) must not raise: it calls
``halt_worker``, which logs one line and ends the process before the ``finally`` can run. The
event's offset is not committed, and the next worker retries it.

The test harness (kata_engine.testing) replaces ``exit_process`` so that a halt becomes an
exception the test can see, instead of the end of the test run.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn

EXIT_CODE = 70  # EX_SOFTWARE: an internal error the operator must look at
logger = logging.getLogger(__name__)


def _exit_now(code: int, line: str) -> NoReturn:
    # os._exit, not sys.exit: no finally, no atexit, no clean shutdown that commits offsets.
    os._exit(code)


exit_process: Callable[[int, str], NoReturn] = _exit_now


def halt_worker(reason: str) -> NoReturn:
    """Log ``reason`` in one line and end the worker without acknowledging the current event."""
    halt(f"worker halted without acknowledging the event: {reason}")


def halt(line: str) -> NoReturn:
    """Log ``line`` and end the worker now: nothing after it is committed or acknowledged."""
    handlers = logging.getLogger().handlers
    if handlers:  # a worker has configured logging: the line goes to its log
        logger.critical(line)
        for handler in handlers:
            handler.flush()
    else:
        print(line, file=sys.stderr, flush=True)
    exit_process(EXIT_CODE, line)
