"""The kata engine (provided): implementation switch, manifest, broker chain, the ``kata`` CLI.

Nothing in here is a kata; learners edit only the ``katas/phaseN/`` folders.
"""
