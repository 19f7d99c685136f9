"""Repositories for conversations: flow runs, their answers and the outbox of messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_
from sqlmodel import col, select, update

from rpbot.storage._base import Repo, aware, table_of
from rpbot.storage.errors import RowNotFoundError
from rpbot.storage.tables import Answer, FlowRun, OutboxMessage

_ERROR_MAX = 200  # OutboxMessage.error's column length
REDACTED = '{"text": "(removed after sending)", "buttons": [], "html": false}'


class RunRepo(Repo):
    """Flow runs; at most one per member is active (a partial unique index enforces it)."""

    async def create(
        self,
        member_id: int,
        family_id: int,
        flow_id: str,
        flow_version: int,
        session_json: str,
        started_at: datetime,
        expires_at: datetime,
    ) -> FlowRun:
        """Start an active run (IntegrityError on flush if the member already has one)."""
        started_at = aware(started_at, "started_at")
        row = FlowRun(
            member_id=member_id,
            family_id=family_id,
            flow_id=flow_id,
            flow_version=flow_version,
            status="active",
            session_json=session_json,
            started_at=started_at,
            updated_at=started_at,
            expires_at=aware(expires_at, "expires_at"),
        )
        return await self._put(row)

    async def active_for(self, member_id: int, lock: bool = False) -> FlowRun | None:
        """The member's active run; ``lock`` holds its row (FOR UPDATE) until the transaction ends.

        SQLite has no row locks; there every transaction already holds the write lock.
        """
        query = select(FlowRun).where(
            col(FlowRun.member_id) == member_id, col(FlowRun.status) == "active"
        )
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.exec(query)).first()

    async def active_for_members(self, member_ids: Iterable[int]) -> dict[int, FlowRun]:
        """The active run of each of these members that has one (member id -> run)."""
        wanted = sorted(set(member_ids))
        if not wanted:
            return {}
        query = select(FlowRun).where(
            col(FlowRun.member_id).in_(wanted), col(FlowRun.status) == "active"
        )
        return {run.member_id: run for run in (await self.session.exec(query)).all()}

    async def by_id(self, run_id: int, lock: bool = False) -> FlowRun | None:
        """The run with this id, if any; ``lock`` as in :meth:`active_for`."""
        if not lock:
            return await self.session.get(FlowRun, run_id)
        return await self.session.get(FlowRun, run_id, with_for_update=True, populate_existing=True)

    async def for_member(self, member_id: int) -> list[FlowRun]:
        """Every run of a member, oldest first."""
        query = select(FlowRun).where(col(FlowRun.member_id) == member_id).order_by(col(FlowRun.id))
        return list((await self.session.exec(query)).all())

    async def save(self, run: FlowRun) -> None:
        """Write changes to a run (the caller sets ``updated_at``), with the next flush."""
        self._stage(run)


class AnswerRepo(Repo):
    """Saved answers, one row each."""

    async def add(
        self,
        run_id: int,
        member_id: int,
        family_id: int,
        flow_id: str,
        step_id: str,
        name: str,
        ask_type: str,
        value_json: str,
        free_text: str | None,
        share: str,
        created_at: datetime,
        *,
        flush: bool = True,
    ) -> Answer:
        """Save one answer (``flush=False``: written with the next flush, a query or the
        commit, in one batch with others; its id is unknown until then)."""
        row = Answer(
            run_id=run_id,
            member_id=member_id,
            family_id=family_id,
            flow_id=flow_id,
            step_id=step_id,
            name=name,
            ask_type=ask_type,
            value_json=value_json,
            free_text=free_text,
            share=share,
            created_at=aware(created_at, "created_at"),
        )
        return await self._put(row) if flush else self._stage(row)

    async def set_share(self, run_id: int, flow_id: str, share: str) -> int:
        """Set the sharing level of a run's answers in one flow; return how many changed."""
        stmt = (
            update(Answer)
            .where(
                col(Answer.run_id) == run_id,
                col(Answer.flow_id) == flow_id,
                col(Answer.share) != share,
            )
            .values(share=share)
        )
        result = await self.session.exec(stmt)
        return result.rowcount

    async def for_run(self, run_id: int) -> list[Answer]:
        """A run's answers in the order given."""
        query = select(Answer).where(col(Answer.run_id) == run_id).order_by(col(Answer.id))
        return list((await self.session.exec(query)).all())

    async def for_member(self, member_id: int) -> list[Answer]:
        """A member's answers, oldest first."""
        query = (
            select(Answer)
            .where(col(Answer.member_id) == member_id)
            .order_by(col(Answer.created_at), col(Answer.id))
        )
        return list((await self.session.exec(query)).all())


