"""Repositories for household agreements (versions, items, votes) and chore check-ins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import col, delete, select, update

from rpbot.storage._base import Repo, aware
from rpbot.storage.tables_agreements import (
    Agreement,
    AgreementItem,
    AgreementVersion,
    AgreementVote,
    ChoreLog,
)


class AgreementRepo(Repo):
    """A family's agreement, its versions, their items and everyone's votes."""

    # --- agreements and versions ------------------------------------------------------

    async def for_family(self, family_id: int) -> Agreement | None:
        """The family's agreement, if one was started."""
        query = select(Agreement).where(col(Agreement.family_id) == family_id)
        return (await self.session.exec(query)).first()

    async def ensure(self, family_id: int, now: datetime) -> Agreement:
        """The family's agreement, created if it has none yet."""
        found = await self.for_family(family_id)
        if found is not None:
            return found
        return await self._put(Agreement(family_id=family_id, created_at=aware(now, "now")))

    async def by_id(self, agreement_id: int) -> Agreement | None:
        """The agreement with this id, if any."""
        return await self.session.get(Agreement, agreement_id)

    async def versions(self, agreement_id: int) -> list[AgreementVersion]:
        """Every version of an agreement, oldest (v1) first."""
        query = (
            select(AgreementVersion)
            .where(col(AgreementVersion.agreement_id) == agreement_id)
            .order_by(col(AgreementVersion.number))
        )
        return list((await self.session.exec(query)).all())

    async def version(self, version_id: int) -> AgreementVersion | None:
        """The version with this id, if any."""
        return await self.session.get(AgreementVersion, version_id)

    async def add_version(
        self,
        agreement_id: int,
        number: int,
        now: datetime,
        *,
        change_by_member_id: int | None = None,
        change_reason: str | None = None,
    ) -> AgreementVersion:
        """A new draft version (``change_*``: opened because someone asked for a change)."""
        row = AgreementVersion(
            agreement_id=agreement_id,
            number=number,
            created_at=aware(now, "now"),
            change_by_member_id=change_by_member_id,
            change_reason=change_reason,
        )
        return await self._put(row)

    async def save(self, row: Agreement | AgreementVersion | AgreementItem | AgreementVote) -> None:
        """Write changes to an agreement row."""
        await self._put(row)

    # --- items -----------------------------------------------------------------------

    async def items(self, version_id: int) -> list[AgreementItem]:
        """A version's items in their order."""
        query = (
            select(AgreementItem)
            .where(col(AgreementItem.version_id) == version_id)
            .order_by(col(AgreementItem.position), col(AgreementItem.id))
        )
        return list((await self.session.exec(query)).all())

    async def item(self, item_id: int) -> AgreementItem | None:
        """The item with this id, if any."""
        return await self.session.get(AgreementItem, item_id)

    async def add_item(self, item: AgreementItem) -> AgreementItem:
        """Add an item (its ``root_id`` becomes its own id if it had none)."""
        item.created_at = aware(item.created_at, "created_at")
        await self._put(item)
        if item.root_id is None:
            item.root_id = item.id
            await self._put(item)
        return item

    async def remove_item(self, item: AgreementItem) -> None:
        """Delete an item of a draft, with any votes on it."""
        await self.session.exec(delete(AgreementVote).where(col(AgreementVote.item_id) == item.id))
        await self.session.delete(item)
        await self.session.flush()

    async def items_of_versions(self, version_ids: Iterable[int]) -> list[AgreementItem]:
        """The items of several versions (by version, then position)."""
        wanted = sorted(set(version_ids))
        if not wanted:
            return []
        query = (
            select(AgreementItem)
            .where(col(AgreementItem.version_id).in_(wanted))
            .order_by(col(AgreementItem.version_id), col(AgreementItem.position))
        )
        return list((await self.session.exec(query)).all())

    async def active_versions(self, family_ids: Iterable[int]) -> dict[int, AgreementVersion]:
        """Each family's active version (family id -> version), for those that have one."""
        wanted = sorted(set(family_ids))
        if not wanted:
            return {}
        query = (
            select(Agreement, AgreementVersion)
            .join(AgreementVersion, col(AgreementVersion.agreement_id) == col(Agreement.id))
            .where(col(Agreement.family_id).in_(wanted), col(AgreementVersion.status) == "active")
        )
        return {a.family_id: v for a, v in (await self.session.exec(query)).all()}

    async def versions_for_families(
        self, family_ids: Iterable[int]
    ) -> list[tuple[int, AgreementVersion]]:
        """(family id, version) for every version that was ever active, oldest first."""
        wanted = sorted(set(family_ids))
        if not wanted:
            return []
        query = (
            select(Agreement, AgreementVersion)
            .join(AgreementVersion, col(AgreementVersion.agreement_id) == col(Agreement.id))
            .where(
                col(Agreement.family_id).in_(wanted),
                col(AgreementVersion.activated_at).is_not(None),
            )
            .order_by(col(AgreementVersion.id))
        )
        return [(a.family_id, v) for a, v in (await self.session.exec(query)).all()]

    # --- votes -----------------------------------------------------------------------

    async def votes(self, version_id: int) -> list[AgreementVote]:
        """Every vote on a version, in the order given."""
        query = (
            select(AgreementVote)
            .where(col(AgreementVote.version_id) == version_id)
            .order_by(col(AgreementVote.id))
        )
        return list((await self.session.exec(query)).all())

    async def vote(
        self,
        version_id: int,
        item_id: int,
        member_id: int,
        choice: str,
        now: datetime,
        reason: str | None = None,
    ) -> AgreementVote:
        """Record (or change) a member's vote on an item."""
        query = select(AgreementVote).where(
            col(AgreementVote.item_id) == item_id, col(AgreementVote.member_id) == member_id
        )
        row = (await self.session.exec(query)).first()
        if row is None:
            row = AgreementVote(
                version_id=version_id, item_id=item_id, member_id=member_id, choice=choice
            )
        row.choice, row.reason, row.at = choice, reason, aware(now, "now")
        return await self._put(row)

    # --- a person's data -------------------------------------------------------------

    async def votes_by(self, member_id: int) -> list[AgreementVote]:
        """A member's votes, oldest first."""
        query = (
            select(AgreementVote)
            .where(col(AgreementVote.member_id) == member_id)
            .order_by(col(AgreementVote.id))
        )
        return list((await self.session.exec(query)).all())

    async def items_by(self, member_id: int) -> list[AgreementItem]:
        """Items a member proposed, oldest first."""
        query = (
            select(AgreementItem)
            .where(col(AgreementItem.proposed_by_member_id) == member_id)
            .order_by(col(AgreementItem.id))
        )
        return list((await self.session.exec(query)).all())

    async def erase_member(self, member_id: int, *, keep: bool) -> int:
        """Remove a member's words from agreements; return how many rows changed.

        ``keep`` (pseudonymise): their votes and check-ins stay, tied to the renamed member, but
        their reasons are cleared. Otherwise their votes and check-ins are deleted. Either way
        the reasons they gave for a change are cleared and the items they proposed are no
        longer tied to them (an item stays in the family's agreement: everyone agreed it).
        Chore schedules are removed by the erasure itself; the items forget them.
        """
        changed = 0
        if keep:
            changed += await self._count(
                update(AgreementVote)
                .where(col(AgreementVote.member_id) == member_id)
                .values(reason=None)
            )
        else:
            changed += await self._count(
                delete(AgreementVote).where(col(AgreementVote.member_id) == member_id)
            )
            changed += await self._count(
                delete(ChoreLog).where(col(ChoreLog.member_id) == member_id)
            )
        changed += await self._count(
            update(AgreementVersion)
            .where(col(AgreementVersion.change_by_member_id) == member_id)
            .values(change_reason=None, change_by_member_id=None)
        )
        changed += await self._count(
            update(AgreementItem)
            .where(col(AgreementItem.change_by_member_id) == member_id)
            .values(change_note=None, change_by_member_id=None)
        )
        changed += await self._count(
            update(AgreementItem)
            .where(col(AgreementItem.proposed_by_member_id) == member_id)
            .values(proposed_by_member_id=None)
        )
        changed += await self._count(
            update(AgreementItem)
            .where(col(AgreementItem.child_member_id) == member_id)
            .values(schedule_id=None)
        )
        return changed

    async def _count(self, stmt: object) -> int:
        result = await self.session.exec(stmt)  # type: ignore[call-overload]
        return int(result.rowcount or 0)


