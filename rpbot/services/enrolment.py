"""Joining the programme: practitioners, families and single-use invite codes.

Codes are random (144 bits), stored only as a SHA-256 hash, single use, valid for 7 days and
bound to the Telegram user who redeems them. Wrong codes are rate limited per user, keyed by
an HMAC of the user id so nothing identifies a stranger.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from rpbot.engine import NATIONS
from rpbot.services.incoming import Incoming
from rpbot.services.menus import commands_for, menu_buttons
from rpbot.services.outbox import Outbox
from rpbot.services.reminders import Reminders
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, Invite, Member, Practitioner

INVITE_TTL = timedelta(days=7)
ATTEMPT_WINDOW = timedelta(hours=1)
MAX_WRONG_CODES = 5
ROLES = ("parent", "child")
UNKNOWN_COUNTER = "unknown_contacts"

UNKNOWN_TEXT = (
    "Hello! This bot is for families working with a family practitioner. "
    "If that's you, please ask your practitioner for your own joining link."
)
BAD_CODE_TEXT = (
    "Sorry, that link didn't work - it may have been used already or expired. "
    "Please ask your practitioner for a new one."
)
TOO_MANY_TEXT = (
    "That's a few tries with links that didn't work. Please wait an hour, and check the link "
    "with your practitioner."
)
WELCOME = {
    "parent": (
        "Welcome, {name} 👋 I'm here between your sessions with {practitioner}. I'll help you "
        "keep a diary, check in, reflect and learn - a few minutes at a time. You can stop and "
        "come back whenever you like. What would you like to start with?"
    ),
    "child": (
        "Hi {name} 👋 I'm a helper bot. I'll ask you some easy questions now and then. "
        "There are no wrong answers, and you can skip anything. What would you like to do?"
    ),
}


class EnrolmentError(Exception):
    """An enrolment request cannot be carried out; the message says how to fix it."""


def hash_code(code: str) -> str:
    """The stored form of an invite code."""
    return hashlib.sha256(code.encode()).hexdigest()


def user_key(secret: str, user_id: int) -> str:
    """A keyed hash of a Telegram user id (for rate limits without identities)."""
    return hmac.new(secret.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    """The t.me link that opens the bot with the code."""
    return f"https://t.me/{bot_username}?start={code}"


@dataclass(frozen=True)
class NewInvite:
    """A created invite and its code (shown once, never stored in clear)."""

    invite: Invite
    code: str


async def add_practitioner(
    repos: Repos, telegram_id: int, name: str, now: datetime
) -> Practitioner:
    """Register a practitioner by Telegram user id."""
    if await repos.practitioners.by_telegram_id(telegram_id) is not None:
        raise EnrolmentError(f"a practitioner with Telegram id {telegram_id} already exists")
    if not name.strip():
        raise EnrolmentError("give the practitioner's name, e.g. --name 'Alex Smith'")
    return await repos.practitioners.add(telegram_id, name.strip(), now)


async def create_family(
    repos: Repos, practitioner: Practitioner, name: str, nation: str, now: datetime
) -> Family:
    """Create a family for a practitioner."""
    if nation not in NATIONS:
        raise EnrolmentError(f"nation must be one of {', '.join(NATIONS)}")
    name = name.strip()
    if not name or len(name) > 120:
        raise EnrolmentError("give the family a name of 1-120 characters")
    for family in await repos.families.for_practitioner(practitioner.id or 0):
        if family.name.casefold() == name.casefold():
            raise EnrolmentError(f"you already have a family called '{family.name}'")
    return await repos.families.create(practitioner.id or 0, name, nation, now)


async def create_invite(
    repos: Repos, family: Family, role: str, member_name: str, now: datetime
) -> NewInvite:
    """Create a single-use invite for a new parent or child."""
    if role not in ROLES:
        raise EnrolmentError("role must be parent or child")
    member_name = member_name.strip()
    if not member_name or len(member_name) > 120:
        raise EnrolmentError("give the member's first name (1-120 characters)")
    code = secrets.token_urlsafe(18)
    invite = await repos.invites.create(
        family.id or 0, role, member_name, hash_code(code), now, now + INVITE_TTL
    )
    return NewInvite(invite, code)


async def redeem(
    repos: Repos,
    out: Outbox,
    incoming: Incoming,
    now: datetime,
    *,
    secret: str,
    timezone: str,
    reminders: Reminders | None = None,
) -> Member | None:
    """Handle a message from someone we don't know: join with a code, or explain politely."""
    code = incoming.args.strip() if incoming.command == "start" else ""
    if not code:
        await repos.counters.increment(UNKNOWN_COUNTER)
        await out.send(incoming.chat_id, UNKNOWN_TEXT)
        return None
    key = user_key(secret, incoming.user_id)
    if await repos.invite_attempts.failures(key, now, ATTEMPT_WINDOW) >= MAX_WRONG_CODES:
        await repos.counters.increment("invite_rate_limited")
        await out.send(incoming.chat_id, TOO_MANY_TEXT)
        return None
    invite = await repos.invites.by_hash(hash_code(code), lock=True)
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        await repos.invite_attempts.record_failure(key, now, ATTEMPT_WINDOW)
        await out.send(incoming.chat_id, BAD_CODE_TEXT)
        return None
    member = await repos.members.create(
        invite.family_id,
        invite.role,
        invite.member_name,
        now,
        telegram_user_id=incoming.user_id,
        chat_id=incoming.chat_id,
        timezone=timezone,
        language="en",
    )
    member.last_active_at = now
    await repos.members.save(member)
    invite.used_at = now
    invite.used_by_member_id = member.id
    await repos.invites.save(invite)
    await repos.audit.record(now, "member", member.id, "invite_redeemed", "invite", invite.id)
    family = await repos.families.by_id(invite.family_id)
    practitioner = await repos.practitioners.by_id(family.practitioner_id) if family else None
    welcome = WELCOME[member.role].format(
        name=member.display_name,
        practitioner=practitioner.name if practitioner else "your practitioner",
    )
    await out.commands(incoming.chat_id, commands_for(member.role))
    await out.send(incoming.chat_id, welcome, menu_buttons(member.role), member_id=member.id)
    if reminders is not None:
        schedules = await reminders.create_defaults(repos, member, now)
        if schedules:
            lines = [reminders.describe(s) for s in schedules]
            await out.send(
                incoming.chat_id,
                "I'll send you gentle reminders:\n• "
                + "\n• ".join(lines)
                + "\nChange or pause them any time with /reminders.",
                member_id=member.id,
            )
    if practitioner is not None and family is not None:
        await out.send(
            practitioner.chat_id or practitioner.telegram_user_id,
            f"✅ {member.display_name} ({member.role}) has joined the {family.name} family.",
        )
    return member
