"""Bot messages become safe HTML: only Telegram's tags, everything else escaped."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rpbot.sandbox.html_check import parse_html
from rpbot.sandbox.records import SentMessage
from rpbot.sandbox.web.render import bot_message_json, entities_to_html, user_message_json

LONDON = ZoneInfo("Europe/London")


def roundtrip(source: str) -> str:
    """Telegram HTML -> (text, entities) as the emulator parses it -> the page's HTML."""
    return entities_to_html(*parse_html(source))


def test_telegram_tags_survive_and_text_is_escaped() -> None:
    source = (
        "<b>Bold</b> <i>it</i> <u>u</u> <s>s</s> <code>x&lt;y</code> <pre>p</pre> "
        '<a href="https://example.org/?a=1&amp;b=2">link</a> <tg-spoiler>secret</tg-spoiler> '
        "<blockquote>quote</blockquote> &lt;script&gt;alert(1)&lt;/script&gt;"
    )
    assert roundtrip(source) == (
        "<b>Bold</b> <i>it</i> <u>u</u> <s>s</s> <code>x&lt;y</code> <pre>p</pre> "
        '<a href="https://example.org/?a=1&amp;b=2" rel="noopener noreferrer">link</a> '
        "<tg-spoiler>secret</tg-spoiler> <blockquote>quote</blockquote> "
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    )


def test_nested_tags_and_emoji_offsets_in_utf16() -> None:
    assert roundtrip("👋 <b>Hi <i>Sam</i> 😌</b>!") == "👋 <b>Hi <i>Sam</i> 😌</b>!"


def test_overlapping_entities_are_closed_and_reopened() -> None:
    entities = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 2, "length": 4},
    ]
    assert entities_to_html("abcdef", entities) == "<b>ab<i>cd</i></b><i>ef</i>"


def test_unsafe_links_and_unknown_or_broken_entities_become_plain_text() -> None:
    entities = [
        {"type": "text_link", "offset": 0, "length": 5, "url": "javascript:alert(1)"},
        {"type": "mention", "offset": 6, "length": 4},
        {"type": "bold", "offset": 8, "length": 99},
        {"type": "bold"},
    ]
    assert entities_to_html("click @bob", entities) == "click @bob"
    bare = [{"type": "url", "offset": 4, "length": 19}]
    assert entities_to_html("see https://example.org", bare) == (
        'see <a href="https://example.org" rel="noopener noreferrer">https://example.org</a>'
    )


def test_a_bot_message_for_the_page() -> None:
    message = SentMessage(
        message_id=7,
        chat_id=1,
        date=1795424400,  # 2026-11-23 09:00 UTC
        method="sendDocument",
        text="Your <export>",
        document={"file_id": "F1", "file_name": "answers.html"},
        reply_markup={
            "inline_keyboard": [
                [{"text": "OK", "callback_data": "a1:1:1:ok"}],
                [{"text": "Site", "url": "javascript:x"}, {"text": "Web", "url": "https://x.org"}],
            ]
        },
    )
    page = bot_message_json(message, LONDON)
    assert page["html"] == "Your &lt;export&gt;"
    assert page["document"] == {"url": "/api/files/F1", "name": "answers.html"}
    assert page["buttons"] == [
        [{"text": "OK", "data": "a1:1:1:ok"}],
        [{"text": "Site", "data": None}, {"text": "Web", "data": None, "url": "https://x.org"}],
    ]
    assert page["time"] == "Mon 09:00"


def test_a_persons_own_message_is_plain_text() -> None:
    message = {"message_id": 3, "date": 1795424400, "text": "<b>not bold</b> & co"}
    page = user_message_json(message, LONDON)
    assert page["html"] == "&lt;b&gt;not bold&lt;/b&gt; &amp; co"
    assert page["from"] == "user"
