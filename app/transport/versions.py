"""The version guard: exactly_once runs only on the faust-streaming and aiokafka it was proven on.

The transport's fixes (app/transport/races.py) override Faust's methods and read a few private
names (app/transport/private.py). A release that changes them could switch a fix off in silence,
and under exactly_once that means duplicates nobody sees. So with other versions than the pinned
ones, an exactly_once worker refuses to start with one line; an at_least_once worker starts, with
a warning (its fixes guard against losses and stalls, and a broken one shows as such).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

from faust.types.enums import ProcessingGuarantee

logger = logging.getLogger(__name__)

PINNED: Mapping[str, str] = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}


def installed_versions() -> dict[str, str]:
    """The installed version of each pinned distribution ("missing" when absent)."""
    found: dict[str, str] = {}
    for name in PINNED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found


def mismatch(installed: Mapping[str, str]) -> str | None:
    """``None`` when ``installed`` is the pinned set; otherwise what differs, in words."""
    wrong = [
        f"{name} {installed.get(name, 'missing')} (pinned {pinned})"
        for name, pinned in PINNED.items()
        if installed.get(name) != pinned
    ]
    return ", ".join(wrong) or None


def check_versions(
    guarantee: ProcessingGuarantee | str, installed: Mapping[str, str] | None = None
) -> None:
    """Refuse exactly_once (SystemExit, one line) or warn under at_least_once on a mismatch."""
    found = mismatch(installed_versions() if installed is None else installed)
    if found is None:
        return
    if ProcessingGuarantee(guarantee) == ProcessingGuarantee.EXACTLY_ONCE:
        print(
            f"app.main: exactly_once refused: installed {found}; the transport's fixes "
            "(app/transport) are proven only on the pinned versions: run `uv sync --locked`, "
            "or KATA_PROCESSING_GUARANTEE=at_least_once",
            file=sys.stderr,
        )
        raise SystemExit(2)
    logger.warning(
        "at_least_once on unpinned versions: installed %s; the transport's fixes are proven "
        "only on the pinned ones (run `uv sync --locked`)",
        found,
    )
