"""Reminders, nudges and expiries: what the sweep does with rows that have fallen due.

Policies (each has a test):
- **Catch-up after downtime**: an occurrence missed by at most the grace window (default
  2 h) is sent once when the bot is back; older ones are recorded as skipped ("missed") and
  logged. Either way the schedule moves on to its next occurrence.
- **Busy**: if the person is in the middle of another flow, the reminder waits (re-checked
  every few minutes) until that flow ends. If the schedule's next occurrence comes first, the
  waiting one is skipped ("superseded") and the new one takes its place.
- **Quiet hours** (default 21:00-08:00 adults, 20:00-07:30 children): nothing is sent then;
  reminders, nudges and expiry notes move to the end of the quiet hours.
- **Nudge**: one gentle nudge after a flow's ``nudge_after``; **expiry**: after
  ``expires_after`` the run is closed (answers kept) and the person told kindly, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rpbot.engine import Expired, Library, NudgeDue
from rpbot.engine.text import pick_language
from rpbot.scheduling.rules import Rule, in_quiet_hours, next_occurrence
from rpbot.services.callbacks import is_id
from rpbot.services.conversation import Conversations
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.refusals import refuse
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, Member, OutboxMessage, Reminder, Schedule

log = logging.getLogger(__name__)

REMINDER = "r1"
WAIT_RECHECK = timedelta(minutes=5)
SNOOZE = timedelta(hours=1)
PAUSE = timedelta(days=7)
SWEEP_LIMIT = 500  # rows of each kind one sweep transaction claims at most

#: (flow, days, local time) every new member starts with; shown to them, changeable.
DEFAULT_SCHEDULES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "parent": (("day_in_the_life", "", "19:30"), ("three_questions", "sun", "18:00")),
    "child": (("chore_checkin", "", "17:00"), ("three_houses", "sat", "11:00")),
}
QUIET_HOURS = {"parent": ("21:00", "08:00"), "child": ("20:00", "07:30")}
PROMPT = {
    "parent": "⏰ Time for your {title}, {name}. It only takes a few minutes.",
    "child": "⏰ Hi {name}! Time for {title} 🙂",
}


def reminder_data(reminder_id: int, action: str) -> str:
    """Callback data for a reminder's buttons (start, later, skip)."""
    return f"{REMINDER}:{reminder_id}:{action}"


def parse_reminder(data: str) -> tuple[int, str] | None:
    """(reminder id, action) from callback data, or None."""
    parts = data.split(":")
    valid = len(parts) == 3 and parts[0] == REMINDER and is_id(parts[1])
    if valid and parts[2] in ("start", "later", "skip"):
        return int(parts[1]), parts[2]
    return None


@dataclass
class SweepReport:
    """What one sweep did (for logs and tests)."""

    occurrences: int = 0
    sent: int = 0
    missed: int = 0
    waiting: int = 0
    deferred: int = 0
    skipped: int = 0
    nudged: int = 0
    expired: int = 0
    alerts: int = 0  # safeguarding alerts sent again (nobody acknowledged them in time)
    chats: set[int] = field(default_factory=set)
    rows: list[OutboxMessage] = field(default_factory=list)
    #: A claim took as many rows as it may (``limit``), so more may be due: sweep again.
    full: bool = False

    def add(self, other: SweepReport) -> None:
        """Count another sweep's work (e.g. the next batch of the same sweep) into this one."""
        self.occurrences += other.occurrences
        self.sent += other.sent
        self.missed += other.missed
        self.waiting += other.waiting
        self.deferred += other.deferred
        self.skipped += other.skipped
        self.nudged += other.nudged
        self.expired += other.expired
        self.alerts += other.alerts
        self.chats |= other.chats
        self.rows += other.rows
        self.full = other.full


