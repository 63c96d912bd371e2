"""The key questions of info.toml live in the phase READMEs: an invitation, then a fold."""

from __future__ import annotations

from pathlib import Path

from kata_engine.manifest import key_question_problems, load


def test_every_key_question_is_in_its_readme_with_an_invitation_and_a_folded_answer() -> None:
    manifest = load(check_files=False)
    assert all(phase.key_questions for phase in manifest.phases), "every phase has a key question"
    problems = key_question_problems(manifest)
    assert not problems, "key questions out of step with the READMEs:\n" + "\n".join(problems)


def test_a_question_missing_from_the_readme_is_reported(tmp_path: Path) -> None:
    real = load(check_files=False)
    for phase in real.phases:
        folder = tmp_path / phase.folder
        folder.mkdir(parents=True)
        text = (real.root / phase.folder / "README.md").read_text(encoding="utf-8")
        # The first phase loses its invitation, the others their heading.
        if phase is real.phases[0]:
            text = text.replace("Write your own answer down first", "Here is the answer")
        else:
            text = text.replace("## Key question:", "## Question:")
        (folder / "README.md").write_text(text, encoding="utf-8")
    copy = type(real)(tmp_path, real.phases)

    problems = key_question_problems(copy)

    assert len(problems) == sum(len(phase.key_questions) for phase in real.phases), problems
    assert "does not invite an answer" in problems[0]
    assert all("has no heading" in problem for problem in problems[1:])
