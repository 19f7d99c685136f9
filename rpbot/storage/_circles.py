"""Repositories for family circles and programme plans.

``CircleRepo.due_rounds`` and ``CircleRepo.due_turns`` claim rows for one sweep, as the
reminder queries do: on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` (two processes sweeping one
database never close a round or send a message twice), on SQLite inside the sweep's
``BEGIN IMMEDIATE`` transaction, which already excludes other writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, or_, update
from sqlmodel import col, select

from rpbot.storage._base import Repo, aware
from rpbot.storage.tables import FlowRun
from rpbot.storage.tables_circles import CircleRound, CircleTurn, FamilyPlan, PlanFlow, PlanModule

OPEN_TURNS = ("waiting", "asked")


class CircleRepo(Repo):
    """Circle rounds and each member's turn in them."""

    async def create(
        self,
        family_id: int,
        started_by_type: str,
        started_by_id: int,
        starter_name: str,
        prompt: str,
        deadline_at: datetime,
        now: datetime,
        *,
        prompt_id: str | None = None,
        child_prompt: str | None = None,
    ) -> CircleRound:
        """Record a new open round."""
        return await self._put(
            CircleRound(
                family_id=family_id,
                started_by_type=started_by_type,
                started_by_id=started_by_id,
                starter_name=starter_name,
                prompt_id=prompt_id,
                prompt=prompt,
                child_prompt=child_prompt,
                deadline_at=aware(deadline_at, "deadline_at"),
                created_at=aware(now, "now"),
            )
        )

    async def add_turn(
        self, round_id: int, member_id: int, position: int, ask_at: datetime
    ) -> CircleTurn:
        """Give a member their place in a round (asked at ``ask_at``)."""
        return await self._put(
            CircleTurn(
                round_id=round_id,
                member_id=member_id,
                position=position,
                ask_at=aware(ask_at, "ask_at"),
            )
        )

    async def by_id(self, round_id: int, *, lock: bool = False) -> CircleRound | None:
        """A round; ``lock`` holds its row until commit (answers and closing take turns)."""
        query = select(CircleRound).where(col(CircleRound.id) == round_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.exec(query)).first()

    async def turn(self, turn_id: int) -> CircleTurn | None:
        """One turn, if any."""
        return await self.session.get(CircleTurn, turn_id)

    async def turns(self, round_id: int) -> list[CircleTurn]:
        """A round's turns in circle order (read fresh, after any lock was taken)."""
        query = (
            select(CircleTurn)
            .where(col(CircleTurn.round_id) == round_id)
            .order_by(col(CircleTurn.position), col(CircleTurn.id))
            .execution_options(populate_existing=True)
        )
        return list((await self.session.exec(query)).all())

    async def open_turn_for(self, member_id: int) -> CircleTurn | None:
        """The member's oldest turn they have been asked and not answered, in an open round."""
        query = (
            select(CircleTurn)
            .join(CircleRound, col(CircleRound.id) == col(CircleTurn.round_id))
            .where(
                col(CircleTurn.member_id) == member_id,
                col(CircleTurn.status) == "asked",
                col(CircleRound.status) == "open",
            )
            .order_by(col(CircleTurn.asked_at), col(CircleTurn.id))
        )
        return (await self.session.exec(query)).first()

    async def due_rounds(self, now: datetime, limit: int = 500) -> list[CircleRound]:
        """Claim open rounds whose deadline has come."""
        query = (
            select(CircleRound)
            .where(
                col(CircleRound.status) == "open",
                col(CircleRound.deadline_at) <= aware(now, "now"),
            )
            .order_by(col(CircleRound.deadline_at), col(CircleRound.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.exec(query)).all())

    async def due_turns(self, now: datetime, limit: int = 500) -> list[CircleTurn]:
        """Claim turns with a message due: a question held back by quiet hours, or the
        shared round of a closed circle."""
        now = aware(now, "now")
        query = (
            select(CircleTurn)
            .where(
                or_(
                    and_(col(CircleTurn.status) == "waiting", col(CircleTurn.ask_at) <= now),
                    and_(
                        col(CircleTurn.notified_at).is_(None),
                        col(CircleTurn.notify_at) <= now,
                    ),
                )
            )
            .order_by(col(CircleTurn.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.exec(query)).all())

    async def for_families(
        self, family_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[tuple[CircleRound, list[CircleTurn]]]:
        """Rounds started or closed in [start, end) in these families, oldest first."""
        if not family_ids:
            return []
        start, end = aware(start, "start"), aware(end, "end")
        query = (
            select(CircleRound)
            .where(
                col(CircleRound.family_id).in_(list(family_ids)),
                or_(
                    and_(col(CircleRound.created_at) >= start, col(CircleRound.created_at) < end),
                    and_(col(CircleRound.closed_at) >= start, col(CircleRound.closed_at) < end),
                ),
            )
            .order_by(col(CircleRound.created_at), col(CircleRound.id))
        )
        rounds = list((await self.session.exec(query)).all())
        if not rounds:
            return []
        ids = [r.id for r in rounds if r.id is not None]
        turns = (
            await self.session.exec(
                select(CircleTurn)
                .where(col(CircleTurn.round_id).in_(ids))
                .order_by(col(CircleTurn.position), col(CircleTurn.id))
            )
        ).all()
        by_round: dict[int, list[CircleTurn]] = {i: [] for i in ids}
        for turn in turns:
            by_round[turn.round_id].append(turn)
        return [(r, by_round[r.id or 0]) for r in rounds]

    async def for_member(self, member_id: int) -> list[CircleTurn]:
        """Every turn of one member (for their data export), oldest first."""
        query = (
            select(CircleTurn)
            .where(col(CircleTurn.member_id) == member_id)
            .order_by(col(CircleTurn.id))
        )
        return list((await self.session.exec(query)).all())

    async def save(self, row: CircleRound | CircleTurn) -> None:
        """Write changes to a round or a turn."""
        await self._put(row)

    async def erase_member(self, member_id: int, *, keep_answers: bool) -> int:
        """Forget a member's circle answers (or keep them, pseudonymised); return how many.

        Open turns always end as passed, so a round never waits for an erased person.
        """
        turns = col(CircleTurn.member_id) == member_id
        await self.session.exec(
            update(CircleTurn)
            .where(turns, col(CircleTurn.status).in_(OPEN_TURNS))
            .values(status="passed")
        )
        if keep_answers:
            return 0
        result = await self.session.exec(
            update(CircleTurn).where(turns, col(CircleTurn.answer).is_not(None)).values(answer=None)
        )
        await self.session.flush()
        return int(result.rowcount or 0)


class PlanRepo(Repo):
    """Tailored programme plans: the family row, member flow settings, module order."""

    async def family_plan(self, family_id: int) -> FamilyPlan | None:
        """The family's plan row, if it has been tailored."""
        query = select(FamilyPlan).where(col(FamilyPlan.family_id) == family_id)
        return (await self.session.exec(query)).first()

    async def ensure(self, family_id: int, started_at: datetime, now: datetime) -> FamilyPlan:
        """The family's plan row, created (from the standard plan) if missing."""
        found = await self.family_plan(family_id)
        if found is not None:
            return found
        return await self._put(
            FamilyPlan(
                family_id=family_id,
                started_at=aware(started_at, "started_at"),
                updated_at=aware(now, "now"),
            )
        )

    async def flows(self, family_id: int, member_id: int | None = None) -> list[PlanFlow]:
        """Member flow settings of a family (optionally one member)."""
        query = select(PlanFlow).where(col(PlanFlow.family_id) == family_id)
        if member_id is not None:
            query = query.where(col(PlanFlow.member_id) == member_id)
        return list((await self.session.exec(query.order_by(col(PlanFlow.id)))).all())

    async def set_flow(
        self,
        family_id: int,
        member_id: int,
        flow_id: str,
        *,
        enabled: bool,
        days: str | None,
        time_of_day: str | None,
        now: datetime,
    ) -> PlanFlow:
        """Write one member's setting for one flow (created or replaced)."""
        query = select(PlanFlow).where(
            col(PlanFlow.member_id) == member_id, col(PlanFlow.flow_id) == flow_id
        )
        row = (await self.session.exec(query)).first() or PlanFlow(
            family_id=family_id, member_id=member_id, flow_id=flow_id, updated_at=now
        )
        row.enabled, row.days, row.time_of_day = enabled, days, time_of_day
        row.updated_at = aware(now, "now")
        return await self._put(row)

    async def modules(self, family_id: int) -> list[str]:
        """The family's learning modules by week (empty: the standard order)."""
        query = (
            select(PlanModule)
            .where(col(PlanModule.family_id) == family_id)
            .order_by(col(PlanModule.week), col(PlanModule.id))
        )
        return [row.flow_id for row in (await self.session.exec(query)).all()]

    async def set_modules(self, family_id: int, flow_ids: Sequence[str]) -> None:
        """Replace the family's module order (week 1 first)."""
        await self.session.exec(delete(PlanModule).where(col(PlanModule.family_id) == family_id))
        for week, flow_id in enumerate(flow_ids, start=1):
            self.session.add(PlanModule(family_id=family_id, week=week, flow_id=flow_id))
        await self.session.flush()

    async def touch(self, plan: FamilyPlan, now: datetime) -> None:
        """Mark the plan as changed now."""
        plan.updated_at = aware(now, "now")
        await self._put(plan)

    async def completed_flows(self, family_id: int, flow_ids: Sequence[str]) -> set[str]:
        """Which of these flows someone in the family has completed (ever)."""
        if not flow_ids:
            return set()
        query = (
            select(col(FlowRun.flow_id))
            .where(
                col(FlowRun.family_id) == family_id,
                col(FlowRun.status) == "completed",
                col(FlowRun.flow_id).in_(list(flow_ids)),
            )
            .distinct()
        )
        return set((await self.session.exec(query)).all())

    async def erase_member(self, member_id: int) -> int:
        """Remove an erased member's plan settings; return how many."""
        result = await self.session.exec(
            delete(PlanFlow).where(col(PlanFlow.member_id) == member_id)
        )
        await self.session.flush()
        return int(result.rowcount or 0)
