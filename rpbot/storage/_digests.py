"""Repositories for digests and safeguarding alerts, and the read model digests are built from.

Digest rows are claimed like reminders: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the sweep's
``BEGIN IMMEDIATE`` on SQLite. A weekly digest has a unique (practitioner, due time), so two
processes sweeping one database create it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from rpbot.storage._base import Repo, RowT, aware
from rpbot.storage.tables import (
    Answer,
    Digest,
    Family,
    FlowRun,
    Member,
    Practitioner,
    Reminder,
    SafeguardingAlert,
    Schedule,
)


class DigestRepo(Repo):
    """Digests due, being built, and queued."""

    async def unscheduled_practitioners(self) -> list[Practitioner]:
        """Practitioners whose next digest time has not been worked out yet."""
        query = select(Practitioner).where(col(Practitioner.digest_next_at).is_(None))
        return list((await self.session.exec(query)).all())

    async def due_practitioners(self, now: datetime, limit: int = 100) -> list[Practitioner]:
        """Claim practitioners whose weekly digest time has come."""
        query = (
            select(Practitioner)
            .where(col(Practitioner.digest_next_at) <= aware(now, "now"))
            .order_by(col(Practitioner.digest_next_at), col(Practitioner.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.exec(query)).all())

    async def add(
        self,
        practitioner_id: int,
        kind: str,
        period_start: datetime,
        period_end: datetime,
        due_at: datetime,
        now: datetime,
        family_id: int | None = None,
    ) -> Digest | None:
        """Record a digest to build; None if this weekly digest already exists."""
        values: dict[str, Any] = {
            "practitioner_id": practitioner_id,
            "kind": kind,
            "family_id": family_id,
            "period_start": aware(period_start, "period_start"),
            "period_end": aware(period_end, "period_end"),
            "due_at": aware(due_at, "due_at"),
            "status": "pending",
            "attempts": 0,
            "families": 0,
            "created_at": aware(now, "now"),
        }
        if kind != "weekly":
            return await self._put(Digest(**values))
        stmt = (
            self._insert(Digest)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=[col(Digest.practitioner_id), col(Digest.due_at)],
                index_where=col(Digest.kind) == "weekly",
            )
            .returning(col(Digest.id))
        )
        new_id = (await self.session.exec(stmt)).scalar_one_or_none()
        return None if new_id is None else await self.session.get(Digest, new_id)

    async def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int = 10
    ) -> list[Digest]:
        """Claim pending digests nobody holds (or whose claim lapsed), oldest first."""
        now = aware(now, "now")
        free = or_(col(Digest.claimed_by).is_(None), col(Digest.claim_expires_at) < now)
        query = (
            select(Digest)
            .where(col(Digest.status) == "pending", free)
            .order_by(col(Digest.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = list((await self.session.exec(query)).all())
        for row in rows:
            row.claimed_by, row.claim_expires_at = worker, now + lease
            row.attempts += 1
            self.session.add(row)
        await self.session.flush()
        return rows

    async def by_id(self, digest_id: int, lock: bool = False) -> Digest | None:
        """The digest with this id, if any (``lock``: hold it until the transaction ends)."""
        query = select(Digest).where(col(Digest.id) == digest_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.exec(query)).first()

    async def for_practitioner(self, practitioner_id: int, limit: int = 20) -> list[Digest]:
        """A practitioner's latest digests, newest first."""
        query = (
            select(Digest)
            .where(col(Digest.practitioner_id) == practitioner_id)
            .order_by(col(Digest.id).desc())
            .limit(limit)
        )
        return list((await self.session.exec(query)).all())

    async def save(self, digest: Digest) -> None:
        """Write changes to a digest."""
        await self._put(digest)


