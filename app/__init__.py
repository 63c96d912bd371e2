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
- ``transport``  Faust's Kafka driver with its commit races fixed (phase 5 README), in force
                 under either guarantee; exactly_once only on the pinned faust and aiokafka
- ``broker_auth`` TLS/SASL credentials for an existing cluster, from ``config``

Nothing here imports the kata engine; only ``main`` loads your ``katas/phaseN`` modules, by name.
"""
