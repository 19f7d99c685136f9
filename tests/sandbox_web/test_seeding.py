"""Where the personas come from: the demo seeder when it exists, else invites; --keep."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from rpbot.clock import FakeClock
from rpbot.engine import Library
from rpbot.sandbox.web import Sandbox, SeedSnapshot, runtime
from rpbot.sandbox.web.personas import run_demo_seeder
from rpbot.storage.db import Database
from tests.sandbox_web.conftest import START, make_sandbox

pytestmark = pytest.mark.asyncio


async def fake_seed_demo(
    db: Database, library: Library, *, families: int = 3, weeks: int = 4, seed: int = 0
) -> None:
    """Stands in for rpbot.demo.seed_demo: people created straight in the database."""
    assert families == 1
    async with db.transaction() as repos:
        practitioner = await repos.practitioners.add(8001, "Jo", START)
        family = await repos.families.create(practitioner.id or 0, "Rivers", "wales", START)
        for role, name, telegram_id in (("parent", "Kim", 8101), ("child", "Leo", 8102)):
            await repos.members.create(
                family.id or 0,
                role,
                name,
                START,
                telegram_user_id=telegram_id,
                chat_id=telegram_id,
                timezone="Europe/London",
                language="en",
            )


async def test_the_demo_seeder_is_used_when_it_exists_and_its_people_are_the_personas(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "demo_seeder", lambda: fake_seed_demo)
    sandbox = make_sandbox(tmp_path, clock, sweep_seconds=None)
    await sandbox.start()
    try:
        assert [(p.key, p.name, p.user_id) for p in sandbox.personas] == [
            ("parent", "Kim", 8101),
            ("child", "Leo", 8102),
            ("practitioner", "Jo", 8001),
        ]
        # They never sent /start, yet their command menus are set (through the outbox).
        assert any(c["command"] == "diary" for c in sandbox.commands("parent"))
        assert any(c["command"] == "families" for c in sandbox.commands("practitioner"))
        await sandbox.send("parent", "/help")
        assert await sandbox.wait_for_bot_message("parent", 0, 10)
    finally:
        await sandbox.stop()


async def test_the_seeder_gets_only_the_options_it_takes(tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    def sync_seeder(db: Database, library: Library, **options: Any) -> None:
        calls.append(options)

    def picky(db: Database, library: Library, weeks: int) -> None:
        calls.append({"weeks": weeks})

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        await run_demo_seeder(sync_seeder, db, Library({}, None), START)
        await run_demo_seeder(picky, db, Library({}, None), START)
    finally:
        await db.dispose()
    everything = {"families": 1, "weeks": 2, "seed": 7, "end": START, "now": START}
    assert calls == [everything, {"weeks": 2}]


@pytest.mark.invites
async def test_keep_reuses_the_database_and_its_people(tmp_path: Path, clock: FakeClock) -> None:
    first = make_sandbox(tmp_path, clock, sweep_seconds=None)
    await first.start()
    try:
        await first.send("parent", "/diary")
        assert await first.wait_for_bot_message("parent", 3, 10)
    finally:
        await first.stop()

    again = Sandbox(
        tmp_path / "sandbox.db", first.library, clock, keep=True, sweep_seconds=None, poll_timeout=1
    )
    await again.start()
    try:
        assert [p.name for p in again.personas] == ["Sam", "Mia", "Alex"]
        assert again.messages("parent") == []  # a new emulator: the chat starts empty...
        assert any(c["command"] == "diary" for c in again.commands("parent"))
        # ...but the diary is still open in the database: an answer continues it.
        await again.send("parent", "calm")
        assert await again.wait_for_bot_message("parent", 0, 10)
        texts = [m["html"] for m in again.messages("parent") if m["from"] == "bot"]
        assert any("school run" in text for text in texts), texts
    finally:
        await again.stop()


async def test_the_real_demo_seeder_gives_an_active_family_with_history(
    tmp_path: Path, clock: FakeClock, seeded: SeedSnapshot | None
) -> None:
    if seeded is None:
        pytest.skip("rpbot.demo is not there yet; the sandbox enrols by invite instead")
    sandbox = make_sandbox(tmp_path, clock, sweep_seconds=None, seeded=seeded)
    await sandbox.start()
    try:
        assert [p.key for p in sandbox.personas] == ["parent", "child", "practitioner"]
        assert sandbox.db is not None
        kept = await runtime.kept(sandbox.db)
        assert kept.answers > 0  # weeks of history
        await sandbox.send("parent", "/help")
        assert await sandbox.wait_for_bot_message("parent", 0, 10)
    finally:
        await sandbox.stop()


async def test_a_fresh_seed_is_kept_so_reset_restores_it_and_its_time(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seedings: list[int] = []

    async def counting_seeder(db: Database, library: Library, **options: Any) -> None:
        seedings.append(1)
        await fake_seed_demo(db, library, families=1, weeks=3)

    monkeypatch.setattr(runtime, "demo_seeder", lambda: counting_seeder)
    sandbox = make_sandbox(tmp_path, clock, sweep_seconds=None)
    await sandbox.start()
    try:
        assert sandbox.seeded is not None
        assert sandbox.seeded.taken_at == START
        assert sandbox.seeded.path.exists()
        await sandbox.send("parent", "/diary")
        assert await sandbox.wait_for_bot_message("parent", 0, 10)
        clock.set(START + timedelta(days=2))
        await sandbox.reset()
        assert seedings == [1]  # restored from the copy, not seeded again
        assert clock.now() == START
        assert sandbox.messages("parent") == []
        assert [p.name for p in sandbox.personas] == ["Kim", "Leo", "Jo"]
        snapshot = sandbox.seeded.path
    finally:
        await sandbox.stop()
    assert not snapshot.exists()  # the sandbox's own copy goes when it stops
