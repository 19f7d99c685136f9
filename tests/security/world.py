"""A small world of two practitioners and their families, seeded once through the real router,
copied for every case of the access-control table (so a case may change anything).

- Alex (9001) runs the Green family: Sam (1001, parent) and Mia (1002, child).
- Bea (9002) runs the Red family: Pat (1003, parent).
- A stranger (5555) has never been invited.

Everyone's words carry a marker, so a test can say whose words may reach whom:
Sam's check-in answer (which also raised a safeguarding alert for Alex), Mia's shared and
private feelings check-ins, Pat's check-in (an alert for Bea). Sam, Mia and Pat each have an
activity open at a question with buttons, a reminder just sent and their default schedules.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text as sql_text
from sqlmodel import col, select

from rpbot.clock import FakeClock
from rpbot.dialogues import default_library
from rpbot.engine import Library, Session
from rpbot.services.enrolment import add_practitioner, create_family, create_invite
from rpbot.services.incoming import Incoming
from rpbot.services.router import UpdateRouter
from rpbot.storage.db import Database, upgrade
from rpbot.storage.tables import (
    Answer,
    AuditEntry,
    OutboxMessage,
    SafeguardingAlert,
)

SEEDED = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # a Monday evening in London (= UTC)
CASE_TIME = SEEDED + timedelta(minutes=5)
SECRET = "123456:TEST-secret"

ALEX, BEA = 9001, 9002
SAM, MIA, PAT = 1001, 1002, 1003
STRANGER = 5555
GROUP_CHAT, CHANNEL_CHAT = -100123, -100999

# Markers in people's words (see the module docstring).
SAM_WORDS = "heron-4471 I hit him with a belt last night"
PAT_WORDS = "lynx-2290 I hit him with a belt last night"
MIA_SHARED = "zebra-3318 we baked a cake"
MIA_PRIVATE = "otter-5562 I miss my dog"
MARKERS = {"sam": "heron-4471", "pat": "lynx-2290", "shared": "zebra-3318", "private": "otter-5562"}

_library: Library | None = None


def library() -> Library:
    """The dialogues, loaded once for all cases."""
    global _library  # read-only after loading; loading takes a while
    if _library is None:
        _library = default_library()
    return _library


def router_for(db: Database, clock: FakeClock) -> UpdateRouter:
    """A router as the bot builds it (username and secret as in the tests)."""
    return UpdateRouter(db, library(), clock, secret=SECRET, bot_username="rpbot_test_bot")


def command(user: int, text: str, chat: int | None = None, chat_type: str = "private") -> Incoming:
    name, _, args = text.lstrip("/").partition(" ")
    return Incoming(
        user_id=user,
        chat_id=user if chat is None else chat,
        chat_type=chat_type,
        kind="command",
        command=name,
        args=args.strip(),
    )


def typed(user: int, text: str, chat: int | None = None, chat_type: str = "private") -> Incoming:
    chat_id = user if chat is None else chat
    return Incoming(user_id=user, chat_id=chat_id, chat_type=chat_type, kind="text", text=text)


def pressed(user: int, data: str, chat: int | None = None, chat_type: str = "private") -> Incoming:
    chat_id = user if chat is None else chat
    return Incoming(
        user_id=user, chat_id=chat_id, chat_type=chat_type, kind="button", data=data, message_id=1
    )


@dataclass
class World:
    """The seeded template database and the ids a table row may name."""

    template: Path
    ids: dict[str, int] = field(default_factory=dict)
    before: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # see state()
    audit_from: int = 0  # the last audit entry of the seeding

    def copy(self, to: Path) -> Database:
        """A fresh copy of the seeded database for one case."""
        shutil.copyfile(self.template, to)
        return Database(f"sqlite+aiosqlite:///{to}")


def build(folder: Path) -> World:
    """Migrate and seed the template database (once per test module)."""
    template = folder / "world.db"
    url = f"sqlite+aiosqlite:///{template}"
    upgrade(url)
    world = World(template)
    asyncio.run(_seed(url, world))
    return world


async def _look(url: str, world: World) -> None:
    db = Database(url)
    try:
        world.before = await state(db)
        world.audit_from = await last_audit_id(db)
    finally:
        await db.dispose()


async def _seed(url: str, world: World) -> None:
    db = Database(url)
    clock = FakeClock(SEEDED)
    router = router_for(db, clock)
    try:
        now = clock.now()
        async with db.transaction() as repos:
            alex = await add_practitioner(repos, ALEX, "Alex", now)
            bea = await add_practitioner(repos, BEA, "Bea", now)
            green = await create_family(repos, alex, "Green", "england", now)
            red = await create_family(repos, bea, "Red", "scotland", now)
            codes = {
                SAM: (await create_invite(repos, green, "parent", "Sam", now)).code,
                MIA: (await create_invite(repos, green, "child", "Mia", now)).code,
                PAT: (await create_invite(repos, red, "parent", "Pat", now)).code,
            }
        for user, code in codes.items():
            await router.handle(command(user, f"/start {code}"))
        # Parents: a check-in whose answer raises an alert, put aside for a diary.
        for user, words in ((SAM, SAM_WORDS), (PAT, PAT_WORDS)):
            await router.handle(command(user, "/checkin"))
            await router.handle(typed(user, words))
            await router.handle(command(user, "/diary"))
        # Mia: one feelings check-in shared with her worker, one kept private, then houses.
        for good, share in ((MIA_SHARED, "yes"), (MIA_PRIVATE, "no")):
            await router.handle(command(MIA, "/feelings"))
            for text in ("4", good, good, share):
                await router.handle(typed(MIA, text))
        await router.handle(command(MIA, "/houses"))
        async with db.transaction() as repos:
            ids = world.ids
            ids.update(green=green.id or 0, red=red.id or 0, alex=alex.id or 0, bea=bea.id or 0)
            for name, user in (("sam", SAM), ("mia", MIA), ("pat", PAT)):
                member = await repos.members.by_telegram_id(user)
                assert member is not None, name
                assert member.id is not None
                ids[name] = member.id
                run = await repos.runs.active_for(member.id)
                assert run is not None, name
                assert run.id is not None
                ids[f"{name}_run"] = run.id
                ids[f"{name}_prompt"] = Session.from_json(run.session_json).prompt
                schedules = await repos.schedules.for_member(member.id)
                ids[f"{name}_sched"] = schedules[0].id or 0
                reminder = await repos.reminders.add(
                    member.id, schedules[0].flow_id, now, now, schedules[0].id, status="sent"
                )
                reminder.sent_at = now
                await repos.reminders.save(reminder)
                ids[f"{name}_reminder"] = reminder.id or 0
            alerts = list((await repos.session.exec(select(SafeguardingAlert))).all())
            by_family = {a.family_id: a.id or 0 for a in alerts}
            ids["green_alert"], ids["red_alert"] = by_family[green.id or 0], by_family[red.id or 0]
            answers = list((await repos.session.exec(select(Answer))).all())
            shares = {(a.free_text, a.share) for a in answers}
            assert (MIA_SHARED, "practitioner") in shares, shares
            assert (MIA_PRIVATE, "private") in shares, shares
            assert any(a.free_text == SAM_WORDS for a in answers), shares
    finally:
        await db.dispose()
    await _look(url, world)


# --- looking at a case's effects ---------------------------------------------------------

STATE_TABLES = (
    "families",
    "invites",
    "flow_runs",
    "answers",
    "schedules",
    "reminders",
    "safeguarding_alerts",
    "digests",
    "members",
    "practitioners",
)
IGNORED_COLUMNS = {"updated_at", "last_active_at", "chat_id", "pending_json", "nudge_at"}


async def state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """What a refused request must not change: every row of the tables that hold people's
    records, and members' and practitioners' identities (not their last-seen times)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with db.transaction() as repos:
        for table in STATE_TABLES:
            result = await repos.session.exec(  # type: ignore[call-overload]
                sql_text(f"SELECT * FROM {table} ORDER BY id")
            )
            keep = [i for i, key in enumerate(result.keys()) if key not in IGNORED_COLUMNS]
            found[table] = [tuple(r[i] for i in keep) for r in result.all()]
    return found


async def audit_after(db: Database, last_id: int) -> list[AuditEntry]:
    async with db.transaction() as repos:
        query = select(AuditEntry).where(col(AuditEntry.id) > last_id).order_by(col(AuditEntry.id))
        return list((await repos.session.exec(query)).all())


async def last_audit_id(db: Database) -> int:
    entries = await audit_after(db, 0)
    return max((e.id or 0 for e in entries), default=0)


def shown(row: OutboxMessage) -> str:
    """Everything a person would see from one outbox row: text, buttons, files, captions."""
    payload = json.loads(row.payload_json)
    parts = [str(payload.get(key, "")) for key in ("text", "answer", "caption", "content")]
    parts += [b["label"] for line in payload.get("buttons", []) for b in line]
    return "\n".join(p for p in parts if p)
