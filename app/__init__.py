"""The Sensor Metrics Pipeline service (provided): read it, don't edit it.

- ``config``     every setting, overridable by environment variables
- ``models``     the events: SensorReading, EnrichedReading, DeadLetter, WindowAggregate
- ``faust_app``  the Faust app and the pipeline's topics (phase modules register on it)
- ``main``       the worker entry point: ``uv run faust -A app.main worker -l info``
- ``catalogue``  the malformed-event kinds the producer can send
- ``producer``   ``uv run python -m app.producer [--count N] [--interval S] [--include-bad]``
- ``inspector``  ``uv run python -m app.inspector <topic> [--limit N]``
- ``cli_support`` one-line errors and exit codes shared by the command-line tools
- ``halt``       stops a worker without acknowledging the event it holds (phase 2, nothing vanishes)
- ``commit_barrier`` what Faust's exactly_once needs to be exact (phase 5 installs it)
- ``broker_auth`` TLS/SASL credentials for an existing cluster, from ``config``

Nothing here imports the kata engine; only ``main`` loads your ``katas/phaseN`` modules, by name.
"""
