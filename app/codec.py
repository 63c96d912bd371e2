"""The JSON codec of every model and table: orjson's speed, the standard library's reach (provided).

With orjson installed (this project asks for ``faust-streaming[orjson]``, Faust's own extra),
Faust's ``json`` codec encodes and decodes with orjson instead of the standard library: a
quarter less CPU per event in phase 2 (README, "Performance"). But orjson refuses some of what
the standard library accepts, and a refusal there is an event without an outcome:

- on the way out, a string with a lone surrogate (``"\\ud800"``; a dead letter's reason can
  quote one) and an integer beyond 64 bits raise ``orjson.JSONEncodeError``: the dead letter
  could not be written, and the worker would halt;
- on the way in, ``NaN``, ``Infinity`` and such integers raise ``orjson.JSONDecodeError``.

``PipelineJSON`` is Faust's codec with the standard library (as Faust uses it without orjson)
as the fallback for exactly those, so every value that was written before still is. The
fallback's output differs from orjson's only in form (``\\u`` escapes instead of UTF-8, ``1e+16``
instead of ``1e16``); a reader decodes both to the same value.

Faust loads codecs from the ``faust.codecs`` entry points and lets them replace its own by name:
pyproject.toml registers this one as ``json``, so Faust uses it wherever it asks for "json" (the
app's ``value_serializer``, every model's ``dumps``), in every process where this project is
installed. tests/test_codec.py proves both fallbacks and the registration.
"""

from __future__ import annotations

import json as stdlib_json
from typing import Any, override

import orjson
from faust.serializers import codecs
from faust.utils import json as faust_json
from mode.utils.compat import want_bytes, want_str


class PipelineJSON(codecs.json):
    """Faust's ``json`` codec (orjson), falling back to the standard library where orjson
    refuses a value."""

    @override
    def _dumps(self, s: Any) -> bytes:
        try:
            return super()._dumps(s)
        except orjson.JSONEncodeError:  # a lone surrogate, an integer beyond 64 bits
            return want_bytes(stdlib_dumps(s))

    @override
    def _loads(self, s: bytes) -> Any:
        try:
            return super()._loads(s)
        except orjson.JSONDecodeError:  # NaN, Infinity, an integer beyond 64 bits
            return stdlib_json.loads(want_str(s))


def stdlib_dumps(value: Any) -> str:
    """What Faust's ``json`` codec writes without orjson: compact, Faust's encoder."""
    return stdlib_json.dumps(value, cls=faust_json.JSONEncoder, separators=(",", ":"))
