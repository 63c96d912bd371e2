"""pytest plugin for mutant runs (maintainers): ``pytest -p tests.mutants.plugin --mutant NAME``.

It lives in tests/ because the mutants do: the kata engine knows nothing about them. The run
tests the reference solutions with the named mutant applied; ``tests/test_integrity.py`` starts it.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from kata_engine import switch
from tests.mutants import apply_mutant


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("kata").addoption(
        "--mutant",
        default=None,
        metavar="NAME",
        help="(maintainers) test the solutions with the named mutant applied",
    )


# A mutant run must give the same verdict every time: Hypothesis searches from a fixed seed and
# keeps no example database (a database shared between runs would make the result depend on
# what earlier runs found). A mutant that only a random search finds needs an @example instead.
MUTANT_PROFILE = "kata-mutant-run"
settings.register_profile(MUTANT_PROFILE, derandomize=True, database=None, print_blob=False)


@pytest.hookimpl(trylast=True)  # after the engine's plugin has read --solutions
def pytest_configure(config: pytest.Config) -> None:
    name = config.getoption("--mutant")
    if not name:
        return
    settings.load_profile(MUTANT_PROFILE)
    switch.use_solutions()
    try:
        apply_mutant(name)
    except KeyError as exc:
        raise pytest.UsageError(str(exc.args[0])) from None
