"""The kata engine (provided): the tooling around the katas, not part of the pipeline.

- ``manifest``, ``progress``, ``report``, ``runner``, ``failures``, ``shipped``: what ``kata``
  reads and runs (``katas/info.toml`` drives it)
- ``switch``         your ``katas/phaseN`` modules, or the reference ``solutions/``
- ``pytest_plugin``  teaching order, one-line "not done" failures, the broker fixtures
- ``cli``, ``watch`` the ``kata`` command
- ``broker``         the broker chain: an answering broker, Docker, or local jars; a cluster
- ``testing``        the Faust test harness the kata tests use (input list -> output list)
- ``worker``         a real Faust worker in a subprocess, and a read_committed reader, for tests
- ``demo``           ``kata demo``: the whole pipeline on a real broker, then a summary

Nothing in here is a kata; learners edit only the ``katas/phaseN/`` folders.
"""
