"""Task 2.2: classify a temperature (reference solution)."""

from __future__ import annotations

from app.config import Status, settings


def classify(
    temperature: float,
    warning: float = settings.warning_temperature,
    critical: float = settings.critical_temperature,
) -> Status:
    """The status of a temperature: critical at or above ``critical``, warning at or above
    ``warning``, normal below."""
    if temperature >= critical:
        return Status.CRITICAL
    if temperature >= warning:
        return Status.WARNING
    return Status.NORMAL
