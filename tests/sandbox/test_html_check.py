"""Telegram's HTML parse mode as the emulator applies it: entities out, Telegram's errors in."""

from __future__ import annotations

from typing import Any

import pytest

from rpbot.sandbox.html_check import EntityParseError, parse_html


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("plain & simple", "plain & simple", []),
        ("<B>loud</B>", "loud", [{"type": "bold", "offset": 0, "length": 4}]),
        (
            "<b>bold <i>both</i></b>",
            "bold both",
            [
                {"type": "bold", "offset": 0, "length": 9},
                {"type": "italic", "offset": 5, "length": 4},
            ],
        ),
        (  # offsets count UTF-16 code units: the emoji takes two
            "😌 <u>calm</u>",
            "😌 calm",
            [{"type": "underline", "offset": 3, "length": 4}],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            "<blockquote expandable>long</blockquote>",
            "long",
            [{"type": "expandable_blockquote", "offset": 0, "length": 4}],
        ),
        ('<span class="tg-spoiler">s</span>', "s", [{"type": "spoiler", "offset": 0, "length": 1}]),
        ("&lt;3 &#128512; &#x41;&quot;", '<3 😀 A"', []),
        ("<a>no target</a>", "no target", []),
    ],
)
def test_valid_html_becomes_text_and_entities(
    html: str, text: str, entities: list[dict[str, Any]]
) -> None:
    assert parse_html(html) == (text, entities)


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("é<script>", 'Unsupported start tag "script" at byte offset 2'),
        ("&#0;", "Invalid HTML entity '&#0;' at byte offset 0"),
        ('<a href="x>y</a>', 'Unclosed end of attribute value in the tag "a" at byte offset 0'),
    ],
)
def test_invalid_html_is_refused_with_telegrams_words(html: str, error: str) -> None:
    with pytest.raises(EntityParseError) as refused:
        parse_html(html)
    assert str(refused.value) == error
