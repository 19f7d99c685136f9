"""Live updates for the page: what changed in the three chats, pushed as server-sent events.

:class:`ChatWatcher` wakes whenever the emulator's chats change (a bot message, an edit, a
deletion, a button answered) and compares each persona's chat with what it last published,
so every change is sent exactly once, whoever caused it. :class:`EventHub` fans events out
to every open page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from rpbot.sandbox.state import EmulatorState
from rpbot.sandbox.web.personas import Persona
from rpbot.sandbox.web.render import bot_message_json, user_message_json

__all__ = ["ChatWatcher", "EventHub", "chat_commands", "chat_messages"]

JsonDict = dict[str, Any]
log = logging.getLogger(__name__)

QUEUE_LIMIT = 2000  # events waiting for one page; a page that falls this far behind is dropped
RECHECK_SECONDS = 1.0  # a guard for changes no signal announces (e.g. a new command menu)


class EventHub:
    """Fans events out to subscribers (one queue per open page); ``None`` means 'closed'."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[JsonDict | None]] = set()
        self.closed = False

    def subscribe(self) -> asyncio.Queue[JsonDict | None]:
        """A new queue that receives every event published from now on."""
        queue: asyncio.Queue[JsonDict | None] = asyncio.Queue(QUEUE_LIMIT)
        if self.closed:
            queue.put_nowait(None)
        else:
            self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JsonDict | None]) -> None:
        """Stop sending to ``queue``."""
        self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        """How many pages are listening."""
        return len(self._queues)

    def publish(self, event: JsonDict) -> None:
        """Send ``event`` to every subscriber (a page too far behind is told to reload data)."""
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self._queues.discard(queue)
                log.warning("a page fell %s events behind; it will reconnect", QUEUE_LIMIT)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    def close(self) -> None:
        """End every subscription (the server is stopping)."""
        self.closed = True
        for queue in list(self._queues):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)
        self._queues.clear()


def chat_commands(state: EmulatorState, user_id: int) -> list[JsonDict]:
    """The command menu a person sees: their chat's list, else private chats', else default."""
    for scope in (f"chat:{user_id}", "all_private_chats", "default"):
        commands = state.commands.get((scope, ""))
        if commands:
            return [dict(command) for command in commands]
    return []


def chat_messages(state: EmulatorState, user_id: int, zone: ZoneInfo) -> list[JsonDict]:
    """Every message in a person's chat (theirs and the bot's), oldest first."""
    chat = state.chat(user_id)
    if chat is None:
        return []
    found = [bot_message_json(m, zone) for m in chat.history if not m.deleted]
    found += [user_message_json(m, zone) for m in chat.user_messages]
    return sorted(found, key=lambda message: int(message["id"]))


@dataclass
class _Snapshot:
    """One persona's chat reduced to what the page shows, for spotting changes."""

    bot: dict[int, str] = field(default_factory=dict)
    user: dict[int, str] = field(default_factory=dict)
    commands: str = "[]"
    answered: dict[str, str | None] = field(default_factory=dict)


def _snapshot(state: EmulatorState, user_id: int) -> _Snapshot:
    snapshot = _Snapshot()
    chat = state.chat(user_id)
    if chat is not None:
        for message in chat.history:
            snapshot.bot[message.message_id] = json.dumps(
                [message.text, message.entities, message.reply_markup, len(message.edits)],
                sort_keys=True,
                default=str,
            ) + (" deleted" if message.deleted else "")
        for sent in chat.user_messages:
            snapshot.user[int(sent["message_id"])] = json.dumps(
                [sent.get("text"), sent.get("edit_date")], default=str
            )
    snapshot.commands = json.dumps(chat_commands(state, user_id), sort_keys=True)
    for query_id, query in state.callback_queries.items():
        if query.user_id == user_id and query.answer is not None:
            snapshot.answered[query_id] = query.answer.text
    return snapshot


class ChatWatcher:
    """Publishes every change in the personas' chats as events."""

    def __init__(
        self,
        state: EmulatorState,
        personas: Sequence[Persona],
        hub: EventHub,
        zone: ZoneInfo,
    ) -> None:
        self._state = state
        self._personas = list(personas)
        self._hub = hub
        self._zone = zone
        # What exists now is the starting point, not news: the page loads it with a GET.
        self._seen = {p.key: _snapshot(state, p.user_id) for p in self._personas}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching (inside the running loop)."""
        self._task = asyncio.create_task(self._run(), name="sandbox-chat-watcher")

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._state.chats_changed.wait_until(self.changed, RECHECK_SECONDS)
            try:
                for event in self.check():
                    self._hub.publish(event)
            except Exception:  # keep the page live even if one message cannot be shown
                log.exception("could not publish a chat change")

    def changed(self) -> bool:
        """Whether any persona's chat differs from what was last published."""
        return any(_snapshot(self._state, p.user_id) != self._seen[p.key] for p in self._personas)

    def check(self) -> list[JsonDict]:
        """The events for every change since the last check (which are then 'seen')."""
        events: list[JsonDict] = []
        for persona in self._personas:
            now = _snapshot(self._state, persona.user_id)
            events += self._events(persona, self._seen[persona.key], now)
            self._seen[persona.key] = now
        return events

    def _events(self, persona: Persona, old: _Snapshot, new: _Snapshot) -> list[JsonDict]:
        key = persona.key
        chat = self._state.chat(persona.user_id)
        events: list[JsonDict] = []
        if chat is not None:
            for message in chat.history:
                if old.bot.get(message.message_id) == new.bot[message.message_id]:
                    continue
                if message.deleted:
                    events.append({"type": "deleted", "persona": key, "id": message.message_id})
                else:
                    shown = bot_message_json(message, self._zone)
                    events.append({"type": "message", "persona": key, "message": shown})
            for sent in chat.user_messages:
                message_id = int(sent["message_id"])
                if old.user.get(message_id) != new.user[message_id]:
                    shown = user_message_json(sent, self._zone)
                    events.append({"type": "message", "persona": key, "message": shown})
        if old.commands != new.commands:
            commands = json.loads(new.commands)
            events.append({"type": "commands", "persona": key, "commands": commands})
        for query_id, text in new.answered.items():
            if query_id not in old.answered and text:
                events.append({"type": "toast", "persona": key, "text": text})
        return events
