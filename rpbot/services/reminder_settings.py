"""People manage their own reminders: /reminders lists them; change the time, pause, resume."""

from __future__ import annotations

import json
from datetime import datetime

from rpbot.engine.answers import Parsed, parse_time_text
from rpbot.scheduling.rules import Rule
from rpbot.services.callbacks import is_id
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.refusals import refuse
from rpbot.services.reminders import PAUSE, Reminders
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Member, Schedule

SETTINGS = "s1"
NONE_YET = "You have no reminders set. Your practitioner can add some for you."


def settings_data(schedule_id: int, action: str) -> str:
    """Callback data for a reminder setting button (pause, resume, time)."""
    return f"{SETTINGS}:{schedule_id}:{action}"


def parse_settings(data: str) -> tuple[int, str] | None:
    """(schedule id, action) from callback data, or None."""
    parts = data.split(":")
    valid = len(parts) == 3 and parts[0] == SETTINGS and is_id(parts[1])
    if valid and parts[2] in ("pause", "resume", "time"):
        return int(parts[1]), parts[2]
    return None


class ReminderSettings:
    """The /reminders screen and its buttons for one member."""

    def __init__(self, reminders: Reminders) -> None:
        self.reminders = reminders

    def line(self, schedule: Schedule, now: datetime, language: str) -> str:
        """One reminder as a line of the list."""
        text = self.reminders.describe(schedule, language)
        if schedule.paused_until is not None and schedule.paused_until > now:
            text += f" (paused until {schedule.paused_until:%d %b})"
        return f"• {text}"

    async def show(self, repos: Repos, out: Outbox, member: Member, now: datetime) -> None:
        """Send the member's reminders with buttons to change each."""
        schedules = await repos.schedules.for_member(member.id or 0)
        if not schedules:
            await out.send(member.chat_id or 0, NONE_YET, member_id=member.id)
            return
        lines = ["Your reminders:"] + [self.line(s, now, member.language) for s in schedules]
        rows: list[list[OutButton]] = []
        for index, schedule in enumerate(schedules, start=1):
            paused = schedule.paused_until is not None and schedule.paused_until > now
            toggle = (
                OutButton(f"▶️ Resume {index}", settings_data(schedule.id or 0, "resume"))
                if paused
                else OutButton(
                    f"⏸ Pause {index} for a week", settings_data(schedule.id or 0, "pause")
                )
            )
            rows.append(
                [
                    OutButton(f"🕐 Change time {index}", settings_data(schedule.id or 0, "time")),
                    toggle,
                ]
            )
        await out.send(member.chat_id or 0, "\n".join(lines), rows, member_id=member.id)

    async def press(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        schedule_id: int,
        action: str,
        now: datetime,
    ) -> str | None:
        """Handle a settings button; return a notice."""
        schedule = await repos.schedules.by_id(schedule_id)
        if schedule is not None and schedule.member_id != member.id:  # forged: not theirs
            await refuse(repos, now, "member", member.id, "schedule", schedule_id)
        if schedule is None or schedule.member_id != member.id:
            return "That reminder no longer exists."
        chat = member.chat_id or 0
        if action == "pause":
            await self.reminders.pause(repos, schedule, now + PAUSE, now)
            await out.send(
                chat,
                f"Paused for a week: {self.reminders.describe(schedule)}.",
                member_id=member.id,
            )
        elif action == "resume":
            await self.reminders.resume(repos, member, schedule, now)
            await out.send(
                chat, f"Back on: {self.reminders.describe(schedule)}.", member_id=member.id
            )
        else:
            member.pending_json = json.dumps(
                {"action": "reminder_time", "schedule_id": schedule_id}
            )
            await repos.members.save(member)
            await out.send(
                chat, "What time would suit you? For example 7pm or 19:30.", member_id=member.id
            )
        return None

    async def pending_text(
        self, repos: Repos, out: Outbox, member: Member, text: str, now: datetime
    ) -> bool:
        """Use typed text for a pending change; return False if nothing was pending."""
        pending = json.loads(member.pending_json) if member.pending_json else None
        if not pending or pending.get("action") != "reminder_time":
            return False
        chat = member.chat_id or 0
        parsed = parse_time_text(text)
        if not isinstance(parsed, Parsed) or not isinstance(parsed.value, str):
            await out.send(
                chat,
                "Please type a time like 7pm or 19:30 (or /menu to leave it).",
                member_id=member.id,
            )
            return True
        member.pending_json = None
        await repos.members.save(member)
        schedule = await repos.schedules.by_id(int(pending.get("schedule_id", 0)))
        if schedule is None or schedule.member_id != member.id:
            return True
        rule = Rule.parse(schedule.days, parsed.value)
        await self.reminders.reschedule(repos, member, schedule, rule, now)
        await out.send(chat, f"Done: {self.reminders.describe(schedule)}.", member_id=member.id)
        return True
