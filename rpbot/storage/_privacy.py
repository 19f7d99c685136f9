"""Repository for privacy work: erasure, retention, periodic claims and raw ciphertext access.

Erasure and retention use set-based statements (one DELETE or UPDATE per table), inside the
caller's transaction like every repository. The raw-value methods read and write encrypted
columns *around* :class:`~rpbot.storage.crypto.EncryptedText` (``type_coerce`` to plain
``Text``), so key rotation can see and replace ciphertext itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Table, Text, and_, func, literal, not_, or_, type_coerce
from sqlmodel import SQLModel, col, delete, select, update

from rpbot.storage._base import Repo, aware
from rpbot.storage.crypto import PREFIX, EncryptedText
from rpbot.storage.tables import (
    Answer,
    AuditEntry,
    Counter,
    FlowRun,
    Invite,
    Member,
    OutboxMessage,
    Reminder,
    SafeguardingAlert,
    Schedule,
    UTCDateTime,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_minutes(when: datetime) -> int:
    """Whole minutes since 1970 (fits the counters' 32-bit column for millennia)."""
    return int((aware(when, "when") - EPOCH).total_seconds() // 60)


def from_minutes(minutes: int) -> datetime:
    """The instant ``minutes`` after 1970 (UTC)."""
    return EPOCH + timedelta(minutes=minutes)


def encrypted_columns() -> list[tuple[Table, Column[str]]]:
    """Every (table, column) stored with :class:`EncryptedText`, in a stable order."""
    found: list[tuple[Table, Column[str]]] = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                found.append((table, column))
    return found


@dataclass
class ErasureCounts:
    """How many rows an erasure removed or changed (counts only, for logs and the audit)."""

    answers: int = 0
    runs: int = 0
    schedules: int = 0
    reminders: int = 0
    messages: int = 0
    alerts: int = 0
    invites: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def detail(self) -> str:
        """``answers=3 runs=1 ...`` for the audit log."""
        parts = {
            "answers": self.answers,
            "runs": self.runs,
            "schedules": self.schedules,
            "reminders": self.reminders,
            "messages": self.messages,
            "alerts_deidentified": self.alerts,
            "invites": self.invites,
            **self.extra,
        }
        return " ".join(f"{key}={value}" for key, value in parts.items())


class PrivacyRepo(Repo):
    """Erasure, retention, periodic claims and raw access to encrypted columns."""

    # --- erasure ---------------------------------------------------------------------

    async def erase_member(
        self, member: Member, *, label: str, keep_answers: bool, now: datetime
    ) -> ErasureCounts:
        """Remove a member's identity and (unless ``keep_answers``) their answers and runs.

        Always: reminders, schedules, every outbox row for them or their chat, their pending
        state and Telegram ids go; their name becomes ``label`` (also on the invite they used);
        safeguarding alerts raised from their words stay, with ``member_id`` cleared.
        With ``keep_answers`` (pseudonymisation) answers and runs stay, tied to the renamed
        member row; the caller scrubs names out of the runs' sessions.
        """
        now = aware(now, "now")
        mid = member.id or 0
        counts = ErasureCounts()
        counts.reminders = await self._count(delete(Reminder).where(col(Reminder.member_id) == mid))
        counts.schedules = await self._count(delete(Schedule).where(col(Schedule.member_id) == mid))
        theirs = col(OutboxMessage.member_id) == mid
        if member.chat_id is not None:
            theirs = or_(theirs, col(OutboxMessage.chat_id) == member.chat_id)
        # A message a sender is delivering right now (live claim) is left to finish: deleting
        # it under the sender would fail its bookkeeping. It is pruned with the sent ones.
        in_flight = and_(
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.claimed_by).is_not(None),
            col(OutboxMessage.claim_expires_at) > literal(now, UTCDateTime()),
        )
        counts.messages = await self._count(delete(OutboxMessage).where(theirs, not_(in_flight)))
        counts.alerts = await self._count(
            update(SafeguardingAlert)
            .where(col(SafeguardingAlert.member_id) == mid)
            .values(member_id=None)
        )
        counts.invites = await self._count(
            update(Invite).where(col(Invite.used_by_member_id) == mid).values(member_name=label)
        )
        if not keep_answers:
            counts.answers = await self._count(delete(Answer).where(col(Answer.member_id) == mid))
            counts.runs = await self._count(delete(FlowRun).where(col(FlowRun.member_id) == mid))
        member.display_name = label
        member.telegram_user_id = None
        member.chat_id = None
        member.active = False
        member.pending_json = None
        member.last_active_at = None
        await self._put(member)
        return counts

    # --- retention -------------------------------------------------------------------

    async def delete_answers_before(self, cutoff: datetime) -> int:
        """Delete every answer saved before ``cutoff``; return how many."""
        stmt = delete(Answer).where(col(Answer.created_at) < aware(cutoff, "cutoff"))
        return await self._count(stmt)

    async def runs_ended_between(
        self, start: datetime, end: datetime, limit: int = 500
    ) -> list[FlowRun]:
        """Runs no longer active that ended in [start, end), oldest first (at most ``limit``)."""
        ended = func.coalesce(col(FlowRun.ended_at), col(FlowRun.updated_at), type_=UTCDateTime())
        query = (
            select(FlowRun)
            .where(
                col(FlowRun.status) != "active",
                ended >= literal(aware(start, "start"), UTCDateTime()),
                ended < literal(aware(end, "end"), UTCDateTime()),
            )
            .order_by(ended, col(FlowRun.id))
            .limit(limit)
        )
        return list((await self.session.exec(query)).all())

    # --- periodic work and markers (counters rows) ------------------------------------

    async def claim_every(self, name: str, now: datetime, every: timedelta) -> bool:
        """Claim a job that runs at most once per ``every`` across processes.

        The counter ``name`` holds the minute it last ran; one atomic upsert moves it to now
        only if that was at least ``every`` ago. True: this caller does the job now.
        """
        minute = to_minutes(now)
        gap = int(every.total_seconds() // 60)
        insert = self._insert(Counter).values(name=name, value=minute)
        upsert = insert.on_conflict_do_update(
            index_elements=[col(Counter.name)],
            set_={"value": insert.excluded.value},
            where=col(Counter.value) <= minute - gap,
        ).returning(col(Counter.value))
        return (await self.session.exec(upsert)).first() is not None

    async def get_value(self, name: str) -> int | None:
        """A counter's value, or None if it was never set."""
        query = select(col(Counter.value)).where(col(Counter.name) == name)
        return (await self.session.exec(query)).first()

    async def set_value(self, name: str, value: int) -> None:
        """Set a counter to ``value`` (created if missing)."""
        insert = self._insert(Counter).values(name=name, value=value)
        await self.session.exec(
            insert.on_conflict_do_update(
                index_elements=[col(Counter.name)], set_={"value": insert.excluded.value}
            )
        )

    async def clear_value(self, name: str) -> None:
        """Remove a counter row."""
        await self.session.exec(delete(Counter).where(col(Counter.name) == name))

    # --- audit -----------------------------------------------------------------------

    async def audit_by(self, actor_type: str, actor_id: int, limit: int = 1000) -> list[AuditEntry]:
        """Audit entries of one actor, oldest first (at most ``limit``, the newest ones)."""
        query = (
            select(AuditEntry)
            .where(col(AuditEntry.actor_type) == actor_type, col(AuditEntry.actor_id) == actor_id)
            .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
            .limit(limit)
        )
        return list(reversed((await self.session.exec(query)).all()))

    # --- raw ciphertext ----------------------------------------------------------------

    async def first_encrypted(self) -> tuple[Table, Column[str], str] | None:
        """Some encrypted value (its table, column and raw text), or None if there is none."""
        for table, column in encrypted_columns():
            raw = type_coerce(column, Text())
            query = select(raw).where(raw.like(PREFIX + "%")).limit(1)
            value = (await self.session.exec(query)).first()
            if value is not None:
                return table, column, str(value)
        return None

    async def raw_batch(
        self, table: Table, column: Column[str], after_id: int, limit: int = 500
    ) -> list[tuple[int, str]]:
        """(id, stored text) of rows with ``id > after_id`` and a value, by id."""
        key = table.c.id
        raw = type_coerce(column, Text())
        query = (
            select(key, raw).where(key > after_id, column.is_not(None)).order_by(key).limit(limit)
        )
        return [(int(row[0]), str(row[1])) for row in (await self.session.exec(query)).all()]

    async def replace_raw(
        self, table: Table, column: Column[str], row_id: int, old: str, new: str
    ) -> bool:
        """Store ``new`` as is, if the value is still ``old`` (False: changed meanwhile)."""
        raw = type_coerce(column, Text())
        stmt = (
            update(table)
            .where(table.c.id == row_id, raw == literal(old, Text()))
            .values({column.name: literal(new, Text())})
        )
        return await self._count(stmt) == 1

    async def _count(self, stmt: object) -> int:
        result = await self.session.exec(stmt)  # type: ignore[call-overload]
        return int(result.rowcount)
