"""What the emulator remembers: the bot's messages, their edits, button answers and counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiError",
    "CallbackAnswer",
    "CallbackQueryRecord",
    "Edit",
    "EmulatorStats",
    "InjectedFailure",
    "SentMessage",
    "StoredFile",
]

JsonDict = dict[str, Any]


class ApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram's description and optional retry_after."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JsonDict:
        """The error as Telegram's JSON body."""
        body: JsonDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass(frozen=True)
class Edit:
    """One change the bot made to a message, with what was shown before and after."""

    method: str
    date: int
    old_text: str | None
    new_text: str | None
    old_reply_markup: JsonDict | None
    new_reply_markup: JsonDict | None


@dataclass
class SentMessage:
    """A message the bot sent, as the person sees it now (edits applied, log in ``edits``)."""

    message_id: int
    chat_id: int
    date: int
    method: str
    text: str | None
    source_text: str | None = None
    parse_mode: str | None = None
    entities: list[JsonDict] = field(default_factory=list)
    reply_markup: JsonDict | None = None
    photo: list[JsonDict] | None = None
    document: JsonDict | None = None
    reply_to_message: JsonDict | None = None
    edit_date: int | None = None
    edits: list[Edit] = field(default_factory=list)
    deleted: bool = False

    @property
    def caption(self) -> str | None:
        """The caption of a photo or document (None for a text message)."""
        return None if self.method == "sendMessage" else self.text

    @property
    def reply_to_message_id(self) -> int | None:
        """The id of the message this one replies to, if any."""
        return None if self.reply_to_message is None else int(self.reply_to_message["message_id"])

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard rows as (label, callback_data); url buttons have no data."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[(button["text"], button.get("callback_data")) for button in row] for row in rows]

    @property
    def button_labels(self) -> list[str]:
        """Every inline button label, row by row."""
        return [label for row in self.buttons for label, _ in row]

    def to_api(self, chat: JsonDict, bot: JsonDict) -> JsonDict:
        """The message as the Bot API returns it."""
        message: JsonDict = {
            "message_id": self.message_id,
            "from": bot,
            "chat": chat,
            "date": self.date,
        }
        text_key, entities_key = ("text", "entities")
        if self.photo is not None:
            message["photo"] = self.photo
            text_key, entities_key = ("caption", "caption_entities")
        if self.document is not None:
            message["document"] = self.document
            text_key, entities_key = ("caption", "caption_entities")
        if self.text is not None:
            message[text_key] = self.text
        if self.entities:
            message[entities_key] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.reply_to_message is not None:
            message["reply_to_message"] = self.reply_to_message
        return message


@dataclass(frozen=True)
class CallbackAnswer:
    """How the bot answered a button press (the toast or alert the person sees)."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass
class CallbackQueryRecord:
    """A button press sent to the bot and, once it came, the bot's answer."""

    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: CallbackAnswer | None = None


@dataclass(frozen=True)
class StoredFile:
    """Bytes uploaded by the bot or a person, reachable by file_id and file_path."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None
    mime_type: str | None

    def to_api(self) -> JsonDict:
        """The File object getFile returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class InjectedFailure:
    """A planned error answer for the next ``times`` calls of ``method`` (optionally one chat)."""

    method: str
    error: int
    description: str
    chat_id: int | None
    retry_after: int | None
    times: int


@dataclass
class EmulatorStats:
    """Counters a test or benchmark can read: calls per method, 429s, delivered messages."""

    calls: Counter[str] = field(default_factory=Counter)
    errors: Counter[int] = field(default_factory=Counter)
    too_many_requests: int = 0
    messages_delivered: int = 0
    updates_delivered: int = 0
    #: ``time.monotonic()`` of each delivered message, in order (system-wide on Linux, so a
    #: benchmark in another process can compare it with its own clock without polling).
    delivery_times: list[float] = field(default_factory=list)

    def to_json(self) -> JsonDict:
        """The counters as JSON for the control API."""
        return {
            "calls": dict(self.calls),
            "errors": {str(code): count for code, count in self.errors.items()},
            "too_many_requests": self.too_many_requests,
            "messages_delivered": self.messages_delivered,
            "updates_delivered": self.updates_delivered,
        }