class ChoreLogRepo(Repo):
    """Children's check-ins on agreed chores, one per chore and local day."""

    async def for_day(self, chore_key: int, day: str) -> ChoreLog | None:
        """The check-in of a chore on a day, if any."""
        query = select(ChoreLog).where(
            col(ChoreLog.chore_key) == chore_key, col(ChoreLog.day) == day
        )
        return (await self.session.exec(query)).first()

    async def by_id(self, log_id: int) -> ChoreLog | None:
        """The check-in with this id, if any."""
        return await self.session.get(ChoreLog, log_id)

    async def record(
        self,
        family_id: int,
        member_id: int,
        item_id: int,
        chore_key: int,
        day: str,
        status: str,
        now: datetime,
    ) -> ChoreLog:
        """Record (or update) a child's check-in on a chore for a day."""
        row = await self.for_day(chore_key, day)
        if row is None:
            row = ChoreLog(
                family_id=family_id,
                member_id=member_id,
                item_id=item_id,
                chore_key=chore_key,
                day=day,
                status=status,
                created_at=aware(now, "now"),
            )
        else:
            row.status, row.item_id = status, item_id
            if status != "done":
                row.confirmed, row.confirmed_by_member_id, row.confirmed_at = None, None, None
        return await self._put(row)

    async def save(self, row: ChoreLog) -> None:
        """Write changes to a check-in."""
        await self._put(row)

    async def for_chores(self, chore_keys: Iterable[int]) -> list[ChoreLog]:
        """Every check-in on these chores, by day."""
        wanted = sorted(set(chore_keys))
        if not wanted:
            return []
        query = (
            select(ChoreLog)
            .where(col(ChoreLog.chore_key).in_(wanted))
            .order_by(col(ChoreLog.day), col(ChoreLog.id))
        )
        return list((await self.session.exec(query)).all())

    async def for_member(self, member_id: int) -> list[ChoreLog]:
        """A child's check-ins, oldest first."""
        query = (
            select(ChoreLog).where(col(ChoreLog.member_id) == member_id).order_by(col(ChoreLog.id))
        )
        return list((await self.session.exec(query)).all())
