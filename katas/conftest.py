"""Fixtures for the kata tests (provided): the harness lives in katas/testing.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import faust
import pytest

from katas.testing import prepared_app


@pytest.fixture
async def faust_app() -> AsyncIterator[faust.App]:
    """The pipeline's Faust app, ready for ``run_agent`` on this test's event loop, tables empty."""
    from katas.app import app

    async with prepared_app(app) as ready:
        yield ready