class Reminders:
    """Creates schedules and turns due rows into messages."""

    def __init__(
        self, library: Library, conversations: Conversations, grace: timedelta = timedelta(hours=2)
    ) -> None:
        self.library = library
        self.conversations = conversations
        self.grace = grace

    # --- schedules -------------------------------------------------------------------

    async def add(
        self, repos: Repos, member: Member, flow_id: str, rule: Rule, now: datetime, by: str
    ) -> Schedule:
        """Create a schedule for a member (the rule's times are in their timezone)."""
        first = next_occurrence(rule, member.timezone, now)
        return await repos.schedules.add(
            member.id or 0, flow_id, rule.days_text, rule.time_text, first, now, created_by=by
        )

    async def create_defaults(self, repos: Repos, member: Member, now: datetime) -> list[Schedule]:
        """The role's default schedules and quiet hours for a new member."""
        member.quiet_start, member.quiet_end = QUIET_HOURS.get(member.role, QUIET_HOURS["parent"])
        await repos.members.save(member)
        created = []
        for flow_id, days, at in DEFAULT_SCHEDULES.get(member.role, ()):
            if flow_id in self.library:
                created.append(
                    await self.add(repos, member, flow_id, Rule.parse(days, at), now, "default")
                )
        return created

    def describe(self, schedule: Schedule, language: str = "en") -> str:
        """ "Day in the Life diary: every day at 19:30" (plus paused, if it is)."""
        flow = self.library.get(schedule.flow_id)
        title = pick_language(flow.title, language) if flow else schedule.flow_id
        rule = Rule.parse(schedule.days, schedule.time_of_day)
        return f"{title}: {rule.describe()}"

    async def pause(self, repos: Repos, schedule: Schedule, until: datetime, now: datetime) -> None:
        """Pause a schedule until ``until``; reminders already queued for it are dropped."""
        schedule.paused_until = until
        await repos.schedules.save(schedule)
        await self._drop_queued(repos, schedule, "paused", now)

    async def resume(self, repos: Repos, member: Member, schedule: Schedule, now: datetime) -> None:
        """Resume a paused schedule from its next occurrence."""
        schedule.paused_until = None
        rule = Rule.parse(schedule.days, schedule.time_of_day)
        schedule.next_fire_at = next_occurrence(rule, member.timezone, now)
        await repos.schedules.save(schedule)

    async def remove(self, repos: Repos, schedule: Schedule, now: datetime) -> None:
        """Remove a schedule; reminders already queued for it are dropped."""
        await self._drop_queued(repos, schedule, "removed", now)
        await repos.schedules.remove(schedule)

    async def _drop_queued(
        self, repos: Repos, schedule: Schedule, reason: str, now: datetime
    ) -> None:
        for queued in await repos.reminders.open_for_schedule(schedule.id or 0):
            queued.status, queued.reason, queued.answered_at = "skipped", reason, now
            await repos.reminders.save(queued)

    async def reschedule(
        self, repos: Repos, member: Member, schedule: Schedule, rule: Rule, now: datetime
    ) -> None:
        """Change a schedule's days/time; the next occurrence follows the new rule."""
        schedule.days, schedule.time_of_day = rule.days_text, rule.time_text
        schedule.next_fire_at = next_occurrence(rule, member.timezone, now)
        await repos.schedules.save(schedule)
        await self._drop_queued(repos, schedule, "rescheduled", now)

    # --- the sweep -------------------------------------------------------------------

    async def sweep(
        self, repos: Repos, out: Outbox, now: datetime, *, limit: int = SWEEP_LIMIT
    ) -> SweepReport:
        """Handle what is due at ``now``: new occurrences, reminders, nudges, expiries.

        Each kind claims at most ``limit`` rows; ``report.full`` says one of them took that
        many, so more may be due (the caller sweeps again, in a new transaction).
        """
        report = SweepReport(chats=out.chats)
        await self._occurrences(repos, now, report, limit)
        await self._send_due(repos, out, now, report, limit)
        await self._nudges_and_expiries(repos, out, now, report, limit)
        return report

    async def _occurrences(
        self, repos: Repos, now: datetime, report: SweepReport, limit: int
    ) -> None:
        schedules = await repos.schedules.due(now, limit)
        report.full = report.full or len(schedules) >= limit
        # One query each for the batch's members and open reminders, not one per schedule.
        members = await repos.members.by_ids({s.member_id for s in schedules})
        open_reminders = await repos.reminders.open_for_schedules([s.id or 0 for s in schedules])
        for schedule in schedules:
            member = members.get(schedule.member_id)
            if member is None:
                continue
            rule = Rule.parse(schedule.days, schedule.time_of_day)
            due = schedule.next_fire_at
            # Every occurrence up to now: the latest within grace is sent, older ones skipped.
            while due <= now:
                following = next_occurrence(rule, member.timezone, due)
                paused = schedule.paused_until is not None and due < schedule.paused_until
                if paused:
                    pass
                elif now - due > self.grace or following <= now:
                    report.missed += 1
                    await repos.reminders.add(
                        member.id or 0,
                        schedule.flow_id,
                        due,
                        now,
                        schedule.id,
                        "skipped",
                        "missed",
                        flush=False,
                    )
                    log.info("reminder for schedule %s due %s missed; skipped", schedule.id, due)
                else:
                    await self._supersede(repos, open_reminders.pop(schedule.id or 0, []), now)
                    await repos.reminders.add(
                        member.id or 0, schedule.flow_id, due, now, schedule.id, flush=False
                    )
                    report.occurrences += 1
                due = following
            schedule.next_fire_at = due
            await repos.schedules.save(schedule)

    async def _supersede(self, repos: Repos, older: list[Reminder], now: datetime) -> None:
        """The schedule's reminders not yet sent are skipped: a newer occurrence replaces them."""
        for reminder in older:
            reminder.status, reminder.reason, reminder.answered_at = "skipped", "superseded", now
            await repos.reminders.save(reminder)

    async def _send_due(
        self, repos: Repos, out: Outbox, now: datetime, report: SweepReport, limit: int
    ) -> None:
        reminders = await repos.reminders.due(now, limit)
        report.full = report.full or len(reminders) >= limit
        # One query each for the batch's members and their active runs, not one per reminder
        # (sending a reminder starts no run, so the runs stay as read here).
        members = await repos.members.by_ids({r.member_id for r in reminders})
        active_runs = await repos.runs.active_for_members(members)
        for reminder in reminders:
            member = members.get(reminder.member_id)
            if member is None or not member.active or member.chat_id is None:
                await self._skip(repos, reminder, "inactive", now, report)
                continue
            # Late against when it was meant to go (its due time, or the end of quiet hours it
            # was moved to): only downtime makes that late.
            if now - reminder.send_at > self.grace and reminder.status == "pending":
                await self._skip(repos, reminder, "missed", now, report)
                report.missed += 1
                continue
            quiet_end = in_quiet_hours(now, member.timezone, member.quiet_start, member.quiet_end)
            if quiet_end is not None:
                reminder.send_at = quiet_end
                await repos.reminders.save(reminder)
                report.deferred += 1
                continue
            run = active_runs.get(member.id or 0)
            if run is not None:
                if run.flow_id == reminder.flow_id:
                    await self._skip(repos, reminder, "already_started", now, report)
                else:
                    reminder.status, reminder.send_at = "waiting", now + WAIT_RECHECK
                    await repos.reminders.save(reminder)
                    report.waiting += 1
                continue
            await self._send(repos, out, member, reminder, now)
            report.sent += 1

    async def _skip(
        self, repos: Repos, reminder: Reminder, reason: str, now: datetime, report: SweepReport
    ) -> None:
        reminder.status, reminder.reason, reminder.answered_at = "skipped", reason, now
        await repos.reminders.save(reminder)
        report.skipped += 1

    async def _send(
        self, repos: Repos, out: Outbox, member: Member, reminder: Reminder, now: datetime
    ) -> None:
        flow = self.library.get(reminder.flow_id)
        title = pick_language(flow.title, member.language) if flow else reminder.flow_id
        text = PROMPT.get(member.role, PROMPT["parent"]).format(
            title=title, name=member.display_name
        )
        rid = reminder.id or 0
        rows = [
            [OutButton("▶️ Start now", reminder_data(rid, "start"))],
            [
                OutButton("⏰ Later", reminder_data(rid, "later")),
                OutButton("🙅 Not today", reminder_data(rid, "skip")),
            ],
        ]
        await out.send(member.chat_id or 0, text, rows, member_id=member.id)
        reminder.status, reminder.sent_at = "sent", now
        await repos.reminders.save(reminder)

    async def _nudges_and_expiries(
        self, repos: Repos, out: Outbox, now: datetime, report: SweepReport, limit: int
    ) -> None:
        expiries = await repos.due_runs.expiries(now, limit)
        report.full = report.full or len(expiries) >= limit
        for run in expiries:
            member = await repos.members.by_id(run.member_id)
            if member is None:
                continue
            quiet_end = in_quiet_hours(now, member.timezone, member.quiet_start, member.quiet_end)
            if quiet_end is not None:
                run.expires_at = quiet_end  # the run closes, and says so, when quiet hours end
                await repos.runs.save(run)
                continue
            await self.conversations.resume(repos, out, member, run, Expired(), now)
            report.expired += 1
        nudges = await repos.due_runs.nudges(now, limit)
        report.full = report.full or len(nudges) >= limit
        for run in nudges:
            member = await repos.members.by_id(run.member_id)
            if member is None or run.status != "active":
                continue
            quiet_end = in_quiet_hours(now, member.timezone, member.quiet_start, member.quiet_end)
            if quiet_end is not None:
                run.nudge_at = quiet_end
                await repos.runs.save(run)
                continue
            await self.conversations.resume(repos, out, member, run, NudgeDue(), now)
            run.nudge_at = None  # one nudge per run
            await repos.runs.save(run)
            report.nudged += 1

    # --- the person's answer to a reminder -------------------------------------------

    async def press(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        reminder_id: int,
        action: str,
        message_id: int | None,
        now: datetime,
    ) -> str | None:
        """Start now / Later / Not today on a reminder; return a short notice."""
        reminder = await repos.reminders.by_id(reminder_id)
        if reminder is not None and reminder.member_id != member.id:  # forged: not theirs
            await refuse(repos, now, "member", member.id, "reminder", reminder_id)
            return "That reminder has already been answered."
        if reminder is None or reminder.status != "sent":
            return "That reminder has already been answered."
        chat = member.chat_id or 0
        if message_id is not None:
            await out.drop_buttons(chat, message_id)
        reminder.answered_at = now
        if action == "start":
            reminder.status = "started"
            await repos.reminders.save(reminder)
            await self.conversations.start(repos, out, member, family, reminder.flow_id, now)
            return None
        if action == "later":
            reminder.status, reminder.send_at = "snoozed", now + SNOOZE
            await repos.reminders.save(reminder)
            await out.send(chat, "Okay - I'll remind you again in an hour.", member_id=member.id)
            return None
        reminder.status = "declined"
        await repos.reminders.save(reminder)
        await out.send(chat, "No problem. Maybe another day 🙂", member_id=member.id)
        return None
