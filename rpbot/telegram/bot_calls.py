"""One outbox row to the Bot API call(s) it stands for. Text is escaped here, at the edge."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from rpbot.services.outbox import rows_from_json
from rpbot.storage.tables import OutboxMessage

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # Telegram's limit on a message's text, in UTF-16 code units


def keyboard(data: Any) -> InlineKeyboardMarkup | None:
    """Button rows (outbox JSON) as an inline keyboard, or None for no buttons."""
    rows = rows_from_json(data)
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


def _html(payload: dict[str, Any]) -> str:
    text = str(payload["text"])
    return text if payload.get("html") else html.escape(text)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, room: int) -> str:
    """``text`` shortened with "…" to at most ``room`` UTF-16 code units (as Telegram counts)."""
    if _utf16(text) <= room:
        return text
    cut = text[: max(room - 1, 0)]
    while cut and _utf16(cut) > room - 1:
        cut = cut[:-1]
    return cut + "…"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 code units, cut at a line break or a
    space where one is near (a summary quoting long answers can pass Telegram's limit)."""
    pieces: list[str] = []
    while _utf16(text) > limit:
        head = text[:limit]
        while _utf16(head) > limit:
            head = head[:-1]
        space = max(head.rfind("\n"), head.rfind(" "))
        cut = space + 1 if space > len(head) // 2 else len(head)
        if text[:cut].strip():
            pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


def needs_ref(row: OutboxMessage) -> bool:
    """Whether this row edits a message it does not know the Telegram id of yet."""
    if row.method not in ("edit", "close") or row.ref_id is None:
        return False
    return json.loads(row.payload_json).get("message_id") is None


async def call(bot: Bot, row: OutboxMessage, ref: OutboxMessage | None) -> int | None:
    """Carry out ``row``; return the Telegram message id of a new message, if any."""
    payload: dict[str, Any] = json.loads(row.payload_json)
    chat_id = row.chat_id
    if row.method == "send":
        markup = keyboard(payload.get("buttons"))
        if not payload.get("html"):  # too long for one message: the buttons go on the last
            *before, last = split_text(str(payload["text"]))
            for piece in before:
                await bot.send_message(chat_id, html.escape(piece), parse_mode=ParseMode.HTML)
            payload = {**payload, "text": last}
        text = _html(payload)
        try:
            sent = await bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except BadRequest as exc:
            if "entities" not in exc.message.lower():
                raise
            log.warning("outbox row %s had invalid HTML; sending it as plain text", row.id)
            plain = html.unescape(re.sub(r"<[^>]*>", "", text))
            sent = await bot.send_message(chat_id, plain, reply_markup=markup)
        return sent.message_id
    if row.method in ("edit", "close"):
        message_id, original = payload.get("message_id"), payload
        if message_id is None and ref is not None and ref.sent_message_id is not None:
            message_id, original = ref.sent_message_id, json.loads(ref.payload_json)
        if message_id is None:
            return None  # the message it changes was never sent: nothing to change
        if row.method == "edit":
            await bot.edit_message_reply_markup(
                chat_id, int(message_id), reply_markup=keyboard(payload.get("buttons"))
            )
            return None
        text = _html(original)
        if payload.get("answer"):
            # The answer under the question is a reminder of what was said (it is saved in
            # full): shortened if question and answer together would pass Telegram's limit.
            shown = html.unescape(re.sub(r"<[^>]*>", "", text))
            answer = fit(str(payload["answer"]), MAX_TEXT - _utf16(shown) - 4)
            text += f"\n\n<i>→ {html.escape(answer)}</i>"
        await bot.edit_message_text(
            text, chat_id=chat_id, message_id=int(message_id), parse_mode=ParseMode.HTML
        )
        return None
    if row.method == "commands":
        commands = [BotCommand(name, description) for name, description in payload["commands"]]
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
        return None
    if row.method == "document":
        document = InputFile(payload["content"].encode("utf-8"), filename=payload["filename"])
        message = await bot.send_document(chat_id, document, caption=payload.get("caption"))
        return message.message_id
    if row.method == "photo":
        picture = InputFile(base64.b64decode(payload["content_b64"]), filename=payload["filename"])
        message = await bot.send_photo(chat_id, picture, caption=payload.get("caption"))
        return message.message_id
    if row.method == "leave":
        await bot.leave_chat(chat_id)
        return None
    log.warning("outbox row %s has unknown method %s; dropped", row.id, row.method)
    return None
