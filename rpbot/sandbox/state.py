"""The emulator's memory: chats, people, pending updates, files, commands and planned failures.

Nothing here speaks HTTP; the Bot API methods and the test client both work on this state.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rpbot.sandbox.rate_limit import RateLimit, RateLimiter
from rpbot.sandbox.records import (
    CallbackQueryRecord,
    EmulatorStats,
    InjectedFailure,
    SentMessage,
    StoredFile,
)

__all__ = ["Chat", "EmulatorState", "Signal"]

JsonDict = dict[str, Any]

# Update kinds getUpdates sends when allowed_updates is empty or never given.
DEFAULT_UPDATE_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
    }
)


class Signal:
    """Wakes every waiter when something changes; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake everyone waiting now."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109 - a failure guard, not a work budget
    ) -> bool:
        """Wait until ``condition()`` holds; return False if ``timeout`` seconds pass first."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    await self._event.wait()
        except TimeoutError:
            return condition()
        return True


@dataclass
class Chat:
    """A private chat with one person or a group, with the bot's messages in order."""

    id: int
    type: str
    title: str | None = None
    person: JsonDict | None = None
    history: list[SentMessage] = field(default_factory=list)
    user_messages: list[JsonDict] = field(default_factory=list)
    edit_log: list[tuple[int, int]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    left: bool = False
    next_message_id: int = 1

    def to_api(self) -> JsonDict:
        """The Chat object as it appears inside messages."""
        chat: JsonDict = {"id": self.id, "type": self.type}
        if self.type == "private" and self.person is not None:
            chat["first_name"] = self.person["first_name"]
            if self.person.get("username"):
                chat["username"] = self.person["username"]
        else:
            chat["title"] = self.title or f"Group {self.id}"
        return chat

    def take_message_id(self) -> int:
        """Allocate the next message id; ids grow per chat, shared by people and the bot."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def bot_message(self, message_id: int) -> SentMessage | None:
        """The bot's message with this id, if it exists and was not deleted."""
        for message in reversed(self.history):
            if message.message_id == message_id:
                return None if message.deleted else message
        return None

    def message_json(self, message_id: int, bot_user: JsonDict) -> JsonDict | None:
        """Any message in this chat (the bot's or a person's) as the Bot API shows it."""
        message = self.bot_message(message_id)
        if message is not None:
            return message.to_api(self.to_api(), bot_user)
        for sent in self.user_messages:
            if sent["message_id"] == message_id:
                return {key: value for key, value in sent.items() if key != "reply_to_message"}
        return None


class EmulatorState:
    """Everything the emulator knows; the Bot API methods read and change it."""

    def __init__(
        self,
        token: str,
        bot_username: str,
        *,
        rate_limit: RateLimit | None = None,
        now: Callable[[], float] = time.time,
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot_user: JsonDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "rpbot (sandbox)",
            "username": bot_username,
        }
        self.now = now
        self.chats: dict[int, Chat] = {}
        self.people: dict[int, JsonDict] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.photo_sizes: dict[str, list[JsonDict]] = {}
        self.updates: list[JsonDict] = []
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_KINDS
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.failures: list[InjectedFailure] = []
        self.blocked: set[int] = set()
        self.limiter = RateLimiter(rate_limit) if rate_limit is not None else None
        self.stats = EmulatorStats()
        self.updates_changed = Signal()
        self.chats_changed = Signal()
        self.closing = False
        # Telegram's update ids only grow; a bot that kept its database expects that.
        self._update_ids = itertools.count(first_update_id)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    def date(self) -> int:
        """Unix time now, as Telegram stamps messages."""
        return int(self.now())

    def add_person(
        self, user_id: int, first_name: str, username: str | None, language_code: str
    ) -> JsonDict:
        """Remember a person and open their private chat with the bot."""
        person: JsonDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        if username:
            person["username"] = username
        self.people[user_id] = person
        self.chats.setdefault(user_id, Chat(id=user_id, type="private", person=person))
        return person

    def add_group(self, chat_id: int, title: str) -> Chat:
        """Open (or return) a group chat the bot is a member of."""
        return self.chats.setdefault(chat_id, Chat(id=chat_id, type="group", title=title))

    def chat(self, chat_id: int) -> Chat | None:
        """The chat with this id, if the bot knows it."""
        return self.chats.get(chat_id)

    def push_update(self, kind: str, payload: JsonDict) -> JsonDict:
        """Queue an update (a snapshot of ``payload``) for getUpdates and wake long polls."""
        update = {"update_id": next(self._update_ids), kind: copy.deepcopy(payload)}
        self.updates.append(update)
        self.updates_changed.notify()
        return update

    def user_message(self, chat: Chat, sender: JsonDict, content: JsonDict) -> JsonDict:
        """Build and remember a message a person sends to ``chat``."""
        message: JsonDict = {
            "message_id": chat.take_message_id(),
            "from": sender,
            "chat": chat.to_api(),
            "date": self.date(),
            **content,
        }
        chat.user_messages.append(message)
        return message

    def store_file(
        self, data: bytes, folder: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        """Keep uploaded bytes and give them a file_id and a download path."""
        number = next(self._file_ids)
        suffix = (file_name or "").rpartition(".")[2] if file_name and "." in file_name else "bin"
        stored = StoredFile(
            file_id=f"F{number:06d}{folder[:3].upper()}",
            file_unique_id=f"U{number:06d}",
            file_path=f"{folder}/file_{number}.{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def photo_sizes_for(self, stored: StoredFile) -> list[JsonDict]:
        """PhotoSize list for a stored picture: a thumbnail and the full size."""
        if stored.file_id in self.photo_sizes:
            return self.photo_sizes[stored.file_id]
        width, height = _image_size(stored.data)
        scale = min(1.0, 90 / max(width, height, 1))
        thumb = self.store_file(stored.data, "photos", "thumb.jpg", "image/jpeg")
        sizes = [
            {
                **_photo_size(thumb),
                "width": max(1, int(width * scale)),
                "height": max(1, int(height * scale)),
            },
            {**_photo_size(stored), "width": width, "height": height},
        ]
        self.photo_sizes[stored.file_id] = self.photo_sizes[thumb.file_id] = sizes
        return sizes

    def new_query_id(self) -> str:
        """A fresh callback query id."""
        return f"{self.bot_id}{next(self._query_ids):08d}"

    def record_bot_message(self, chat: Chat, message: SentMessage) -> None:
        """Add a delivered bot message to the chat's history and wake waiting people."""
        chat.history.append(message)
        self.stats.messages_delivered += 1
        self.stats.delivery_times.append(time.monotonic())
        self.chats_changed.notify()

    def record_edit(self, chat: Chat, message: SentMessage) -> None:
        """Note that a message was edited (the edit is already applied) and wake waiters."""
        chat.edit_log.append((message.message_id, len(message.edits) - 1))
        self.chats_changed.notify()

    def take_failure(self, method: str, chat_id: int | None) -> InjectedFailure | None:
        """Consume the first planned failure that matches this call, if any."""
        for failure in self.failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return failure
        return None

    def close(self) -> None:
        """Release every long poll and waiter so the server can stop at once."""
        self.closing = True
        self.updates_changed.notify()
        self.chats_changed.notify()


def _photo_size(stored: StoredFile) -> JsonDict:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 640, 480  # not a PNG: a plausible size is all a bot ever reads
