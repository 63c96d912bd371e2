"""rich draws bars and colours on a terminal only: pipes and CI logs get plain text."""

from __future__ import annotations

import io

from rich.console import Console

from app.producer import ProgressBar
from kata_engine.manifest import load
from kata_engine.progress import State, TaskProgress, render, show

ESCAPE = "\x1b"


def some_progress() -> tuple[object, list[TaskProgress]]:
    manifest = load(check_files=False)
    progress = [
        TaskProgress(task, State.DONE if n % 2 else State.TODO, 1, 2, "")
        for n, task in enumerate(manifest.tasks())
    ]
    return manifest, progress


def test_kata_status_prints_the_plain_lines_when_not_on_a_terminal() -> None:
    manifest, progress = some_progress()
    out = io.StringIO()
    show(Console(file=out), manifest, progress)  # type: ignore[arg-type]
    plain = "\n".join(render(manifest, progress)) + "\n"  # type: ignore[arg-type]
    assert ESCAPE not in out.getvalue(), f"kata status wrote escape codes to a pipe: {out!r}"
    assert out.getvalue() == plain, (
        "off a terminal kata status must print exactly its plain lines; got:\n" + out.getvalue()
    )


def test_kata_status_draws_rich_bars_on_a_terminal() -> None:
    manifest, progress = some_progress()
    out = io.StringIO()
    show(Console(file=out, force_terminal=True, width=200), manifest, progress)  # type: ignore[arg-type]
    text = out.getvalue()
    assert ESCAPE in text and "━" in text, f"on a terminal the bars should be rich's: {text!r}"
    assert "[####" not in text, "on a terminal the hand-drawn # bars should be gone"


def test_the_producer_bar_draws_nothing_off_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar(100, Console(file=out))
    bar.update(50)
    bar.update(100)
    bar.close()
    assert out.getvalue() == "", f"the producer's bar wrote into a pipe: {out.getvalue()!r}"


def test_the_producer_bar_draws_on_a_terminal_and_erases_itself() -> None:
    out = io.StringIO()
    bar = ProgressBar(100, Console(file=out, force_terminal=True))
    bar.update(100)
    bar.close()
    text = out.getvalue()
    assert "100/100" in text and ESCAPE in text, f"the bar should draw on a terminal: {text!r}"
