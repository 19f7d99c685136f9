"""SQLModel tables: the database is the source of truth for everything that matters.

All datetimes are timezone-aware UTC (:class:`UTCDateTime` makes SQLite give them back aware).
Telegram ids are 64-bit. Free text lives in its own columns so it can be encrypted later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Text, UniqueConstraint, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from rpbot.storage.crypto import EncryptedText


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _big(**kw: Any) -> Any:
    return Field(sa_type=BigInteger, **kw)


class Practitioner(SQLModel, table=True):
    """A social worker or family support worker with a caseload of families."""

    __tablename__ = "practitioners"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = _big(unique=True, index=True)
    chat_id: int | None = _big(default=None)
    name: str = Field(max_length=120)
    timezone: str = Field(default="Europe/London", max_length=64)
    language: str = Field(default="en", max_length=8)
    pending_json: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _when()
    digest_days: str = Field(default="mon", max_length=40)
    digest_time: str = Field(default="08:30", max_length=5)
    digest_next_at: datetime | None = _when(default=None, index=True)


class Family(SQLModel, table=True):
    """A family on the programme, held by one practitioner."""

    __tablename__ = "families"
    __table_args__ = (UniqueConstraint("practitioner_id", "name", name="uq_family_name"),)

    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioners.id", index=True)
    name: str = Field(max_length=120)
    nation: str = Field(max_length=20)
    created_at: datetime = _when()


class Member(SQLModel, table=True):
    """A parent or child in a family, once they have joined with an invite."""

    __tablename__ = "members"

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="families.id", index=True)
    role: str = Field(max_length=10)
    display_name: str = Field(max_length=120)
    telegram_user_id: int | None = _big(default=None, unique=True, index=True)
    chat_id: int | None = _big(default=None)
    language: str = Field(default="en", max_length=8)
    timezone: str = Field(default="Europe/London", max_length=64)
    active: bool = Field(default=True)
    quiet_start: str = Field(default="21:00", max_length=5)
    quiet_end: str = Field(default="08:00", max_length=5)
    pending_json: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _when()
    last_active_at: datetime | None = _when(default=None)


class Invite(SQLModel, table=True):
    """A single-use invite code (stored hashed) for one new family member."""

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="families.id", index=True)
    role: str = Field(max_length=10)
    member_name: str = Field(max_length=120)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = _when()
    expires_at: datetime = _when()
    used_at: datetime | None = _when(default=None)
    used_by_member_id: int | None = Field(default=None, foreign_key="members.id")


class InviteAttempt(SQLModel, table=True):
    """Wrong invite codes per (hashed) Telegram user, for rate limiting; no identity kept."""

    __tablename__ = "invite_attempts"

    user_hash: str = Field(primary_key=True, max_length=64)
    window_start: datetime = _when()
    count: int = Field(default=0)


class FlowRun(SQLModel, table=True):
    """One person's run through a flow: the engine session as JSON, plus searchable fields."""

    __tablename__ = "flow_runs"
    __table_args__ = (
        Index(
            "uq_one_active_run",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    family_id: int = Field(foreign_key="families.id", index=True)
    flow_id: str = Field(max_length=64)
    flow_version: int
    status: str = Field(default="active", max_length=16)
    session_json: str = Field(sa_type=EncryptedText)  # holds answers: encrypted at rest
    started_at: datetime = _when()
    updated_at: datetime = _when()
    expires_at: datetime = _when(index=True)
    nudge_at: datetime | None = _when(default=None, index=True)
    ended_at: datetime | None = _when(default=None)


class Answer(SQLModel, table=True):
    """One saved answer (one row per answer, so digests can query them)."""

    __tablename__ = "answers"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="flow_runs.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    family_id: int = Field(foreign_key="families.id", index=True)
    flow_id: str = Field(max_length=64)
    step_id: str = Field(max_length=64)
    name: str = Field(max_length=64)
    ask_type: str = Field(max_length=16)
    value_json: str = Field(sa_type=EncryptedText)
    free_text: str | None = Field(default=None, sa_type=EncryptedText)
    share: str = Field(max_length=16)
    created_at: datetime = _when(index=True)


class OutboxMessage(SQLModel, table=True):
    """A message to send, recorded in the same transaction as what caused it, then sent.

    ``method`` is a Bot API method; ``payload_json`` its parameters. ``ref_id`` points at an
    earlier outbox row whose sent message this one edits. ``run_id``/``prompt`` tie a question
    message to the engine's prompt number so it can be closed later.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = _big(index=True)
    member_id: int | None = Field(default=None, foreign_key="members.id")
    method: str = Field(max_length=32)
    payload_json: str = Field(sa_type=EncryptedText)  # message texts quote answers
    ref_id: int | None = Field(default=None)
    run_id: int | None = Field(default=None, index=True)
    prompt: int | None = Field(default=None)
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = Field(default=0)
    claimed_by: str | None = Field(default=None, max_length=64)
    claim_expires_at: datetime | None = _when(default=None)
    sent_message_id: int | None = _big(default=None)
    created_at: datetime = _when()
    sent_at: datetime | None = _when(default=None)
    error: str | None = Field(default=None, max_length=200)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled, so a redelivered update is processed once."""

    __tablename__ = "processed_updates"

    # Telegram assigns update ids: no sequence (PostgreSQL would make a BIGSERIAL otherwise).
    update_id: int = _big(primary_key=True, sa_column_kwargs={"autoincrement": False})
    processed_at: datetime = _when(index=True)


class Counter(SQLModel, table=True):
    """Named counters (e.g. messages from unknown people: a count, nothing about them)."""

    __tablename__ = "counters"

    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(default=0)


class AuditEntry(SQLModel, table=True):
    """Who did what to which record. Never message text or answers."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(index=True)
    actor_type: str = Field(max_length=16)
    actor_id: int | None = _big(default=None)  # may be a Telegram user id (64-bit)
    action: str = Field(max_length=48)
    target_type: str | None = Field(default=None, max_length=32)
    target_id: int | None = _big(default=None)
    detail: str | None = Field(default=None, max_length=300)


class Schedule(SQLModel, table=True):
    """A recurring prompt for one member: which flow, which days, what local time.

    ``next_fire_at`` (UTC) is the next occurrence; the sweep claims due rows, records a
    :class:`Reminder` for the occurrence and moves ``next_fire_at`` on.
    """

    __tablename__ = "schedules"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    flow_id: str = Field(max_length=64)
    days: str = Field(default="", max_length=40)
    time_of_day: str = Field(max_length=5)
    next_fire_at: datetime = _when(index=True)
    paused_until: datetime | None = _when(default=None)
    created_by: str = Field(default="default", max_length=16)
    created_at: datetime = _when()


class Reminder(SQLModel, table=True):
    """One occurrence of a schedule: due, then sent, waiting, snoozed, started or skipped."""

    __tablename__ = "reminders"

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int | None = Field(default=None, foreign_key="schedules.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    flow_id: str = Field(max_length=64)
    due_at: datetime = _when()
    send_at: datetime = _when(index=True)
    status: str = Field(default="pending", max_length=16, index=True)
    reason: str | None = Field(default=None, max_length=40)
    sent_at: datetime | None = _when(default=None)
    answered_at: datetime | None = _when(default=None)
    created_at: datetime = _when()


class SafeguardingAlert(SQLModel, table=True):
    """A safeguarding concern noticed in someone's words: kept, alerted, acknowledged.

    ``text`` holds the words that raised it (free text, so it can be encrypted at rest).
    ``member_id`` is cleared when a person is erased; the alert itself is kept, de-identified.
    """

    __tablename__ = "safeguarding_alerts"

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="families.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="members.id", index=True)
    practitioner_id: int = Field(foreign_key="practitioners.id", index=True)
    role: str = Field(max_length=10)
    categories: str = Field(max_length=200)
    text: str | None = Field(default=None, sa_type=EncryptedText)
    flow_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="open", max_length=16, index=True)
    created_at: datetime = _when(index=True)
    acknowledged_at: datetime | None = _when(default=None)
    acknowledged_action: str | None = Field(default=None, max_length=16)
    realert_at: datetime | None = _when(default=None, index=True)
    escalated_at: datetime | None = _when(default=None)


class Digest(SQLModel, table=True):
    """One practitioner digest: due, built and queued to the outbox once.

    ``kind`` is ``weekly`` (scheduled; unique per practitioner and due time, so two processes
    never send the same week twice) or ``on_demand`` (``/digest``, optionally one family).
    """

    __tablename__ = "digests"
    __table_args__ = (
        Index(
            "uq_weekly_digest",
            "practitioner_id",
            "due_at",
            unique=True,
            sqlite_where=text("kind = 'weekly'"),
            postgresql_where=text("kind = 'weekly'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioners.id", index=True)
    kind: str = Field(default="weekly", max_length=16)
    family_id: int | None = Field(default=None, foreign_key="families.id")
    period_start: datetime = _when()
    period_end: datetime = _when()
    due_at: datetime = _when()
    status: str = Field(default="pending", max_length=16, index=True)
    claimed_by: str | None = Field(default=None, max_length=64)
    claim_expires_at: datetime | None = _when(default=None)
    attempts: int = Field(default=0)
    families: int = Field(default=0)
    created_at: datetime = _when()
    queued_at: datetime | None = _when(default=None)


from rpbot.storage import tables_agreements as _agreements  # noqa: E402,F401
from rpbot.storage import tables_circles as _circles  # noqa: E402,F401
