"""Sensor Metrics Pipeline katas.

Yours to edit: the ``phaseN/`` folders. Provided (read, don't edit): ``config``, ``models``,
``app``, ``main`` (the worker), ``producer``, ``inspector``, ``testing`` (the test harness) and
``engine/`` (the machinery behind ``kata`` and ``pytest --solutions``).
"""

from katas.engine import switch as _switch

_switch.install_from_env()
