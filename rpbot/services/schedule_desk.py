"""Practitioners tailor reminders per family member: /schedule (choose member, flow, days,
time), list, pause, resume, remove. State between steps lives in the practitioner's row."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rpbot.engine import Library
from rpbot.engine.answers import Parsed, parse_time_text
from rpbot.engine.text import pick_language
from rpbot.scheduling.rules import Rule, RuleError, parse_days
from rpbot.services.callbacks import practitioner_data
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.reminders import PAUSE, Reminders
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Member, Practitioner, Schedule

DAY_CHOICES = (
    ("daily", "Every day"),
    ("weekdays", "Weekdays"),
    ("weekends", "Weekends"),
    ("mon", "Mondays"),
    ("tue", "Tuesdays"),
    ("wed", "Wednesdays"),
    ("thu", "Thursdays"),
    ("fri", "Fridays"),
    ("sat", "Saturdays"),
    ("sun", "Sundays"),
)
EXPIRED = "That button has expired."
REFUSED = "That isn't one of your families."
ACTIONS = frozenset({"sch", "schm", "scha", "schf", "schd", "schp", "schu", "schr"})


class ScheduleDesk:
    """The /schedule tool for one practitioner update at a time (no state in memory)."""

    def __init__(self, library: Library, reminders: Reminders) -> None:
        self.library = library
        self.reminders = reminders

    def flows_for(self, member: Member) -> list[str]:
        """Flows that can be scheduled for this member, in a stable order."""
        return [flow.id for flow in self.library.for_audience(member.role)]

    async def own_member(self, repos: Repos, practitioner: Practitioner, raw: str) -> Member | None:
        """The member with id ``raw`` if they are in one of this practitioner's families."""
        member = await repos.members.by_id(int(raw)) if raw.isdigit() else None
        if member is None:
            return None
        family = await repos.families.by_id(member.family_id)
        return member if family is not None and family.practitioner_id == practitioner.id else None

    async def own_schedule(
        self, repos: Repos, practitioner: Practitioner, raw: str
    ) -> tuple[Schedule, Member] | None:
        """A schedule of one of this practitioner's members, with that member."""
        schedule = await repos.schedules.by_id(int(raw)) if raw.isdigit() else None
        if schedule is None:
            return None
        member = await self.own_member(repos, practitioner, str(schedule.member_id))
        return (schedule, member) if member is not None else None

    async def button(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        action: str,
        args: list[str],
        now: datetime,
    ) -> str | None:
        """Handle a /schedule button; return a notice for refused or stale presses."""
        if action == "sch":
            family = (
                await repos.families.by_id(int(args[0])) if args and args[0].isdigit() else None
            )
            if family is None or family.practitioner_id != practitioner.id:
                return REFUSED
            members = await repos.members.in_family(family.id or 0)
            if not members:
                await out.send(chat, f"Nobody in the {family.name} family has joined yet.")
                return None
            rows = [
                [OutButton(f"{m.display_name} ({m.role})", practitioner_data("schm", m.id))]
                for m in members
            ]
            await out.send(chat, "Whose reminders?", rows)
            return None
        if action in ("schp", "schu", "schr"):
            found = await self.own_schedule(repos, practitioner, args[0] if args else "")
            if found is None:
                return REFUSED
            schedule, owner = found
            await self._change(repos, out, chat, schedule, owner, action, now)
            await repos.audit.record(
                now, "practitioner", practitioner.id, f"schedule_{action}", "schedule", schedule.id
            )
            return None
        member = await self.own_member(repos, practitioner, args[0] if args else "")
        if member is None:
            return REFUSED
        if action == "schm":
            await self.show(repos, out, chat, member, now)
        elif action == "scha":
            flows = self.flows_for(member)
            rows = [
                [
                    OutButton(
                        pick_language(self.library[f].title, "en"),
                        practitioner_data("schf", member.id, i),
                    )
                ]
                for i, f in enumerate(flows)
            ]
            await out.send(
                chat, f"Which activity should {member.display_name} be reminded about?", rows
            )
        elif action == "schf" and len(args) > 1 and args[1].isdigit():
            flows = self.flows_for(member)
            if int(args[1]) >= len(flows):
                return EXPIRED
            state = {"action": "schedule", "member_id": member.id, "flow": flows[int(args[1])]}
            await self._pending(repos, practitioner, state)
            rows = [
                [OutButton(label, practitioner_data("schd", member.id, code))]
                for code, label in DAY_CHOICES
            ]
            await out.send(chat, "Which days?", rows)
        elif action == "schd" and len(args) > 1:
            pending = json.loads(practitioner.pending_json or "null") or {}
            if pending.get("action") != "schedule" or pending.get("member_id") != member.id:
                return EXPIRED
            try:
                pending["days"] = ",".join(parse_days(args[1]))
            except RuleError:
                return EXPIRED
            await self._pending(repos, practitioner, pending)
            await out.send(
                chat, f"What time, in {member.display_name}'s time ({member.timezone})? e.g. 19:30"
            )
        else:
            return EXPIRED
        return None

    async def show(
        self, repos: Repos, out: Outbox, chat: int, member: Member, now: datetime
    ) -> None:
        """A member's schedules with pause/resume/remove buttons and an Add button."""
        schedules = await repos.schedules.for_member(member.id or 0)
        lines = [f"Reminders for {member.display_name}:"]
        rows: list[list[OutButton]] = []
        for index, schedule in enumerate(schedules, start=1):
            paused = schedule.paused_until is not None and schedule.paused_until > now
            lines.append(
                f"{index}. {self.reminders.describe(schedule)}{' (paused)' if paused else ''}"
            )
            toggle = (
                OutButton(f"▶️ Resume {index}", practitioner_data("schu", schedule.id))
                if paused
                else OutButton(f"⏸ Pause {index}", practitioner_data("schp", schedule.id))
            )
            rows.append(
                [toggle, OutButton(f"🗑 Remove {index}", practitioner_data("schr", schedule.id))]
            )
        if not schedules:
            lines.append("None yet.")
        rows.append([OutButton("➕ Add a reminder", practitioner_data("scha", member.id))])
        await out.send(chat, "\n".join(lines), rows)

    async def _change(
        self,
        repos: Repos,
        out: Outbox,
        chat: int,
        schedule: Schedule,
        member: Member,
        action: str,
        now: datetime,
    ) -> None:
        described = self.reminders.describe(schedule)
        if action == "schr":
            await self.reminders.remove(repos, schedule, now)
            await out.send(chat, f"Removed: {described} for {member.display_name}.")
            return
        if action == "schp":
            await self.reminders.pause(repos, schedule, now + PAUSE, now)
            await out.send(chat, f"Paused for a week: {described} for {member.display_name}.")
        else:
            await self.reminders.resume(repos, member, schedule, now)
            await out.send(chat, f"Resumed: {described} for {member.display_name}.")

    async def pending_text(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        pending: dict[str, Any],
        text: str,
        now: datetime,
    ) -> None:
        """The time typed at the end of /schedule: create the schedule."""
        member = await self.own_member(repos, practitioner, str(pending.get("member_id")))
        parsed = parse_time_text(text)
        if member is None or "days" not in pending or str(pending.get("flow")) not in self.library:
            await self._pending(repos, practitioner, None)
            await out.send(chat, EXPIRED)
            return
        if not isinstance(parsed, Parsed) or not isinstance(parsed.value, str):
            await out.send(chat, "Please type a time like 19:30 or 7pm.")
            return
        await self._pending(repos, practitioner, None)
        rule = Rule.parse(str(pending["days"]), parsed.value)
        schedule = await self.reminders.add(
            repos, member, str(pending["flow"]), rule, now, "practitioner"
        )
        await repos.audit.record(
            now, "practitioner", practitioner.id, "schedule_added", "schedule", schedule.id
        )
        await out.send(
            chat, f"Added for {member.display_name}: {self.reminders.describe(schedule)}."
        )
        await self.show(repos, out, chat, member, now)

    async def _pending(
        self, repos: Repos, practitioner: Practitioner, state: dict[str, Any] | None
    ) -> None:
        practitioner.pending_json = json.dumps(state) if state is not None else None
        await repos.practitioners.save(practitioner)
