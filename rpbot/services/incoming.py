"""What a person did, in transport-neutral form (built by the Telegram adapter or the sandbox)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rpbot.storage.tables import OutboxMessage

Kind = Literal["text", "command", "button", "media", "unsupported"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update from one person.

    ``kind`` says which fields matter: text (``text``), command (``command`` without the slash,
    ``args``), button (``data``, ``message_id``), media (``media_kind``, ``file_id``,
    ``text`` = caption), unsupported (stickers, locations, polls...: ``detail`` names it).
    """

    user_id: int
    chat_id: int
    kind: Kind
    update_id: int | None = None
    chat_type: str = "private"
    first_name: str = ""
    language_code: str | None = None
    text: str | None = None
    command: str | None = None
    args: str = ""
    data: str | None = None
    message_id: int | None = None
    media_kind: str | None = None
    file_id: str | None = None
    detail: str = ""
    edited: bool = False
    forwarded: bool = False


@dataclass
class Handled:
    """What the adapter must do right away: answer a button press, flush chats' outboxes."""

    chats: set[int]
    notice: str | None = None
    leave_chat: bool = False
    rows: list[OutboxMessage] = field(default_factory=list)
    wake: set[str] = field(default_factory=set)
