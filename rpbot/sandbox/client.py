"""People who talk to the bot through the emulator: send, press a button, wait for the reply.

Push a message, pop the reply, assert - no mocks. Waiting is event-driven: ``next_reply``
wakes the moment the bot's message arrives and fails with the chat's recent history when it
does not come.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rpbot.sandbox.html_check import utf16_len
from rpbot.sandbox.records import CallbackAnswer, CallbackQueryRecord, SentMessage
from rpbot.sandbox.state import Chat, EmulatorState

__all__ = ["FakeGroup", "FakeUser", "describe_chat"]

JsonDict = dict[str, Any]

_COMMAND = re.compile(r"/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]+)?")
# The smallest valid PNG (1x1), so a bot that inspects pictures gets a real one.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def describe_chat(chat: Chat, last: int = 10) -> str:
    """The last few messages of a chat, one per line, for assertion messages."""
    entries: list[tuple[int, str]] = []
    for sent in chat.user_messages:
        what = sent.get("text") or sent.get("caption") or _kind_of(sent)
        entries.append((sent["message_id"], f"  #{sent['message_id']} person: {what}"))
    for message in chat.history:
        what = message.text if message.text is not None else f"[{message.method}]"
        labels = f"  [buttons: {' | '.join(message.button_labels)}]" if message.buttons else ""
        edited = f"  (edited {len(message.edits)}x)" if message.edits else ""
        entries.append((message.message_id, f"  #{message.message_id} bot: {what}{labels}{edited}"))
    lines = [line for _, line in sorted(entries)[-last:]]
    return "\n".join(lines) if lines else "  (nothing yet)"


def _kind_of(message: JsonDict) -> str:
    kinds = ("photo", "voice", "document", "sticker", "location", "contact", "poll")
    return next((f"[{kind}]" for kind in kinds if kind in message), "[message]")


class _ChatWatcher:
    """Waits for what the bot does in one chat, remembering what was already returned."""

    def __init__(self, state: EmulatorState, chat: Chat) -> None:
        self._state = state
        self._chat = chat
        self._replies_seen = 0
        self._edits_seen = 0

    @property
    def chat_id(self) -> int:
        """The chat's id (for a person, their user id)."""
        return self._chat.id

    @property
    def messages(self) -> list[SentMessage]:
        """Every message the bot sent to this chat and has not deleted, oldest first."""
        return [message for message in self._chat.history if not message.deleted]

    @property
    def chat_actions(self) -> list[str]:
        """Chat actions ('typing', ...) the bot showed here, in order."""
        return list(self._chat.actions)

    def history(self) -> str:
        """The recent conversation as text, for debugging and assertion messages."""
        return describe_chat(self._chat)

    async def next_reply(self, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """The next bot message in this chat not returned before; AssertionError on timeout."""
        arrived = await self._state.chats_changed.wait_until(
            lambda: len(self._chat.history) > self._replies_seen, timeout
        )
        if not arrived:
            raise AssertionError(
                f"The bot sent nothing new to chat {self.chat_id} within {timeout} s.\n"
                f"Recent history:\n{self.history()}"
            )
        message = self._chat.history[self._replies_seen]
        self._replies_seen += 1
        return message

    async def next_edit(self, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """The message behind the next bot edit in this chat; AssertionError on timeout."""
        arrived = await self._state.chats_changed.wait_until(
            lambda: len(self._chat.edit_log) > self._edits_seen, timeout
        )
        if not arrived:
            raise AssertionError(
                f"The bot edited nothing in chat {self.chat_id} within {timeout} s.\n"
                f"Recent history:\n{self.history()}"
            )
        message_id, _ = self._chat.edit_log[self._edits_seen]
        self._edits_seen += 1
        message = self._chat.bot_message(message_id)
        assert message is not None, f"edited message {message_id} was deleted"
        return message

    def _say(self, sender: JsonDict, content: JsonDict) -> JsonDict:
        message = self._state.user_message(self._chat, sender, content)
        self._state.push_update("message", message)
        return message

    def _text_content(self, text: str) -> JsonDict:
        content: JsonDict = {"text": text}
        command = _COMMAND.match(text)
        if command:
            length = utf16_len(command[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return content


class FakeUser(_ChatWatcher):
    """A person in a private chat with the bot (their chat id is their user id)."""

    def __init__(
        self,
        state: EmulatorState,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        language_code: str = "en",
    ) -> None:
        self.profile = state.add_person(user_id, first_name, username, language_code)
        super().__init__(state, state.chats[user_id])
        self.user_id = user_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code
        self._queries: list[CallbackQueryRecord] = []

    @property
    def sent(self) -> list[JsonDict]:
        """Messages this person sent, as the bot received them."""
        return list(self._chat.user_messages)

    async def send(self, text: str, *, reply_to: int | None = None) -> JsonDict:
        """Type and send a text message (a leading /command gets a bot_command entity)."""
        content = self._text_content(text)
        if reply_to is not None:
            content["reply_to_message"] = self._reply_target(reply_to)
        return self._say(self.profile, content)

    async def send_photo(self, data: bytes = TINY_PNG, *, caption: str | None = None) -> JsonDict:
        """Send a picture; the bot can getFile and download the same bytes."""
        stored = self._state.store_file(data, "photos", "photo.png", "image/png")
        content: JsonDict = {"photo": self._state.photo_sizes_for(stored)}
        if caption is not None:
            content["caption"] = caption
        return self._say(self.profile, content)

    async def send_voice(self, data: bytes = b"OggS\x00voice", *, duration: int = 3) -> JsonDict:
        """Send a voice note."""
        stored = self._state.store_file(data, "voice", "voice.ogg", "audio/ogg")
        voice = {**_file_fields(stored.file_id, stored.file_unique_id, data), "duration": duration}
        return self._say(self.profile, {"voice": {**voice, "mime_type": "audio/ogg"}})

    async def send_document(
        self,
        data: bytes = b"notes\n",
        *,
        file_name: str = "notes.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
    ) -> JsonDict:
        """Send a file."""
        stored = self._state.store_file(data, "documents", file_name, mime_type)
        document = {
            **_file_fields(stored.file_id, stored.file_unique_id, data),
            "file_name": file_name,
            "mime_type": mime_type,
        }
        content: JsonDict = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self._say(self.profile, content)

    async def send_sticker(self, emoji: str = "👍") -> JsonDict:
        """Send a sticker."""
        stored = self._state.store_file(b"RIFF\x00webp", "stickers", "sticker.webp", "image/webp")
        sticker = {
            **_file_fields(stored.file_id, stored.file_unique_id, stored.data),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._say(self.profile, {"sticker": sticker})

    async def send_location(
        self, latitude: float = 51.5072, longitude: float = -0.1276
    ) -> JsonDict:
        """Share a location."""
        return self._say(self.profile, {"location": {"latitude": latitude, "longitude": longitude}})

    async def send_contact(
        self, phone_number: str = "+447700900123", first_name: str = "Sam"
    ) -> JsonDict:
        """Share a contact card."""
        contact = {"phone_number": phone_number, "first_name": first_name}
        return self._say(self.profile, {"contact": contact})

    async def send_poll(self, question: str, options: Sequence[str] = ("Yes", "No")) -> JsonDict:
        """Send an anonymous poll."""
        poll = {
            "id": self._state.new_query_id(),
            "question": question,
            "options": [
                {"text": option, "voter_count": 0, "persistent_id": f"o{number}"}
                for number, option in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        return self._say(self.profile, {"poll": poll})

    async def forward(self, text: str, *, original_sender: str = "Someone else") -> JsonDict:
        """Forward someone else's text message (their identity hidden, as is common)."""
        origin = {"type": "hidden_user", "sender_user_name": original_sender}
        content = {"text": text, "forward_origin": {**origin, "date": self._state.date() - 60}}
        return self._say(self.profile, content)

    async def edit_last(self, text: str) -> JsonDict:
        """Edit this person's last text message; the bot gets an edited_message update."""
        for message in reversed(self._chat.user_messages):
            if message["from"]["id"] == self.user_id and "text" in message:
                message.update(self._text_content(text), edit_date=self._state.date())
                self._state.push_update("edited_message", message)
                return message
        raise AssertionError(f"{self.first_name} has sent no text message to edit")

    async def press(self, label: str) -> str:
        """Press the button labelled ``label`` on the newest bot message that has it."""
        keyboards = [message for message in reversed(self.messages) if message.buttons]
        for exact in (True, False):
            for message in keyboards:
                found = [
                    (text, data)
                    for row in message.buttons
                    for text, data in row
                    if (text == label if exact else label.casefold() in text.casefold())
                ]
                if len(found) > 1 and not exact:
                    raise AssertionError(
                        f"{label!r} matches several buttons on message #{message.message_id}: "
                        f"{[text for text, _ in found]}; use the full label"
                    )
                if found:
                    text, data = found[0]
                    if data is None:
                        raise AssertionError(f"button {text!r} has no callback_data to press")
                    return await self.press_data(data, message_id=message.message_id)
        seen = [f"#{message.message_id}: {message.button_labels}" for message in keyboards]
        raise AssertionError(
            f"No button labelled {label!r} in chat {self.chat_id}. Buttons seen, newest "
            f"first: {seen or 'none'}\nRecent history:\n{self.history()}"
        )

    async def press_data(self, data: str, message_id: int | None = None) -> str:
        """Send a callback_query with any data (forged or stale presses included)."""
        if message_id is None:
            candidates = [message for message in self.messages if message.buttons]
            if not candidates:
                raise AssertionError(f"no bot message with buttons in chat {self.chat_id}")
            message_id = candidates[-1].message_id
        message = self._chat.bot_message(message_id)
        if message is None:
            raise AssertionError(f"no bot message #{message_id} in chat {self.chat_id}")
        query = CallbackQueryRecord(
            self._state.new_query_id(), self.user_id, self.chat_id, message_id, data
        )
        self._state.callback_queries[query.query_id] = query
        self._queries.append(query)
        payload = {
            "id": query.query_id,
            "from": self.profile,
            "message": message.to_api(self._chat.to_api(), self._state.bot_user),
            "chat_instance": f"ci{self.chat_id}",
            "data": data,
        }
        self._state.push_update("callback_query", payload)
        return query.query_id

    async def callback_answers(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - a failure guard, not a work budget
    ) -> list[CallbackAnswer]:
        """Wait until the bot answered every press by this person; return the answers."""
        answered = await self._state.chats_changed.wait_until(
            lambda: all(query.answer is not None for query in self._queries), timeout
        )
        if not answered:
            pending = [query.data for query in self._queries if query.answer is None]
            raise AssertionError(
                f"The bot did not answer presses {pending} in chat {self.chat_id} "
                f"within {timeout} s (answerCallbackQuery stops the button's spinner)."
            )
        return [query.answer for query in self._queries if query.answer is not None]

    def _reply_target(self, message_id: int) -> JsonDict:
        target = self._chat.message_json(message_id, self._state.bot_user)
        if target is None:
            raise AssertionError(f"no message #{message_id} in chat {self.chat_id} to reply to")
        return target


class FakeGroup(_ChatWatcher):
    """A group chat with the bot and some people."""

    def __init__(
        self, state: EmulatorState, chat_id: int, title: str, members: Sequence[FakeUser]
    ) -> None:
        super().__init__(state, state.add_group(chat_id, title))
        self.title = title
        self.members = list(members)

    async def send(self, member: FakeUser, text: str) -> JsonDict:
        """``member`` says ``text`` in the group."""
        if member not in self.members:
            self.members.append(member)  # joining by speaking keeps tests short
        return self._say(member.profile, self._text_content(text))


def _file_fields(file_id: str, file_unique_id: str, data: bytes) -> JsonDict:
    return {"file_id": file_id, "file_unique_id": file_unique_id, "file_size": len(data)}
