"""The running sandbox: a SQLite database, the Bot API emulator, the real bot and a clock.

Everything the page does goes through here, and everything here uses the production code
paths: people's messages and button presses are Telegram updates in the emulator, which the
real :class:`~rpbot.telegram.app.TelegramBot` polls; reminders are sent by the bot's own sweep
(:meth:`~rpbot.telegram.app.TelegramBot.sweep_once`, run every few seconds by the real
:class:`~rpbot.scheduling.runner.SweepScheduler`); "Next reminder" only moves the clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rpbot.config import Settings
from rpbot.engine import Library
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.sandbox.web.clock import SettableClock
from rpbot.sandbox.web.due import continuity, kept, next_due
from rpbot.sandbox.web.events import ChatWatcher, EventHub, chat_commands, chat_messages
from rpbot.sandbox.web.personas import (
    Persona,
    demo_seeder,
    enrol_by_invites,
    find_personas,
    known_people,
    queue_menus,
    redeem_invites,
    run_demo_seeder,
)
from rpbot.sandbox.web.snapshot import SeedSnapshot, copy_database, remove_database
from rpbot.scheduling.runner import SweepScheduler
from rpbot.services.reminders import SweepReport
from rpbot.storage.db import Database, upgrade
from rpbot.storage.tables import OutboxMessage
from rpbot.telegram.app import TelegramBot

__all__ = ["SANDBOX_TOKEN", "Sandbox", "SandboxError"]

JsonDict = dict[str, Any]
log = logging.getLogger(__name__)

SANDBOX_TOKEN = "4242424242:sandbox-local-only"  # noqa: S105 - accepted only by the emulator
SANDBOX_BOT_USERNAME = "rpbot_sandbox_bot"
MAX_NEXT_STEPS = 50  # due items "Next reminder" may step through before something is sent
DIGEST_MISSING = (
    "Weekly digests are not part of this version of the bot yet, so there is nothing to send."
)


class SandboxError(Exception):
    """A request the sandbox cannot carry out; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Sandbox:
    """Owns the database, emulator, bot and clock; the web server calls its methods."""

    def __init__(
        self,
        db_path: Path,
        library: Library,
        clock: SettableClock,
        *,
        keep: bool = False,
        timezone: str = "Europe/London",
        sweep_seconds: float | None = 5.0,
        poll_timeout: int = 10,
        reset_time: Callable[[], datetime] | None = None,
        seeded: SeedSnapshot | None = None,
    ) -> None:
        self.db_path = db_path
        self.library = library
        self.clock = clock
        self.keep = keep
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.sweep_seconds = sweep_seconds
        self.poll_timeout = poll_timeout
        self.reset_time = reset_time or (lambda: datetime.now(UTC))
        #: The freshly seeded database to start from and reset to (made on first seeding).
        self.seeded = seeded
        self._own_snapshot = False
        self.hub = EventHub()
        self.personas: list[Persona] = []
        self.db: Database | None = None
        self.emulator: BotApiEmulator | None = None
        self.bot: TelegramBot | None = None
        self.bot_running = False
        self.ready = False
        self._sweeper: SweepScheduler | None = None
        self._watcher: ChatWatcher | None = None
        self._lock = asyncio.Lock()  # one sweep or control action at a time

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The SQLite URL of the sandbox database."""
        return f"sqlite+aiosqlite:///{self.db_path.resolve()}"

    async def start(self) -> None:
        """Prepare the database (fresh unless ``keep``), seed it, start emulator and bot."""
        async with self._lock:
            if self.keep and self.db_path.exists():
                await self._open()
            else:
                await self._open_fresh()
        self._publish_state("The sandbox is ready.")

    async def stop(self) -> None:
        """Stop the bot, the emulator and the database; end the page's event streams."""
        async with self._lock:
            await self._close()
            if self._own_snapshot and self.seeded is not None:
                remove_database(self.seeded.path)
                self.seeded, self._own_snapshot = None, False
        self.hub.close()

    async def _open_fresh(self) -> None:
        """A new demo: the seeded copy if there is one (and its time), else seed now."""
        if self.seeded is not None:
            self.clock.set(self.seeded.taken_at)
            await asyncio.to_thread(copy_database, self.seeded.path, self.db_path)
        else:
            remove_database(self.db_path)
        await self._open()

    async def _open(self) -> None:
        await asyncio.to_thread(upgrade, self.url)
        db = self.db = Database(self.url)
        carry_on = await continuity(db)
        emulator = self.emulator = BotApiEmulator(
            SANDBOX_TOKEN,
            SANDBOX_BOT_USERNAME,
            now=lambda: self.clock.now().timestamp(),
            first_update_id=carry_on.next_update_id,
        )
        await emulator.start("127.0.0.1", 0)
        personas = await find_personas(db)
        seeder = demo_seeder() if personas is None else None
        if seeder is not None:
            await run_demo_seeder(seeder, db, self.library, self.clock.now())
            personas = await find_personas(db)
            if personas is not None and self.seeded is None:
                snapshot = self.db_path.with_suffix(".seed.db")
                await asyncio.to_thread(copy_database, self.db_path, snapshot)
                self.seeded, self._own_snapshot = SeedSnapshot(snapshot, self.clock.now()), True
        if personas is not None:
            await self._meet_everyone(db)
            for chat_id, message_id in carry_on.next_message_ids.items():
                chat = emulator.state.chat(chat_id)
                if chat is not None:
                    chat.next_message_id = max(chat.next_message_id, message_id)
            await queue_menus(db, personas, self.clock.now())
            await self._start_bot()
        else:
            # No demo seeder (rpbot.demo) to give the family weeks of history: the three
            # people enrol the way a real service does, by invite through the bot.
            invites = await enrol_by_invites(db, self.clock.now())
            await self._start_bot()
            personas = await redeem_invites(emulator, invites)
        self.personas = personas
        self._watcher = ChatWatcher(emulator.state, personas, self.hub, self.zone)
        self._watcher.start()
        if self.sweep_seconds is not None:
            self._sweeper = SweepScheduler(self._background_sweep, self.sweep_seconds)
            self._sweeper.start()
        self.ready = True

    async def _meet_everyone(self, db: Database) -> None:
        """Open a chat in the emulator for everyone in the database; block who blocked."""
        assert self.emulator is not None
        for person in await known_people(db):
            self.emulator.user(person.user_id, person.name)
            if person.blocked_the_bot:
                self.emulator.block(person.user_id)

    async def _close(self) -> None:
        self.ready = False
        if self._sweeper is not None:
            self._sweeper.shutdown()
            self._sweeper = None
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        await self._stop_bot()
        if self.emulator is not None:
            await self.emulator.stop()
            self.emulator = None
        if self.db is not None:
            await self.db.dispose()
            self.db = None

    def _settings(self) -> Settings:
        assert self.emulator is not None
        return Settings(
            TELEGRAM_BOT_TOKEN=SANDBOX_TOKEN,
            TELEGRAM_API_URL=self.emulator.base_url,
            TELEGRAM_BOT_USERNAME=SANDBOX_BOT_USERNAME,
            DATABASE_URL=self.url,
            RPBOT_TIMEZONE=self.timezone,
            # The emulator has no flood limits; pacing to Telegram's would only slow the demo.
            RPBOT_RATE_OVERALL=1000,
            RPBOT_RATE_PER_CHAT=1000,
            RPBOT_RATE_PER_CHAT_BURST=1000,
            _env_file=None,
        )

    async def _start_bot(self) -> None:
        assert self.db is not None
        bot = TelegramBot(
            self._settings(),
            self.db,
            self.library,
            self.clock,
            poll_timeout=self.poll_timeout,
            sweep=False,  # the sandbox runs the SweepScheduler itself, around its own lock
        )
        await bot.start()
        self.bot, self.bot_running = bot, True

    async def _stop_bot(self) -> None:
        bot, self.bot, self.bot_running = self.bot, None, False
        if bot is not None:
            await bot.stop()

    async def _background_sweep(self) -> None:
        async with self._lock:
            if self.bot is not None:
                await self.bot.sweep_once()

    # -- people -----------------------------------------------------------------------------

    def persona(self, key: str) -> Persona:
        """The persona called ``key`` (parent, child or practitioner)."""
        self.require_ready()
        for persona in self.personas:
            if persona.key == key:
                return persona
        raise SandboxError(f"No persona '{key}'; use parent, child or practitioner.", 404)

    def _user(self, persona: Persona) -> FakeUser:
        assert self.emulator is not None
        return self.emulator.user(persona.user_id, persona.name)

    def require_ready(self) -> None:
        """Raise a 503 SandboxError while the sandbox is starting or resetting."""
        if not self.ready or self.emulator is None:
            raise SandboxError("The sandbox is starting or resetting; try again in a moment.", 503)

    def messages(self, key: str) -> list[JsonDict]:
        """Every message in the persona's chat, oldest first."""
        persona = self.persona(key)
        assert self.emulator is not None
        return chat_messages(self.emulator.state, persona.user_id, self.zone)

    def commands(self, key: str) -> list[JsonDict]:
        """The persona's command menu (what the bot set with setMyCommands)."""
        persona = self.persona(key)
        assert self.emulator is not None
        return chat_commands(self.emulator.state, persona.user_id)

    async def wait_for_bot_message(
        self,
        key: str,
        after: int,
        timeout: float,  # noqa: ASYNC109 - how long a caller is willing to wait
    ) -> bool:
        """Wait until the bot has sent the persona a message with id above ``after``."""
        persona = self.persona(key)
        assert self.emulator is not None
        state = self.emulator.state

        def arrived() -> bool:
            chat = state.chat(persona.user_id)
            return chat is not None and any(m.message_id > after for m in chat.history)

        return await state.chats_changed.wait_until(arrived, timeout)

    async def send(self, key: str, text: str) -> JsonDict:
        """The persona types ``text`` and sends it to the bot."""
        persona = self.persona(key)
        text = text.strip()
        if not text:
            raise SandboxError("Type a message first.")
        if len(text) > 4096:
            raise SandboxError("Telegram messages are at most 4096 characters.")
        sent = await self._user(persona).send(text)
        assert self.emulator is not None
        self.emulator.state.chats_changed.notify()  # wake the page's watcher
        return {"message_id": int(sent["message_id"])}

    async def press(self, key: str, message_id: int, data: str) -> JsonDict:
        """The persona presses the button with ``data`` on bot message ``message_id``."""
        persona = self.persona(key)
        assert self.emulator is not None
        chat = self.emulator.state.chat(persona.user_id)
        message = chat.bot_message(message_id) if chat is not None else None
        if message is None:
            raise SandboxError(f"There is no message #{message_id} in this chat.", 404)
        if all(data != button_data for row in message.buttons for _, button_data in row):
            raise SandboxError("That message has no such button (any more).", 409)
        query_id = await self._user(persona).press_data(data, message_id=message_id)
        return {"callback_query_id": query_id}

    # -- the control bar --------------------------------------------------------------------

    def clock_json(self) -> JsonDict:
        """The sandbox time, in UTC and as the families' local time."""
        now = self.clock.now()
        local = now.astimezone(self.zone)
        return {
            "utc": now.isoformat(),
            "local": local.isoformat(),
            "text": local.strftime("%a %d %b %Y, %H:%M"),
            "zone": self.timezone,
        }

    def _history_sizes(self) -> dict[int, int]:
        """How many messages the bot has sent to each chat (shown or not)."""
        assert self.emulator is not None
        return {chat.id: len(chat.history) for chat in self.emulator.state.chats.values()}

    def _delivered(self, before: dict[int, int]) -> tuple[dict[str, int], int]:
        """New messages since ``before``: per persona shown, and to anyone else."""
        after = self._history_sizes()
        new = {chat: count - before.get(chat, 0) for chat, count in after.items()}
        shown = {p.key: new[p.user_id] for p in self.personas if new.get(p.user_id, 0) > 0}
        others = sum(new.values()) - sum(shown.values())
        return shown, others

    def _summary(self, delivered: dict[str, int], others: int) -> str:
        """ "Child (Mia) got a message." and/or how many went to people not shown."""
        names = [f"{p.label} ({p.name})" for p in self.personas if p.key in delivered]
        parts = [f"{' and '.join(names)} got a message."] if names else []
        if others:
            what = "message went" if others == 1 else "messages went"
            parts.append(f"{others} {what} to family members not shown here.")
        return " ".join(parts) or "Nobody got a message."

    async def next_reminder(self) -> JsonDict:
        """Move the clock to the next due item and run the bot's sweep, until one of the
        three personas gets a message.

        A due item the sweep only reschedules (a reminder deferred past quiet hours, or one
        waiting for a flow to end), or one for a family member not shown, changes nothing in
        the page, so the clock moves on to the next one (at most ``MAX_NEXT_STEPS``).
        """
        async with self._lock:
            self.require_ready()
            assert self.db is not None
            assert self.bot is not None
            before, start = self._history_sizes(), self.clock.now()
            total = SweepReport()
            previous: datetime | None = None
            delivered: dict[str, int] = {}
            others = 0
            for _ in range(MAX_NEXT_STEPS):
                due = await next_due(self.db)
                if due is None or (due == previous and due <= self.clock.now()):
                    break
                previous = due
                if due > self.clock.now():
                    self.clock.set(due)
                total.add(await self.bot.sweep_once())
                delivered, others = self._delivered(before)
                if delivered:
                    break
        when = self.clock_json()["text"]
        if delivered or others:
            message = f"Sandbox time is now {when}. {self._summary(delivered, others)}"
        elif previous is None:
            message = "Nothing is scheduled: there are no reminders, nudges or expiries to come."
        else:
            message = f"Moved to {when}; nothing needed sending yet."
        self._publish_state(message)
        return {
            "moved": self.clock.now() > start,
            "clock": self.clock_json(),
            "delivered": delivered,
            "others": others,
            "sent": total.sent,
            "nudged": total.nudged,
            "expired": total.expired,
            "message": message,
        }

    async def digest(self) -> JsonDict:
        """Ask the bot to send this week's digests now (when the bot can make digests)."""
        async with self._lock:
            self.require_ready()
            bot = self.bot
            assert bot is not None
            # TODO(digest): weekly digests are being built. The bot's own entry point
            # (TelegramBot.send_digests, which also delivers) is used when it exists, else
            # UpdateRouter.send_digests as first planned; until then the page says so.
            on_bot = getattr(bot, "send_digests", None)
            on_router = getattr(bot.router, "send_digests", None)
            if on_bot is None and on_router is None:
                self._publish_state(DIGEST_MISSING)
                return {"available": False, "delivered": {}, "message": DIGEST_MISSING}
            before = self._history_sizes()
            if on_bot is not None:
                await on_bot(everyone_now=True)
            elif on_router is not None:
                result = await on_router(now=self.clock.now(), force=True)
                rows = result if isinstance(result, list) else getattr(result, "rows", None)
                if rows and all(isinstance(row, OutboxMessage) for row in rows):
                    await bot.sender.deliver(rows)
            await bot.sender.flush_all()
            delivered, others = self._delivered(before)
        message = f"Weekly digest sent. {self._summary(delivered, others)}"
        if not delivered and not others:
            message = "The digest had nothing to send this week."
        self._publish_state(message)
        return {"available": True, "delivered": delivered, "message": message}

    async def restart(self) -> JsonDict:
        """Stop the bot and start a new one on the same database and emulator."""
        async with self._lock:
            self.require_ready()
            assert self.db is not None
            before = await kept(self.db)
            self._publish_state("Restarting the bot…", bot="restarting")
            await self._stop_bot()
            await self._start_bot()
            after = await kept(self.db)
        message = (
            f"The bot restarted. Nothing was lost: {after.answers} saved answers, "
            f"{after.active_runs} activities in progress and {after.open_reminders} reminders "
            "to come are all in the database, and conversations carry on where they were."
        )
        if after != before:  # something happened between the counts (e.g. a sweep)
            message = "The bot restarted; conversations carry on where they were."
        self._publish_state(message)
        return {
            "kept": {
                "answers": after.answers,
                "active_runs": after.active_runs,
                "open_reminders": after.open_reminders,
            },
            "message": message,
        }

    async def reset(self) -> JsonDict:
        """Wipe the database and the chats and seed the demo again."""
        async with self._lock:
            self._publish_state("Resetting the demo…", bot="restarting")
            await self._close()
            if self.seeded is None:
                self.clock.set(self.reset_time())
            await self._open_fresh()
        message = "The demo was reset: a fresh family, fresh chats."
        self.hub.publish({"type": "reset"})
        self._publish_state(message)
        return {"message": message, "personas": [p.to_json() for p in self.personas]}

    def _publish_state(self, message: str | None = None, *, bot: str | None = None) -> None:
        event: JsonDict = {
            "type": "status",
            "bot": bot or ("running" if self.bot_running else "stopped"),
            "clock": self.clock_json(),
        }
        if message is not None:
            event["message"] = message
        self.hub.publish(event)

    def status_json(self) -> JsonDict:
        """The clock and whether the bot is running, for a page that just opened."""
        return {
            "type": "status",
            "bot": "running" if self.bot_running else "stopped",
            "clock": self.clock_json(),
            "ready": self.ready,
        }
