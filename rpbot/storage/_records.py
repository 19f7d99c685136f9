"""Repositories for bookkeeping: processed updates, counters and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete, select

from rpbot.storage._base import Repo, aware
from rpbot.storage.tables import AuditEntry, Counter, ProcessedUpdate

_DETAIL_MAX = 300  # AuditEntry.detail's column length


class UpdateRepo(Repo):
    """Telegram update ids already handled, so a redelivered update is processed once."""

    async def claim(self, update_id: int, now: datetime) -> bool:
        """Record an update id: True if new, False if already processed (safe concurrently)."""
        stmt = (
            self._insert(ProcessedUpdate)
            .values(update_id=update_id, processed_at=aware(now, "now"))
            .on_conflict_do_nothing(index_elements=[col(ProcessedUpdate.update_id)])
        )
        # A concurrent claim of the same id waits for the other transaction, then inserts nothing.
        result = await self.session.exec(stmt)
        return result.rowcount == 1

    async def prune(self, before: datetime) -> int:
        """Forget update ids processed before ``before``; return how many."""
        stmt = delete(ProcessedUpdate).where(
            col(ProcessedUpdate.processed_at) < aware(before, "before")
        )
        result = await self.session.exec(stmt)
        return result.rowcount


class CounterRepo(Repo):
    """Named counters (counts only, nothing about who)."""

    async def increment(self, name: str, by: int = 1) -> int:
        """Add ``by`` to a counter (created at 0) and return its new value."""
        insert = self._insert(Counter).values(name=name, value=by)
        upsert = insert.on_conflict_do_update(
            index_elements=[col(Counter.name)],
            set_={"value": col(Counter.value) + insert.excluded.value},
        ).returning(col(Counter.value))
        value = (await self.session.exec(upsert)).scalar_one()
        return int(value)

    async def get(self, name: str) -> int:
        """A counter's value (0 if never incremented)."""
        query = select(col(Counter.value)).where(col(Counter.name) == name)
        value = (await self.session.exec(query)).first()
        return 0 if value is None else value


class AuditRepo(Repo):
    """Who did what to which record; never message text or answers."""

    async def record(
        self,
        now: datetime,
        actor_type: str,
        actor_id: int | None,
        action: str,
        target_type: str | None = None,
        target_id: int | None = None,
        detail: str | None = None,
    ) -> AuditEntry:
        """Append an audit entry (``detail`` is cut to the column's 300 characters)."""
        if detail is not None and len(detail) > _DETAIL_MAX:
            detail = detail[: _DETAIL_MAX - 1] + "…"
        row = AuditEntry(
            at=aware(now, "now"),
            actor_type=actor_type,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
        )
        return await self._put(row)

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """The latest audit entries, newest first."""
        query = (
            select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        ).limit(limit)
        return list((await self.session.exec(query)).all())
