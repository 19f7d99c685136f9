"""Repositories for reminders: schedules, their occurrences, and runs due a nudge or expiry.

The ``due`` queries claim rows for one sweep: on PostgreSQL with ``FOR UPDATE SKIP LOCKED``
(several workers can sweep one database; each row goes to one of them), on SQLite inside the
sweep's ``BEGIN IMMEDIATE`` transaction, which already excludes other writers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import col, select

from rpbot.storage._base import Repo, aware
from rpbot.storage.tables import FlowRun, Reminder, Schedule


class ScheduleRepo(Repo):
    """Recurring prompts per member."""

    async def add(
        self,
        member_id: int,
        flow_id: str,
        days: str,
        time_of_day: str,
        next_fire_at: datetime,
        now: datetime,
        created_by: str = "default",
    ) -> Schedule:
        """Create a schedule."""
        return await self._put(
            Schedule(
                member_id=member_id,
                flow_id=flow_id,
                days=days,
                time_of_day=time_of_day,
                next_fire_at=aware(next_fire_at, "next_fire_at"),
                created_by=created_by,
                created_at=aware(now, "now"),
            )
        )

    async def by_id(self, schedule_id: int) -> Schedule | None:
        """The schedule with this id, if any."""
        return await self.session.get(Schedule, schedule_id)

    async def for_member(self, member_id: int) -> list[Schedule]:
        """A member's schedules, oldest first."""
        query = (
            select(Schedule).where(col(Schedule.member_id) == member_id).order_by(col(Schedule.id))
        )
        return list((await self.session.exec(query)).all())

    async def due(self, now: datetime, limit: int = 500) -> list[Schedule]:
        """Claim schedules whose next occurrence has come (not paused)."""
        now = aware(now, "now")
        query = (
            select(Schedule)
            .where(col(Schedule.next_fire_at) <= now)
            .order_by(col(Schedule.next_fire_at), col(Schedule.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.exec(query)).all())

    async def save(self, schedule: Schedule) -> None:
        """Write changes to a schedule (with the next flush: a query or the commit)."""
        self._stage(schedule)

    async def remove(self, schedule: Schedule) -> None:
        """Delete a schedule; its past reminders stay (detached) for the digest."""
        for reminder in await self._reminders_of(schedule.id or 0):
            reminder.schedule_id = None
            self.session.add(reminder)
        await self.session.delete(schedule)
        await self.session.flush()

    async def _reminders_of(self, schedule_id: int) -> list[Reminder]:
        query = select(Reminder).where(col(Reminder.schedule_id) == schedule_id)
        return list((await self.session.exec(query)).all())


class ReminderRepo(Repo):
    """Occurrences of schedules and what became of them."""

    async def add(
        self,
        member_id: int,
        flow_id: str,
        due_at: datetime,
        now: datetime,
        schedule_id: int | None = None,
        status: str = "pending",
        reason: str | None = None,
        *,
        flush: bool = True,
    ) -> Reminder:
        """Record an occurrence (pending to send at ``due_at``, or already skipped).

        ``flush=False``: written with the next flush, in one batch with others (its id is
        not known until then).
        """
        row = Reminder(
            schedule_id=schedule_id,
            member_id=member_id,
            flow_id=flow_id,
            due_at=aware(due_at, "due_at"),
            send_at=aware(due_at, "due_at"),
            status=status,
            reason=reason,
            created_at=aware(now, "now"),
        )
        return await self._put(row) if flush else self._stage(row)

    async def by_id(self, reminder_id: int) -> Reminder | None:
        """The reminder with this id, if any."""
        return await self.session.get(Reminder, reminder_id)

    async def due(self, now: datetime, limit: int = 500) -> list[Reminder]:
        """Claim reminders waiting to be sent whose time has come."""
        now = aware(now, "now")
        query = (
            select(Reminder)
            .where(
                col(Reminder.status).in_(("pending", "waiting", "snoozed")),
                col(Reminder.send_at) <= now,
            )
            .order_by(col(Reminder.send_at), col(Reminder.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.exec(query)).all())

    async def open_for_schedule(self, schedule_id: int) -> list[Reminder]:
        """Reminders of a schedule not yet sent (pending or waiting)."""
        query = select(Reminder).where(
            col(Reminder.schedule_id) == schedule_id,
            col(Reminder.status).in_(("pending", "waiting", "snoozed")),
        )
        return list((await self.session.exec(query)).all())

    async def open_for_schedules(self, schedule_ids: Iterable[int]) -> dict[int, list[Reminder]]:
        """:meth:`open_for_schedule` for many schedules in one query (schedule id -> list)."""
        wanted = sorted(set(schedule_ids))
        found: dict[int, list[Reminder]] = {}
        if not wanted:
            return found
        query = select(Reminder).where(
            col(Reminder.schedule_id).in_(wanted),
            col(Reminder.status).in_(("pending", "waiting", "snoozed")),
        )
        for reminder in (await self.session.exec(query.order_by(col(Reminder.id)))).all():
            found.setdefault(reminder.schedule_id or 0, []).append(reminder)
        return found

    async def for_member(self, member_id: int, since: datetime | None = None) -> list[Reminder]:
        """A member's reminders (optionally since a time), oldest first."""
        query = select(Reminder).where(col(Reminder.member_id) == member_id)
        if since is not None:
            query = query.where(col(Reminder.due_at) >= aware(since, "since"))
        return list((await self.session.exec(query.order_by(col(Reminder.id)))).all())

    async def save(self, reminder: Reminder) -> None:
        """Write changes to a reminder (with the next flush: a query or the commit)."""
        self._stage(reminder)


class DueRunRepo(Repo):
    """Active flow runs that are due a nudge or have expired."""

    async def nudges(self, now: datetime, limit: int = 500) -> list[FlowRun]:
        """Claim active runs whose nudge time has come."""
        query = (
            select(FlowRun)
            .where(col(FlowRun.status) == "active", col(FlowRun.nudge_at) <= aware(now, "now"))
            .order_by(col(FlowRun.nudge_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.exec(query)).all())

    async def expiries(self, now: datetime, limit: int = 500) -> list[FlowRun]:
        """Claim active runs past their expiry."""
        query = (
            select(FlowRun)
            .where(col(FlowRun.status) == "active", col(FlowRun.expires_at) <= aware(now, "now"))
            .order_by(col(FlowRun.expires_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.exec(query)).all())
