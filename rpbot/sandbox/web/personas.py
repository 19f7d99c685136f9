"""The three people of the sandbox and how they come to exist: the demo seeder or invites.

The personas are always the seeded people themselves: the practitioner and the parent and
child of one family, found in the database by their Telegram ids. With the demo seeder
(``rpbot.demo``) they are created with weeks of history; without it the sandbox enrols them
the way a real service does: a practitioner, a family, two invites, and each person sending
``/start <code>`` to the bot through the emulator.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from rpbot.engine import Library
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.services.enrolment import add_practitioner, create_family, create_invite
from rpbot.services.menus import commands_for
from rpbot.services.outbox import Outbox
from rpbot.storage.db import Database
from rpbot.storage.tables import Family, Member, Practitioner

__all__ = [
    "PERSONA_KEYS",
    "Invites",
    "Person",
    "Persona",
    "demo_seeder",
    "enrol_by_invites",
    "find_personas",
    "known_people",
    "queue_menus",
    "redeem_invites",
    "run_demo_seeder",
]

PERSONA_KEYS = ("parent", "child", "practitioner")
LABELS = {"parent": "Parent", "child": "Child", "practitioner": "Practitioner"}

# The people the sandbox enrols when there is no demo seeder.
PRACTITIONER_ID, PRACTITIONER_NAME = 7001, "Alex"
FAMILY_NAME, FAMILY_NATION = "Green", "england"
PARENT_ID, PARENT_NAME = 7101, "Sam"
CHILD_ID, CHILD_NAME = 7102, "Mia"
DEMO_WEEKS = 2  # of history: enough for a digest with a trend, seeded in a few seconds
REPLY_TIMEOUT = 15.0  # seconds; a guard against a bot that never answers, not a wait


@dataclass(frozen=True)
class Persona:
    """One of the three people in the sandbox page."""

    key: str
    name: str
    user_id: int

    @property
    def label(self) -> str:
        """Parent, Child or Practitioner."""
        return LABELS[self.key]

    def to_json(self) -> dict[str, Any]:
        """The persona for the web page."""
        return {"key": self.key, "label": self.label, "name": self.name, "user_id": self.user_id}


@dataclass(frozen=True)
class Invites:
    """Invite codes made for the family's parent and child (shown once, stored hashed)."""

    parent: str
    child: str


async def find_personas(db: Database) -> list[Persona] | None:
    """Parent, child and practitioner of the first family that has both joined, or None."""
    async with db.transaction() as repos:
        session = repos.session
        practitioners = (
            await session.exec(select(Practitioner).order_by(col(Practitioner.id)))
        ).all()
        for practitioner in practitioners:
            families = (
                await session.exec(
                    select(Family)
                    .where(col(Family.practitioner_id) == practitioner.id)
                    .order_by(col(Family.id))
                )
            ).all()
            for family in families:
                members = (
                    await session.exec(
                        select(Member)
                        .where(
                            col(Member.family_id) == family.id,
                            col(Member.telegram_user_id).is_not(None),
                            col(Member.active),  # not someone who blocked the bot
                        )
                        .order_by(col(Member.id))
                    )
                ).all()
                parent = next((m for m in members if m.role == "parent"), None)
                child = next((m for m in members if m.role == "child"), None)
                if parent is None or child is None:
                    continue
                return [
                    Persona("parent", parent.display_name, int(parent.telegram_user_id or 0)),
                    Persona("child", child.display_name, int(child.telegram_user_id or 0)),
                    Persona("practitioner", practitioner.name, int(practitioner.telegram_user_id)),
                ]
    return None


@dataclass(frozen=True)
class Person:
    """Anyone in the database with a Telegram account (shown in the page or not)."""

    user_id: int
    name: str
    blocked_the_bot: bool