class AlertRepo(Repo):
    """Safeguarding alerts."""

    async def add(self, alert: SafeguardingAlert) -> SafeguardingAlert:
        """Store a new alert."""
        return await self._put(alert)

    async def by_id(self, alert_id: int) -> SafeguardingAlert | None:
        """The alert with this id, if any."""
        return await self.session.get(SafeguardingAlert, alert_id)

    async def save(self, alert: SafeguardingAlert) -> None:
        """Write changes to an alert."""
        await self._put(alert)

    async def due_realerts(self, now: datetime, limit: int = 100) -> list[SafeguardingAlert]:
        """Claim open alerts whose time to alert again has come."""
        query = (
            select(SafeguardingAlert)
            .where(
                col(SafeguardingAlert.status) == "open",
                col(SafeguardingAlert.realert_at) <= aware(now, "now"),
            )
            .order_by(col(SafeguardingAlert.realert_at), col(SafeguardingAlert.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.exec(query)).all())

    async def for_families(
        self, family_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[SafeguardingAlert]:
        """Alerts raised in these families in [start, end), oldest first."""
        if not family_ids:
            return []
        query = (
            select(SafeguardingAlert)
            .where(
                col(SafeguardingAlert.family_id).in_(family_ids),
                col(SafeguardingAlert.created_at) >= aware(start, "start"),
                col(SafeguardingAlert.created_at) < aware(end, "end"),
            )
            .order_by(col(SafeguardingAlert.created_at), col(SafeguardingAlert.id))
        )
        return list((await self.session.exec(query)).all())


@dataclass(frozen=True)
class DigestRows:
    """Everything a digest of some families over one period is built from (plain rows)."""

    families: list[Family]
    members: list[Member]
    runs: list[FlowRun]
    answers: list[Answer]
    scale_answers: list[Answer]
    reminders: list[Reminder]
    schedules: list[Schedule]
    alerts: list[SafeguardingAlert]


class DigestSourceRepo(Repo):
    """Reads what a digest needs, in a few queries for all of a practitioner's families."""

    async def rows(
        self,
        practitioner_id: int,
        start: datetime,
        end: datetime,
        history_start: datetime,
        family_id: int | None = None,
    ) -> DigestRows:
        """Rows for the families of one practitioner (or one of them) over [start, end).

        Runs and check-in scales go back to ``history_start`` for the trend charts.
        """
        start, end = aware(start, "start"), aware(end, "end")
        history_start = aware(history_start, "history_start")
        query = select(Family).where(col(Family.practitioner_id) == practitioner_id)
        if family_id is not None:
            query = query.where(col(Family.id) == family_id)
        families = list((await self.session.exec(query.order_by(col(Family.name)))).all())
        ids = [f.id for f in families if f.id is not None]
        if not ids:
            return DigestRows(families, [], [], [], [], [], [], [])
        members = await self._all(
            select(Member).where(col(Member.family_id).in_(ids)).order_by(col(Member.id))
        )
        member_ids = [m.id for m in members if m.id is not None]
        runs = await self._all(
            select(FlowRun)
            .where(
                col(FlowRun.family_id).in_(ids),
                col(FlowRun.started_at) >= history_start,
                col(FlowRun.started_at) < end,
            )
            .order_by(col(FlowRun.started_at), col(FlowRun.id))
        )
        answers = await self._all(
            select(Answer)
            .where(
                col(Answer.family_id).in_(ids),
                col(Answer.created_at) >= start,
                col(Answer.created_at) < end,
            )
            .order_by(col(Answer.created_at), col(Answer.id))
        )
        scales = await self._all(
            select(Answer)
            .where(
                col(Answer.family_id).in_(ids),
                col(Answer.flow_id) == "three_questions",
                col(Answer.name) == "safety_scale",
                col(Answer.created_at) >= history_start,
                col(Answer.created_at) < end,
            )
            .order_by(col(Answer.created_at), col(Answer.id))
        )
        reminders = await self._all(
            select(Reminder)
            .where(
                col(Reminder.member_id).in_(member_ids),
                col(Reminder.due_at) >= start,
                col(Reminder.due_at) < end,
            )
            .order_by(col(Reminder.due_at), col(Reminder.id))
        )
        schedules = await self._all(
            select(Schedule)
            .where(col(Schedule.member_id).in_(member_ids))
            .order_by(col(Schedule.id))
        )
        alerts = await self._all(
            select(SafeguardingAlert)
            .where(
                col(SafeguardingAlert.family_id).in_(ids),
                col(SafeguardingAlert.created_at) >= start,
                col(SafeguardingAlert.created_at) < end,
            )
            .order_by(col(SafeguardingAlert.created_at), col(SafeguardingAlert.id))
        )
        return DigestRows(families, members, runs, answers, scales, reminders, schedules, alerts)

    async def _all(self, query: SelectOfScalar[RowT]) -> list[RowT]:
        return list((await self.session.exec(query)).all())
