"""Fixtures for end-to-end tests: the emulator, a migrated database, the real bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
import uvloop

from rpbot.clock import FakeClock
from rpbot.config import Settings
from rpbot.dialogues import default_library
from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.services.enrolment import add_practitioner, create_family, create_invite
from rpbot.storage.db import Database, upgrade
from rpbot.telegram.app import TelegramBot

PRACTITIONER_ID = 9001
START = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


class Sleeps:
    """An injected sleep that records what it was asked to wait, and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The end-to-end tests run on uvloop, the loop ``rpbot run`` uses by default
    (RPBOT_EVENT_LOOP); the other suites run on asyncio's own, the fallback."""
    return {"uvloop": uvloop.new_event_loop}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator()
    await emu.start()
    yield emu
    await emu.stop()


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    yield db
    await db.dispose()


@pytest.fixture
def settings(emulator: BotApiEmulator, database: Database) -> Settings:
    return Settings(
        TELEGRAM_BOT_TOKEN=emulator.token,
        TELEGRAM_API_URL=emulator.base_url,
        DATABASE_URL=database.url,
        # The limiter waits in real time; rate limits have their own tests (test_ratelimit).
        RPBOT_RATE_PER_CHAT=1000,
        RPBOT_RATE_PER_CHAT_BURST=1000,
        RPBOT_RATE_OVERALL=1000,
        _env_file=None,  # type: ignore[call-arg]
    )


BotFactory = Callable[[], Awaitable[TelegramBot]]


@pytest_asyncio.fixture
async def start_bot(
    settings: Settings, database: Database, clock: FakeClock, sleeps: Sleeps
) -> AsyncIterator[BotFactory]:
    """Start a bot (call again after stopping one to simulate a restart)."""
    bots: list[TelegramBot] = []

    async def start() -> TelegramBot:
        # Sweeps are driven by the tests (bot.sweep_once after moving the clock), not by time.
        bot = TelegramBot(
            settings, database, default_library(), clock, sleep=sleeps, poll_timeout=1, sweep=False
        )
        await bot.start()
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        await bot.stop()


@pytest_asyncio.fixture
async def bot(start_bot: BotFactory) -> TelegramBot:
    return await start_bot()


@pytest_asyncio.fixture
async def family(database: Database, clock: FakeClock) -> int:
    """A practitioner (Telegram id 9001) with the Green family in England; the family id."""
    async with database.transaction() as repos:
        practitioner = await add_practitioner(repos, PRACTITIONER_ID, "Alex", clock.now())
        green = await create_family(repos, practitioner, "Green", "england", clock.now())
        assert green.id is not None
        return green.id


async def invite_code(
    database: Database, clock: FakeClock, family_id: int, role: str, name: str
) -> str:
    """A fresh invite code for the family."""
    async with database.transaction() as repos:
        found = await repos.families.by_id(family_id)
        assert found is not None
        return (await create_invite(repos, found, role, name, clock.now())).code


async def join(user: FakeUser, code: str) -> None:
    """Redeem an invite and read the welcome."""
    await user.send(f"/start {code}")
    welcome = await user.next_reply()
    assert "Welcome" in welcome.text or "Hi" in welcome.text, welcome.text
    reminders = await user.next_reply()
    assert "/reminders" in (reminders.text or ""), reminders.text
