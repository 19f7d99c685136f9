"""Practitioners' tools in Telegram: families, one family, new family, invites.

Multi-step tools (name a family, then pick its nation) keep their state in the practitioner's
row (``pending_json``), never in memory, so a restart mid-way loses nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rpbot.engine import NATIONS
from rpbot.engine.answers import visible
from rpbot.services.agreement_desk import AgreementDesk, practitioner_update
from rpbot.services.callbacks import parse_practitioner, practitioner_data
from rpbot.services.circles import Circles
from rpbot.services.digest_desk import ACTIONS as DIGEST_ACTIONS
from rpbot.services.digest_desk import DigestDesk
from rpbot.services.enrolment import (
    INVITE_TTL,
    EnrolmentError,
    create_family,
    create_invite,
    deep_link,
)
from rpbot.services.incoming import Incoming
from rpbot.services.menus import commands_for
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.plan_desk import PlanDesk
from rpbot.services.privacy_desk import PRIVACY_COMMANDS, PrivacyDesk
from rpbot.services.refusals import refuse, target_id
from rpbot.services.safeguarding import ACTIONS as ALERT_ACTIONS
from rpbot.services.safeguarding import Safeguarding
from rpbot.services.schedule_desk import ACTIONS as SCHEDULE_ACTIONS
from rpbot.services.schedule_desk import ScheduleDesk
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, Practitioner

NATION_LABELS = {
    "england": "England",
    "wales": "Wales",
    "scotland": "Scotland",
    "northern_ireland": "Northern Ireland",
}
HELP = (
    "Your tools:\n"
    "/families - your families\n"
    "/family NAME - members and last activity\n"
    "/newfamily - add a family\n"
    "/invite - invite a parent or child (you get a link to send them)\n"
    "/schedule - a family member's reminders: add, pause, resume, remove\n"
    "/digest - this week's digest now (/digest NAME for one family)\n"
    "/digestsettings - when your weekly digest comes\n"
    "/agreement - a family's household agreement: see it, change it, ask everyone\n"
    "/circle - start a circle: a family answers one question, then sees every answer\n"
    "/plan - a family's programme plan: activities, reminder times, module order\n"
    "/mydata - a copy of what the bot keeps about you"
)
REFUSED = "That isn't one of your families."
#: What the first argument of a /schedule button names (the rest name a member).
SCHEDULE_TARGETS = {"sch": "family", "schp": "schedule", "schu": "schedule", "schr": "schedule"}


class PractitionerDesk:
    """Handles every update from a practitioner."""

    def __init__(
        self,
        bot_username: str,
        schedules: ScheduleDesk,
        digests: DigestDesk,
        safeguarding: Safeguarding,
    ) -> None:
        self.bot_username = bot_username
        self.schedules = schedules
        self.digests = digests
        self.privacy = PrivacyDesk()  # the router shares its own (see UpdateRouter)
        self.safeguarding = safeguarding
        self.agreements: AgreementDesk | None = None  # /agreement; the router shares one
        self.circles = Circles()  # /circle (rpbot.services.circles)
        self.plan_desk = PlanDesk(schedules.library, schedules.reminders)  # /plan

    async def handle(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        incoming: Incoming,
        now: datetime,
    ) -> str | None:
        """Act on one update; return a short notice for a button press, if any."""
        if self.agreements is not None:
            done, said = await practitioner_update(
                self.agreements, repos, out, practitioner, incoming, now
            )
            if done:
                return said
        for tool in (self.circles, self.plan_desk):  # /circle and /plan, their buttons and text
            done, notice = await tool.practitioner(repos, out, practitioner, incoming, now)
            if done:
                return notice
        turn = _Turn(repos, out, practitioner, incoming.chat_id, now, self.bot_username)
        turn.schedules = self.schedules
        turn.digests = self.digests
        turn.privacy = self.privacy
        turn.safeguarding = self.safeguarding
        return await turn.handle(incoming)


class _Turn:
    """One practitioner update being handled (so concurrent updates share no state)."""

    def __init__(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        now: datetime,
        bot_username: str,
    ) -> None:
        self.repos = repos
        self.out = out
        self.practitioner = practitioner
        self.chat = chat
        self.now = now
        self.bot_username = bot_username
        self.schedules: ScheduleDesk
        self.digests: DigestDesk
        self.privacy: PrivacyDesk
        self.safeguarding: Safeguarding

    async def handle(self, incoming: Incoming) -> str | None:
        """Act on one update."""
        practitioner = self.practitioner
        if practitioner.chat_id != self.chat:
            practitioner.chat_id = self.chat
            await self.repos.practitioners.save(practitioner)
        if incoming.kind == "command":
            await self._set_pending(None)
            await self._command(incoming)
            return None
        if incoming.kind == "button":
            return await self._button(incoming)
        pending = json.loads(practitioner.pending_json) if practitioner.pending_json else None
        if incoming.kind == "text" and pending is not None:
            await self._pending_text(pending, (incoming.text or "").strip())
            return None
        await self.out.send(self.chat, HELP)
        return None

    async def _set_pending(self, state: dict[str, Any] | None) -> None:
        repos, practitioner = self.repos, self.practitioner
        practitioner.pending_json = json.dumps(state) if state is not None else None
        await repos.practitioners.save(practitioner)

    async def _command(self, incoming: Incoming) -> None:
        repos, out, practitioner = self.repos, self.out, self.practitioner
        command = incoming.command
        if command in ("start", "help", "menu"):
            await out.commands(self.chat, commands_for("practitioner"))
            await out.send(self.chat, f"Hello {practitioner.name} 👋\n\n{HELP}")
        elif command == "families":
            await self._families()
        elif command == "family":
            name = incoming.args.strip()
            families = await repos.families.for_practitioner(practitioner.id or 0)
            match = [f for f in families if f.name.casefold() == name.casefold()] if name else []
            if match:
                await self._family(match[0])
            else:
                await self._choose_family(families, "fam", "Which family?")
        elif command == "newfamily":
            await self._set_pending({"action": "newfamily"})
            await out.send(self.chat, "What is the family's name? (For example: Green)")
        elif command in ("digest", "digestsettings"):
            await self.digests.command(
                repos, out, practitioner, self.chat, command, incoming.args, self.now
            )
        elif command == "schedule":
            families = await repos.families.for_practitioner(practitioner.id or 0)
            await self._choose_family(families, "sch", "Reminders for which family?")
        elif command == "invite":
            families = await repos.families.for_practitioner(practitioner.id or 0)
            await self._choose_family(families, "inv", "Invite someone to which family?")
        elif command in PRIVACY_COMMANDS:
            await self.privacy.practitioner_command(
                repos, out, practitioner, self.chat, command, self.now
            )
        else:
            await out.send(self.chat, f"I don't know that command.\n\n{HELP}")

    async def _choose_family(self, families: list[Family], action: str, text: str) -> None:
        out = self.out
        if not families:
            await out.send(self.chat, "You have no families yet. Add one with /newfamily.")
            return
        rows = [[OutButton(f.name, practitioner_data(action, f.id))] for f in families]
        await out.send(self.chat, text, rows)

    async def _families(self) -> None:
        repos, out, practitioner = self.repos, self.out, self.practitioner
        families = await repos.families.for_practitioner(practitioner.id or 0)
        if not families:
            await out.send(self.chat, "You have no families yet. Add one with /newfamily.")
            return
        lines = ["Your families:"]
        for family in families:
            members = await repos.members.in_family(family.id or 0)
            lines.append(f"• {family.name} ({NATION_LABELS[family.nation]}): {len(members)} joined")
        rows = [[OutButton(f.name, practitioner_data("fam", f.id))] for f in families]
        await out.send(self.chat, "\n".join(lines), rows)

    async def _family(self, family: Family) -> None:
        repos, out, practitioner, now = self.repos, self.out, self.practitioner, self.now
        members = await repos.members.in_family(family.id or 0)
        invites = await repos.invites.for_family(family.id or 0)
        waiting = [i for i in invites if i.used_at is None and i.expires_at > now]
        lines = [f"{family.name} family ({NATION_LABELS[family.nation]})"]
        for member in members:
            seen = (
                member.last_active_at.strftime("%d %b %H:%M UTC")
                if member.last_active_at
                else "not yet"
            )
            state = "" if member.active else " - not receiving messages (blocked the bot?)"
            lines.append(f"• {member.display_name} ({member.role}), last active {seen}{state}")
        if not members:
            lines.append("Nobody has joined yet.")
        for invite in waiting:
            lines.append(f"• invited: {invite.member_name} ({invite.role}), link not used yet")
        await repos.audit.record(
            now, "practitioner", practitioner.id, "view_family", "family", family.id
        )
        await out.send(self.chat, "\n".join(lines))

    async def _own_family(self, raw: str) -> Family | None:
        repos, practitioner, now = self.repos, self.practitioner, self.now
        family = await repos.families.by_id(int(raw)) if raw.isdigit() else None
        if family is None or family.practitioner_id != practitioner.id:
            await refuse(repos, now, "practitioner", practitioner.id, "family", target_id(raw))
            return None
        return family

    async def _button(self, incoming: Incoming) -> str | None:
        repos, out, practitioner, now = self.repos, self.out, self.practitioner, self.now
        parts = parse_practitioner(incoming.data or "")
        if not parts:
            return "That button has expired."
        action, args = parts[0], parts[1:]
        if action in SCHEDULE_ACTIONS:
            notice = await self.schedules.button(
                repos, out, practitioner, self.chat, action, args, now
            )
            if notice == REFUSED:  # someone else's family, member or schedule (not a stale tap)
                what = SCHEDULE_TARGETS.get(action, "member")
                raw = args[0] if args else ""
                await refuse(
                    repos,
                    now,
                    "practitioner",
                    practitioner.id,
                    "schedule",
                    target_id(raw),
                    target_type=what,
                )
            return notice
        if action in ALERT_ACTIONS:
            return await self.safeguarding.press(
                repos, out, practitioner, self.chat, action, args, now
            )
        if action in DIGEST_ACTIONS:
            notice = await self.digests.button(
                repos, out, practitioner, self.chat, action, args, now
            )
            if notice == REFUSED:  # someone else's family
                raw = args[0] if args else ""
                await refuse(
                    repos,
                    now,
                    "practitioner",
                    practitioner.id,
                    "digest",
                    target_id(raw),
                    target_type="family",
                )
            return notice
        if action == "nation" and args and args[0] in NATIONS:
            pending = json.loads(practitioner.pending_json or "null")
            if not pending or pending.get("action") != "newfamily" or "name" not in pending:
                return "That button has expired."
            try:
                created = await create_family(repos, practitioner, pending["name"], args[0], now)
            except EnrolmentError as exc:
                await out.send(self.chat, f"Sorry: {exc}.")
                return None
            await self._set_pending(None)
            await out.send(
                self.chat, f"Added the {created.name} family. Invite someone with /invite."
            )
            return None
        if not args:
            return "That button has expired."
        family = await self._own_family(args[0])
        if family is None:
            return REFUSED
        if action == "fam":
            await self._family(family)
        elif action == "inv":
            rows = [
                [
                    OutButton("Parent", practitioner_data("invrole", family.id, "parent")),
                    OutButton("Child", practitioner_data("invrole", family.id, "child")),
                ]
            ]
            await out.send(
                self.chat, f"Invite a parent or a child to the {family.name} family?", rows
            )
        elif action == "invrole" and len(args) > 1 and args[1] in ("parent", "child"):
            await self._set_pending({"action": "invite", "family_id": family.id, "role": args[1]})
            await out.send(self.chat, f"What is the {args[1]}'s first name?")
        else:
            return "That button has expired."
        return None

    async def _pending_text(self, pending: dict[str, Any], text: str) -> None:
        repos, out, practitioner, now = self.repos, self.out, self.practitioner, self.now
        if pending.get("action") == "digesttime":
            await self.digests.typed_time(repos, out, practitioner, self.chat, text, now)
            return
        if not visible(text) or len(text) > 120:  # zero-width characters alone are no name
            await out.send(
                self.chat, "Please send a name of 1-120 characters (or /help to cancel)."
            )
            return
        if pending.get("action") == "newfamily":
            await self._set_pending({"action": "newfamily", "name": text})
            rows = [
                [OutButton(label, practitioner_data("nation", key))]
                for key, label in NATION_LABELS.items()
            ]
            await out.send(
                self.chat,
                f"Where does the {text} family live? (This sets which law applies.)",
                rows,
            )
            return
        if pending.get("action") == "schedule":
            await self.schedules.pending_text(
                repos, out, practitioner, self.chat, pending, text, now
            )
            return
        if pending.get("action") == "invite":
            family = await self._own_family(str(pending.get("family_id")))
            await self._set_pending(None)
            if family is None:
                await out.send(self.chat, REFUSED)
                return
            try:
                new = await create_invite(repos, family, str(pending.get("role")), text, now)
            except EnrolmentError as exc:
                await out.send(self.chat, f"Sorry: {exc}.")
                return
            await repos.audit.record(
                now, "practitioner", practitioner.id, "invite_created", "invite", new.invite.id
            )
            days = INVITE_TTL.days
            await out.send(
                self.chat,
                f"Here is {text}'s joining link. Send it to them - it works once and expires in "
                f"{days} days:\n{deep_link(self.bot_username, new.code)}\n\n"
                f"If the link doesn't open, they can send the bot: /start {new.code}",
                secret=True,
            )
            return
        await self._set_pending(None)
        await out.send(self.chat, HELP)
