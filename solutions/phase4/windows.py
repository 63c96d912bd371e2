"""Task 4.1: window arithmetic (reference solution)."""

from __future__ import annotations

import math
from typing import NamedTuple

from app.config import settings


class Window(NamedTuple):
    """One tumbling window: ``start <= timestamp < end``, ``end - start`` is the window size."""

    start: float  # epoch seconds, inclusive, a whole multiple of the size
    end: float  # epoch seconds, exclusive: the next window's start


def window_for(timestamp: float, size: float = settings.window_size) -> Window:
    """The one window of length ``size`` that holds ``timestamp`` (aligned to the epoch)."""
    index = math.floor(timestamp / size)
    # Floating-point division can land one window off right at a boundary: correct it, so
    # that start <= timestamp < end holds for every timestamp.
    if index * size > timestamp:
        index -= 1
    elif (index + 1) * size <= timestamp:
        index += 1
    return Window(index * size, (index + 1) * size)
