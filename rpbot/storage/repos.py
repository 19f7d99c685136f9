"""Repositories over one :class:`AsyncSession`: every method flushes, none commits.

A :class:`Repos` comes from :meth:`rpbot.storage.db.Database.transaction`, which commits or
rolls back the whole unit of work. Datetimes in and out are timezone-aware UTC.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from rpbot.storage._agreements import AgreementRepo, ChoreLogRepo
from rpbot.storage._circles import CircleRepo, PlanRepo
from rpbot.storage._digests import AlertRepo, DigestRepo, DigestSourceRepo
from rpbot.storage._people import (
    FamilyRepo,
    InviteAttemptRepo,
    InviteRepo,
    MemberRepo,
    PractitionerRepo,
)
from rpbot.storage._privacy import PrivacyRepo
from rpbot.storage._records import AuditRepo, CounterRepo, UpdateRepo
from rpbot.storage._runs import AnswerRepo, OutboxRepo, RunRepo
from rpbot.storage._schedules import DueRunRepo, ReminderRepo, ScheduleRepo

__all__ = [
    "AgreementRepo",
    "AlertRepo",
    "AnswerRepo",
    "AuditRepo",
    "ChoreLogRepo",
    "CircleRepo",
    "CounterRepo",
    "DigestRepo",
    "DigestSourceRepo",
    "DueRunRepo",
    "FamilyRepo",
    "InviteAttemptRepo",
    "InviteRepo",
    "MemberRepo",
    "OutboxRepo",
    "PlanRepo",
    "PractitionerRepo",
    "PrivacyRepo",
    "ReminderRepo",
    "Repos",
    "RunRepo",
    "ScheduleRepo",
    "UpdateRepo",
]


class Repos:
    """Every repository, bound to one session inside one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.practitioners = PractitionerRepo(session)
        self.families = FamilyRepo(session)
        self.members = MemberRepo(session)
        self.invites = InviteRepo(session)
        self.invite_attempts = InviteAttemptRepo(session)
        self.runs = RunRepo(session)
        self.answers = AnswerRepo(session)
        self.outbox = OutboxRepo(session)
        self.updates = UpdateRepo(session)
        self.counters = CounterRepo(session)
        self.audit = AuditRepo(session)
        self.schedules = ScheduleRepo(session)
        self.reminders = ReminderRepo(session)
        self.due_runs = DueRunRepo(session)
        self.digests = DigestRepo(session)
        self.alerts = AlertRepo(session)
        self.digest_source = DigestSourceRepo(session)
        self.privacy = PrivacyRepo(session)
        self.agreements = AgreementRepo(session)
        self.chore_logs = ChoreLogRepo(session)
        self.circles = CircleRepo(session)
        self.plans = PlanRepo(session)
