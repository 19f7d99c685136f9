"""Fixtures for the web sandbox: the whole sandbox in-process on a loopback port.

The clock is a FakeClock on Monday 23 November 2026 at 09:00 London time (GMT = UTC). The
sandbox seeds with the demo seeder (``rpbot.demo``) when it exists, as ``rpbot sandbox``
does; tests marked ``invites`` use the other path (people enrolled by invite through the bot),
whose people and times are known exactly: parent Sam, child Mia, practitioner Alex; the
child's chore check-in at 17:00 and the parent's diary at 19:30.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from rpbot.clock import FakeClock
from rpbot.dialogues import default_library
from rpbot.sandbox.web import Sandbox, SandboxServer, SeedSnapshot, runtime
from rpbot.sandbox.web.personas import demo_seeder, run_demo_seeder
from rpbot.storage.db import Database, upgrade

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
JsonDict = dict[str, Any]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "invites: seed by invites through the bot, not with the demo seeder"
    )


@pytest.fixture(autouse=True)
def _seeding(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("invites") is not None:
        monkeypatch.setattr(runtime, "demo_seeder", lambda: None)


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns on int time periods unless opted in to timedelta (warnings are errors).
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> SeedSnapshot | None:
    """The real demo seeder's database at START, seeded once per test session (it takes
    seconds); None while ``rpbot.demo`` does not exist."""
    seeder = demo_seeder()
    if seeder is None:
        return None
    path = tmp_path_factory.mktemp("demo") / "seeded.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)

    async def seed() -> None:
        db = Database(url)
        try:
            await run_demo_seeder(seeder, db, default_library(), START)
        finally:
            await db.dispose()

    asyncio.run(seed())
    return SeedSnapshot(path, START)


@pytest.fixture
def seeded(
    request: pytest.FixtureRequest, demo_database: SeedSnapshot | None
) -> SeedSnapshot | None:
    """What a test's sandbox starts from: the demo database, or None (seed by invites)."""
    if request.node.get_closest_marker("invites") is not None:
        return None
    return demo_database


def make_sandbox(
    tmp_path: Path,
    clock: FakeClock,
    *,
    sweep_seconds: float | None,
    seeded: SeedSnapshot | None = None,
) -> Sandbox:
    """A sandbox on a fresh database in ``tmp_path`` with the FakeClock."""
    return Sandbox(
        tmp_path / "sandbox.db",
        default_library(),
        clock,
        sweep_seconds=sweep_seconds,
        poll_timeout=1,
        reset_time=lambda: START,
        seeded=seeded,
    )


@pytest_asyncio.fixture
async def server(
    tmp_path: Path, clock: FakeClock, seeded: SeedSnapshot | None
) -> AsyncIterator[SandboxServer]:
    """A started sandbox behind its web server on a free loopback port.

    No background sweeper: sweeps happen when a test presses "Next reminder".
    """
    sandbox = make_sandbox(tmp_path, clock, sweep_seconds=None, seeded=seeded)
    web = SandboxServer(sandbox, 0, heartbeat=0.5)
    await web.start()
    try:
        await sandbox.start()
        yield web
    finally:
        await web.stop()
        await sandbox.stop()


class Api:
    """The page's JSON API, as the tests use it."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def get(self, path: str, **query: str) -> Any:
        async with self.session.get(self.url + path, params=query) as response:
            body = await response.json()
        assert body["ok"], body
        return body["result"]

    async def post(self, path: str, body: JsonDict | None = None, status: int = 200) -> Any:
        async with self.session.post(self.url + path, json=body or {}) as response:
            answer = await response.json()
            assert response.status == status, answer
        return answer["result"] if answer["ok"] else answer

    async def messages(self, persona: str, after: int = 0) -> list[JsonDict]:
        result = await self.get(f"/api/chats/{persona}/messages", after=str(after))
        messages: list[JsonDict] = result["messages"]
        return messages

    async def send(self, persona: str, text: str) -> int:
        result = await self.post(f"/api/chats/{persona}/send", {"text": text})
        return int(result["message_id"])

    async def bot_message(
        self, persona: str, matches: Callable[[JsonDict], bool], after: int = 0
    ) -> JsonDict:
        """The first bot message after ``after`` that ``matches``, waiting for it (<= 10 s)."""
        seen: list[str] = []
        for _ in range(20):
            result = await self.get(f"/api/chats/{persona}/messages", after=str(after), wait="0.5")
            for message in result["messages"]:
                if message["from"] == "bot" and matches(message):
                    return message
                seen.append(message["html"][:60])
            if result["messages"]:
                after = max(int(m["id"]) for m in result["messages"])
        raise AssertionError(f"no matching bot message for {persona}; saw {seen}")

    async def press(self, persona: str, message: JsonDict, label: str) -> None:
        data = next(b["data"] for row in message["buttons"] for b in row if b["text"] == label)
        await self.post(f"/api/chats/{persona}/press", {"message_id": message["id"], "data": data})


@pytest_asyncio.fixture
async def api(server: SandboxServer) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, server.url)


def containing(needle: str) -> Callable[[JsonDict], bool]:
    """A matcher for a message whose HTML contains ``needle``."""
    return lambda message: needle in str(message["html"])


def with_buttons(needle: str) -> Callable[[JsonDict], bool]:
    """A matcher for a question (with buttons) whose HTML contains ``needle``."""
    return lambda message: bool(message["buttons"]) and needle in str(message["html"])
