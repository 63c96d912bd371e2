"""Task 2.2: classify a temperature.

An enriched reading carries a status: normal, warning or critical. The thresholds come from
app/config.py (30.0 and 40.0 °C unless KATA_WARNING_TEMPERATURE / KATA_CRITICAL_TEMPERATURE
say otherwise), and a reading exactly AT a threshold already counts.

Run: ``uv run pytest katas/phase2/test_classify.py``
"""

from __future__ import annotations

from app.config import Status, settings


def classify(
    temperature: float,
    warning: float = settings.warning_temperature,
    critical: float = settings.critical_temperature,
) -> Status:
    """The status of a temperature: critical at or above ``critical``, warning at or above
    ``warning``, normal below."""
    raise NotImplementedError("task 2.2: classify a temperature — run `uv run kata hint 2.2`")
