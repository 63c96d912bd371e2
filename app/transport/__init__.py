"""The Kafka transport of this service: Faust's aiokafka driver with its races fixed (provided).

Faust 0.15.3 loses, duplicates or stalls in ten races around its commits and its recovery, at a
takeover and at a stop; this project's crash test found them (tests/test_crash_exactly_once.py,
the phase 5 README).
The fixes live in Faust's own extension point, its transport:

- ``races``: one class per race (and for the takeover and the stop), with its number, its
  evidence and its fix;
- ``drivers``: the Consumer, Producer and Transport subclasses that Faust builds, which call them;
- ``private``: every private name of faust-streaming and aiokafka still read, in one place;
- ``versions``: exactly_once refuses other versions than the pinned ones;
- ``watchdog``: a worker whose commits stopped halts with one line;
- ``fastpath``: under at_least_once, a delivery loop with fewer tasks per record than Faust's.

An app uses it by its broker URL scheme: ``transport_url("kafka://host:9092")`` is
``katakafka://host:9092`` (registered under the ``faust.transports`` entry points in
pyproject.toml; app/faust_app.py does this).
"""

from __future__ import annotations

from app.transport.transactions import outputs_of

__all__ = ["SCHEME", "outputs_of", "transport_url"]

SCHEME = "katakafka"  # pyproject.toml: [project.entry-points."faust.transports"]


def transport_url(broker_url: str) -> str:
    """Faust's ``kafka://a:1;kafka://b:2`` with this transport's scheme instead."""
    urls = [url.strip() for url in broker_url.split(";") if url.strip()]
    return ";".join(f"{SCHEME}://{url.split('://', 1)[-1]}" for url in urls)