class OutboxRepo(Repo):
    """Messages to send, written in the transaction that caused them."""

    async def add(
        self,
        chat_id: int,
        method: str,
        payload_json: str,
        now: datetime,
        member_id: int | None = None,
        ref_id: int | None = None,
        run_id: int | None = None,
        prompt: int | None = None,
        claimed_by: str | None = None,
        claim_expires_at: datetime | None = None,
        *,
        flush: bool = True,
    ) -> OutboxMessage:
        """Queue a Bot API call (``claimed_by``: the worker that will send it right away).

        ``flush=False``: written with the next flush or the commit, in one batch with others;
        its id is known only then (fine for a message nothing edits in this transaction).
        """
        row = OutboxMessage(
            chat_id=chat_id,
            method=method,
            payload_json=payload_json,
            member_id=member_id,
            ref_id=ref_id,
            run_id=run_id,
            prompt=prompt,
            status="pending",
            created_at=aware(now, "now"),
            claimed_by=claimed_by,
            claim_expires_at=claim_expires_at,
        )
        return await self._put(row) if flush else self._stage(row)

    async def claim(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        chat_id: int | None = None,
        limit: int = 100,
    ) -> list[OutboxMessage]:
        """Claim pending messages nobody holds (or whose claim lapsed), oldest first.

        Several workers may flush one database: PostgreSQL skips rows locked by another
        claim (``SKIP LOCKED``); on SQLite the claiming transaction holds the write lock.
        A worker that dies mid-send lets its claims lapse after ``lease``, so at most the
        message in flight can be sent twice.
        """
        now = aware(now, "now")
        free = or_(
            col(OutboxMessage.claimed_by).is_(None), col(OutboxMessage.claim_expires_at) < now
        )
        query = select(OutboxMessage).where(col(OutboxMessage.status) == "pending", free)
        if chat_id is not None:
            query = query.where(col(OutboxMessage.chat_id) == chat_id)
        query = query.order_by(col(OutboxMessage.id)).limit(limit).with_for_update(skip_locked=True)
        rows = list((await self.session.exec(query)).all())
        for row in rows:
            row.claimed_by, row.claim_expires_at = worker, now + lease
            self.session.add(row)
        await self.session.flush()
        return rows

    async def release(self, id: int) -> None:
        """Give a claimed message back (to be retried by whoever sweeps next)."""
        await self.session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == id)
            .values(claimed_by=None, claim_expires_at=None, attempts=OutboxMessage.attempts + 1)
        )

    async def pending(self, chat_id: int | None = None, limit: int = 100) -> list[OutboxMessage]:
        """Messages not yet sent, oldest first (optionally for one chat)."""
        query = select(OutboxMessage).where(col(OutboxMessage.status) == "pending")
        if chat_id is not None:
            query = query.where(col(OutboxMessage.chat_id) == chat_id)
        query = query.order_by(col(OutboxMessage.id)).limit(limit)
        return list((await self.session.exec(query)).all())

    async def by_id(self, id: int) -> OutboxMessage | None:
        """The outbox message with this id, if any."""
        return await self.session.get(OutboxMessage, id)

    async def mark_sent(
        self, id: int, message_id: int | None, now: datetime, *, scrub: bool = False
    ) -> None:
        """Record that a message was sent (``message_id`` is Telegram's, if it returned one).

        ``scrub`` replaces its text once delivered (e.g. an invite code). One UPDATE: this
        runs once per message sent, on the hot path.
        """
        values: dict[str, Any] = {
            "status": "sent",
            "sent_message_id": message_id,
            "sent_at": aware(now, "now"),
            "attempts": OutboxMessage.attempts + 1,
            "error": None,
            "claimed_by": None,
            "claim_expires_at": None,
        }
        if scrub:
            values["payload_json"] = REDACTED
        result = await self.session.exec(
            update(OutboxMessage).where(col(OutboxMessage.id) == id).values(**values)
        )
        if result.rowcount == 0:
            raise RowNotFoundError(f"no outbox message with id {id}")

    async def mark_sent_many(self, sent: Sequence[tuple[int, int | None]], now: datetime) -> None:
        """:meth:`mark_sent` for many messages (id, Telegram message id) in one statement
        run for each (a sender commits the marks of messages sent meanwhile together)."""
        if not sent:
            return
        table = table_of(OutboxMessage)
        statement = (
            update(table)
            .where(table.c.id == bindparam("mark_id"))
            .values(
                status="sent",
                sent_message_id=bindparam("mark_message_id", type_=table.c.sent_message_id.type),
                sent_at=aware(now, "now"),
                attempts=table.c.attempts + 1,
                error=None,
                claimed_by=None,
                claim_expires_at=None,
            )
        )
        connection = await self.session.connection()
        await connection.execute(
            statement, [{"mark_id": id, "mark_message_id": message_id} for id, message_id in sent]
        )

    async def prune(self, before: datetime) -> int:
        """Delete sent or failed messages older than ``before`` (their texts are personal)."""
        cutoff = aware(before, "before")
        old = select(OutboxMessage).where(
            col(OutboxMessage.status).in_(("sent", "failed")),
            col(OutboxMessage.created_at) < cutoff,
        )
        rows = list((await self.session.exec(old)).all())
        for row in rows:
            await self.session.delete(row)
        await self.session.flush()
        return len(rows)

    async def mark_failed(self, id: int, error: str, now: datetime) -> None:
        """Record that a message could not be sent and will not be retried."""
        aware(now, "now")
        row = await self._get(id)
        row.status = "failed"
        row.attempts += 1
        row.error = error if len(error) <= _ERROR_MAX else error[: _ERROR_MAX - 1] + "…"
        await self._put(row)

    async def question_for(self, run_id: int, prompt: int) -> OutboxMessage | None:
        """The latest message that asked prompt number ``prompt`` of a run."""
        query = (
            select(OutboxMessage)
            .where(col(OutboxMessage.run_id) == run_id, col(OutboxMessage.prompt) == prompt)
            .order_by(col(OutboxMessage.id).desc())
            .limit(1)
        )
        return (await self.session.exec(query)).first()

    async def _get(self, id: int) -> OutboxMessage:
        row = await self.session.get(OutboxMessage, id)
        if row is None:
            raise RowNotFoundError(f"no outbox message with id {id}; it may have been pruned")
        return row
