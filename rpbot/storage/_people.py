"""Repositories for people: practitioners, families, members, invites and invite attempts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal
from sqlmodel import col, select

from rpbot.storage._base import Repo, aware
from rpbot.storage.tables import (
    Family,
    Invite,
    InviteAttempt,
    Member,
    Practitioner,
    UTCDateTime,
)


class PractitionerRepo(Repo):
    """Practitioners, found by Telegram user id."""

    async def add(
        self, telegram_user_id: int, name: str, now: datetime, timezone: str = "Europe/London"
    ) -> Practitioner:
        """Add a practitioner."""
        row = Practitioner(
            telegram_user_id=telegram_user_id,
            name=name,
            timezone=timezone,
            created_at=aware(now, "now"),
        )
        return await self._put(row)

    async def by_telegram_id(self, tid: int) -> Practitioner | None:
        """The practitioner with this Telegram user id, if any."""
        query = select(Practitioner).where(col(Practitioner.telegram_user_id) == tid)
        return (await self.session.exec(query)).first()

    async def by_id(self, id: int) -> Practitioner | None:
        """The practitioner with this id, if any."""
        return await self.session.get(Practitioner, id)

    async def all(self) -> list[Practitioner]:
        """Every practitioner, oldest first."""
        query = select(Practitioner).order_by(col(Practitioner.id))
        return list((await self.session.exec(query)).all())

    async def save(self, p: Practitioner) -> None:
        """Write changes to a practitioner."""
        await self._put(p)


class FamilyRepo(Repo):
    """Families, each held by one practitioner."""

    async def create(self, practitioner_id: int, name: str, nation: str, now: datetime) -> Family:
        """Create a family."""
        row = Family(
            practitioner_id=practitioner_id,
            name=name,
            nation=nation,
            created_at=aware(now, "now"),
        )
        return await self._put(row)

    async def by_id(self, id: int) -> Family | None:
        """The family with this id, if any."""
        return await self.session.get(Family, id)

    async def by_name(self, name: str) -> list[Family]:
        """Families with exactly this name, ignoring case (across practitioners)."""
        query = (
            select(Family)
            .where(func.lower(col(Family.name)) == name.lower())
            .order_by(col(Family.id))
        )
        return list((await self.session.exec(query)).all())

    async def for_practitioner(self, pid: int) -> list[Family]:
        """A practitioner's families, by name."""
        query = (
            select(Family)
            .where(col(Family.practitioner_id) == pid)
            .order_by(col(Family.name), col(Family.id))
        )
        return list((await self.session.exec(query)).all())


class MemberRepo(Repo):
    """Parents and children who have joined a family."""

    async def create(
        self,
        family_id: int,
        role: str,
        display_name: str,
        now: datetime,
        telegram_user_id: int | None = None,
        chat_id: int | None = None,
        timezone: str = "Europe/London",
        language: str = "en",
    ) -> Member:
        """Add a member to a family."""
        row = Member(
            family_id=family_id,
            role=role,
            display_name=display_name,
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            timezone=timezone,
            language=language,
            created_at=aware(now, "now"),
        )
        return await self._put(row)

    async def by_id(self, id: int) -> Member | None:
        """The member with this id, if any."""
        return await self.session.get(Member, id)

    async def by_ids(self, ids: Iterable[int]) -> dict[int, Member]:
        """Members with these ids (id -> member), in one query."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = select(Member).where(col(Member.id).in_(wanted))
        return {m.id or 0: m for m in (await self.session.exec(query)).all()}

    async def by_telegram_id(self, tid: int) -> Member | None:
        """The member with this Telegram user id, if any."""
        query = select(Member).where(col(Member.telegram_user_id) == tid)
        return (await self.session.exec(query)).first()

    async def identify(self, tid: int) -> tuple[Member, Family, Practitioner | None] | None:
        """The member with this Telegram user id, their family, and the practitioner with the
        same Telegram user id if there is one (a practitioner trying the bot as a parent), in
        one query: every update from a family member starts here. None if not a member."""
        query = (
            select(Member, Family, Practitioner)
            .join(Family, col(Family.id) == col(Member.family_id))
            .outerjoin(
                Practitioner, col(Practitioner.telegram_user_id) == col(Member.telegram_user_id)
            )
            .where(col(Member.telegram_user_id) == tid)
        )
        row = (await self.session.exec(query)).first()
        return (row[0], row[1], row[2]) if row is not None else None

    async def in_family(self, family_id: int) -> list[Member]:
        """A family's members, in the order they joined."""
        query = select(Member).where(col(Member.family_id) == family_id).order_by(col(Member.id))
        return list((await self.session.exec(query)).all())

    async def save(self, member: Member) -> None:
        """Write changes to a member."""
        await self._put(member)


class InviteRepo(Repo):
    """Single-use invite codes, stored only as hashes."""

    async def create(
        self,
        family_id: int,
        role: str,
        member_name: str,
        code_hash: str,
        now: datetime,
        expires_at: datetime,
    ) -> Invite:
        """Record a new invite."""
        row = Invite(
            family_id=family_id,
            role=role,
            member_name=member_name,
            code_hash=code_hash,
            created_at=aware(now, "now"),
            expires_at=aware(expires_at, "expires_at"),
        )
        return await self._put(row)

    async def by_hash(self, code_hash: str, lock: bool = False) -> Invite | None:
        """The invite with this code hash, if any; ``lock`` holds its row until commit."""
        query = select(Invite).where(col(Invite.code_hash) == code_hash)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.exec(query)).first()

    async def for_family(self, family_id: int) -> list[Invite]:
        """A family's invites, oldest first."""
        query = select(Invite).where(col(Invite.family_id) == family_id).order_by(col(Invite.id))
        return list((await self.session.exec(query)).all())

    async def save(self, invite: Invite) -> None:
        """Write changes to an invite (e.g. marking it used)."""
        await self._put(invite)


class InviteAttemptRepo(Repo):
    """Wrong invite codes per hashed user, counted in fixed windows for rate limiting."""

    async def record_failure(self, user_hash: str, now: datetime, window: timedelta) -> int:
        """Count one wrong code; return the count in the current window (a new one if passed)."""
        now = aware(now, "now")
        insert = self._insert(InviteAttempt).values(user_hash=user_hash, window_start=now, count=1)
        # One atomic upsert, so two wrong codes at once can neither collide nor be lost.
        started = col(InviteAttempt.window_start)
        passed = started <= literal(now - window, UTCDateTime())
        upsert = insert.on_conflict_do_update(
            index_elements=[col(InviteAttempt.user_hash)],
            set_={
                "count": case((passed, 1), else_=col(InviteAttempt.count) + 1),
                "window_start": case((passed, insert.excluded.window_start), else_=started),
            },
        ).returning(col(InviteAttempt.count))
        count = (await self.session.exec(upsert)).scalar_one()
        return int(count)

    async def failures(self, user_hash: str, now: datetime, window: timedelta) -> int:
        """Wrong codes in the current window (0 once the window has passed)."""
        now = aware(now, "now")
        query = select(col(InviteAttempt.count), col(InviteAttempt.window_start)).where(
            col(InviteAttempt.user_hash) == user_hash
        )
        row = (await self.session.exec(query)).first()
        if row is None:
            return 0
        count, window_start = row
        return 0 if window_start <= now - window else count