async def known_people(db: Database) -> list[Person]:
    """Every practitioner and member with a Telegram id, so the emulator knows their chats.

    Seeded families have more members than the page shows; the bot still sends them
    reminders, which must reach a chat (or, for someone who blocked the bot, be refused).
    """
    async with db.transaction() as repos:
        session = repos.session
        practitioners = (await session.exec(select(Practitioner))).all()
        members = (
            await session.exec(select(Member).where(col(Member.telegram_user_id).is_not(None)))
        ).all()
    people = [Person(int(p.telegram_user_id), p.name, False) for p in practitioners]
    people += [Person(int(m.telegram_user_id or 0), m.display_name, not m.active) for m in members]
    return people


def demo_seeder() -> Callable[..., Any] | None:
    """``rpbot.demo.seed_demo`` when that package exists, else None."""
    if importlib.util.find_spec("rpbot.demo") is None:
        return None
    module = importlib.import_module("rpbot.demo")
    seeder = getattr(module, "seed_demo", None)
    return seeder if callable(seeder) else None


async def run_demo_seeder(
    seeder: Callable[..., Any], db: Database, library: Library, now: datetime
) -> None:
    """Seed one family with a few weeks of history, passing only the options it takes."""
    # ``end``/``now``: the history ends at the sandbox clock's time, not the machine's.
    wanted: dict[str, Any] = {
        "families": 1,
        "weeks": DEMO_WEEKS,
        "seed": 7,
        "end": now,
        "now": now,
    }
    try:
        parameters = inspect.signature(seeder).parameters
    except (TypeError, ValueError):  # no signature to read: pass the documented options
        options = {k: v for k, v in wanted.items() if k not in ("end", "now")}
    else:
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        options = {k: v for k, v in wanted.items() if takes_any or k in parameters}
    result = seeder(db, library, **options)
    if inspect.isawaitable(result):
        await result


async def enrol_by_invites(db: Database, now: datetime) -> Invites:
    """The practitioner, the Green family and invites for its parent and child."""
    async with db.transaction() as repos:
        practitioner = await add_practitioner(repos, PRACTITIONER_ID, PRACTITIONER_NAME, now)
        family = await create_family(repos, practitioner, FAMILY_NAME, FAMILY_NATION, now)
        parent = await create_invite(repos, family, "parent", PARENT_NAME, now)
        child = await create_invite(repos, family, "child", CHILD_NAME, now)
    return Invites(parent=parent.code, child=child.code)


async def redeem_invites(emulator: BotApiEmulator, invites: Invites) -> list[Persona]:
    """The three people say hello to the running bot; the parent and child join with codes.

    Waits until every message the bot sends in reply (hello, welcomes, reminder summaries,
    the practitioner's "has joined" notes) has arrived, so the chats start settled.
    """
    practitioner = emulator.user(PRACTITIONER_ID, PRACTITIONER_NAME)
    await practitioner.send("/start")
    await practitioner.next_reply(REPLY_TIMEOUT)
    for user_id, name, code in (
        (PARENT_ID, PARENT_NAME, invites.parent),
        (CHILD_ID, CHILD_NAME, invites.child),
    ):
        person = emulator.user(user_id, name)
        await person.send(f"/start {code}")
        await person.next_reply(REPLY_TIMEOUT)  # the welcome, with the menu
        await person.next_reply(REPLY_TIMEOUT)  # the reminders they will get
        await practitioner.next_reply(REPLY_TIMEOUT)  # "... has joined the Green family"
    return [
        Persona("parent", PARENT_NAME, PARENT_ID),
        Persona("child", CHILD_NAME, CHILD_ID),
        Persona("practitioner", PRACTITIONER_NAME, PRACTITIONER_ID),
    ]


async def queue_menus(db: Database, personas: list[Persona], now: datetime) -> None:
    """Record each persona's command menu in the outbox; the bot sets it when it starts.

    A fresh emulator knows no menus (it keeps them in memory), and seeded people never sent
    ``/start``, so this is how their Telegram command menu appears.
    """
    async with db.transaction() as repos:
        out = Outbox(repos, now)
        for persona in personas:
            await out.commands(persona.user_id, commands_for(persona.key))
