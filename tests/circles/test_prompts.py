"""The circle prompts file: every prompt is short, fits a button, and mistakes are clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from rpbot.safeguarding import default_screener
from rpbot.services.circles import circle_data, default_prompts, load_prompts, parse_circle


def test_the_shipped_prompts_are_plain_and_safe() -> None:
    prompts = default_prompts().prompts
    assert len(prompts) >= 4
    screener = default_screener()
    for prompt in prompts:
        assert len(prompt.text) <= 60, prompt.id  # shown whole on its button
        for words in (prompt.text, prompt.child or ""):
            assert not screener.screen(words, sender="parent").concern, words


def test_a_broken_prompts_file_says_where(tmp_path: Path) -> None:
    bad = tmp_path / "en.yaml"
    bad.write_text("prompts:\n  - id: a\n    kind: chat\n    text: hi\n    colour: red\n")
    with pytest.raises(ValueError, match=r"en.yaml: prompts.0.kind") as caught:
        load_prompts(bad)
    assert "prompts.0.colour" in str(caught.value)
    bad.write_text(
        "prompts:\n  - {id: a, kind: check-in, text: hi}\n  - {id: a, kind: check-in, text: ho}\n"
    )
    with pytest.raises(ValueError, match="prompt id used twice: a"):
        load_prompts(bad)


def test_button_data_round_trips_and_forgeries_are_not_parsed() -> None:
    assert parse_circle(circle_data("s", 12, "y")) == ["s", "12", "y"]
    assert parse_circle("c1:s:" + "9" * 30) is None
    assert parse_circle("c1") is None
    assert parse_circle("c1:a:²") is None  # not ASCII: never ours
    assert parse_circle("c1:é") is None
    assert parse_circle("m1:learn") is None
