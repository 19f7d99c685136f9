"""Messages as the web page shows them: safe HTML built from Telegram's text and entities.

The page never receives the bot's raw HTML. Each bot message is rebuilt from the plain text
and the entities the emulator parsed, escaping every character of text and emitting only
Telegram's own tags (b, i, u, s, code, pre, a, blockquote, tg-spoiler), so nothing the bot
or a person typed can inject markup. Links keep only http(s), tg and mailto targets.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from rpbot.sandbox.records import SentMessage

__all__ = ["ALLOWED_TAGS", "bot_message_json", "entities_to_html", "user_message_json"]

JsonDict = dict[str, Any]

ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"})
_TAG_FOR = {
    "bold": "b",
    "italic": "i",
    "underline": "u",
    "strikethrough": "s",
    "code": "code",
    "pre": "pre",
    "text_link": "a",
    "url": "a",
    "spoiler": "tg-spoiler",
    "blockquote": "blockquote",
    "expandable_blockquote": "blockquote",
}
_SAFE_SCHEMES = ("http://", "https://", "tg://", "mailto:")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    tag: str
    href: str | None
    order: int


def _safe_href(url: str) -> str | None:
    url = url.strip()
    return url if url.lower().startswith(_SAFE_SCHEMES) else None


def _spans(text_units: int, entities: Sequence[JsonDict], units: bytes) -> list[_Span]:
    spans: list[_Span] = []
    for order, entity in enumerate(entities):
        tag = _TAG_FOR.get(str(entity.get("type")))
        try:
            start = int(entity["offset"])
            end = start + int(entity["length"])
        except (KeyError, TypeError, ValueError):
            continue
        if tag is None or start < 0 or end > text_units or end <= start:
            continue
        href = None
        if tag == "a":
            target = entity.get("url")
            if target is None:  # a bare URL in the text links to itself
                target = units[2 * start : 2 * end].decode("utf-16-le", errors="replace")
            href = _safe_href(str(target))
            if href is None:
                continue  # an unsafe link is shown as plain text
        spans.append(_Span(start, end, tag, href, order))
    return spans


def _open(span: _Span) -> str:
    if span.tag == "a" and span.href is not None:
        return f'<a href="{html.escape(span.href, quote=True)}" rel="noopener noreferrer">'
    return f"<{span.tag}>"


def entities_to_html(text: str, entities: Sequence[JsonDict]) -> str:
    """Escaped ``text`` with Telegram entities (UTF-16 offsets) as the allowed HTML tags.

    Overlapping entities are closed and reopened so the output is always well nested.
    """
    units = text.encode("utf-16-le")
    total = len(units) // 2
    spans = _spans(total, entities, units)
    cuts = sorted({0, total, *(s.start for s in spans), *(s.end for s in spans)})
    out: list[str] = []
    stack: list[_Span] = []
    for index, position in enumerate(cuts):
        # Close everything that ends here; reopen what was closed too early.
        ending = [s for s in stack if s.end == position]
        if ending:
            depth = min(stack.index(s) for s in ending)
            reopen = [s for s in stack[depth:] if s.end != position]
            for span in reversed(stack[depth:]):
                out.append(f"</{span.tag}>")
            del stack[depth:]
            for span in reopen:
                out.append(_open(span))
                stack.append(span)
        starting = sorted(
            (s for s in spans if s.start == position), key=lambda s: (-s.end, s.order)
        )
        for span in starting:
            out.append(_open(span))
            stack.append(span)
        if index + 1 < len(cuts):
            piece = units[2 * position : 2 * cuts[index + 1]].decode("utf-16-le", errors="replace")
            out.append(html.escape(piece, quote=False))
    for span in reversed(stack):
        out.append(f"</{span.tag}>")
    return "".join(out)


def _stamp(date: int, zone: ZoneInfo) -> JsonDict:
    when = datetime.fromtimestamp(date, UTC).astimezone(zone)
    return {"date": when.isoformat(), "time": when.strftime("%a %H:%M")}


def _file_url(file_id: str) -> str:
    return f"/api/files/{quote(file_id, safe='')}"


def _button_json(button: JsonDict) -> JsonDict:
    """An inline button: its label and callback data, or a safe URL for a link button."""
    found: JsonDict = {"text": str(button.get("text", "")), "data": button.get("callback_data")}
    url = _safe_href(str(button.get("url") or ""))
    if url is not None:
        found["url"] = url
    return found


def bot_message_json(message: SentMessage, zone: ZoneInfo) -> JsonDict:
    """A bot message for the page: safe HTML, buttons, photo or document, edited or not."""
    buttons = [
        [_button_json(button) for button in row if isinstance(button, dict)]
        for row in (message.reply_markup or {}).get("inline_keyboard") or []
        if isinstance(row, list)
    ]
    body: JsonDict = {
        "id": message.message_id,
        "from": "bot",
        "html": entities_to_html(message.text or "", message.entities),
        "buttons": [row for row in buttons if row],
        "edited": bool(message.edits),
        "deleted": message.deleted,
        **_stamp(message.date, zone),
    }
    if message.photo:
        largest = message.photo[-1]
        body["photo"] = {
            "url": _file_url(str(largest["file_id"])),
            "width": largest.get("width"),
            "height": largest.get("height"),
        }
    if message.document:
        name = str(message.document.get("file_name") or "document")
        body["document"] = {"url": _file_url(str(message.document["file_id"])), "name": name}
    return body


def user_message_json(message: JsonDict, zone: ZoneInfo) -> JsonDict:
    """A message the persona sent, as plain (escaped) text."""
    text = message.get("text") or message.get("caption") or ""
    if not text:
        kinds = ("photo", "voice", "document", "sticker", "location", "contact", "poll")
        text = next((f"[{kind}]" for kind in kinds if kind in message), "[message]")
    return {
        "id": int(message["message_id"]),
        "from": "user",
        "html": html.escape(str(text), quote=False),
        "buttons": [],
        "edited": "edit_date" in message,
        "deleted": False,
        **_stamp(int(message["date"]), zone),
    }
