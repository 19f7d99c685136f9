"""Agreements in storage and the services around them, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy.exc import IntegrityError

from rpbot.dialogues import default_library
from rpbot.digest.text import family_messages
from rpbot.services.agreements import Agreements, Proposal
from rpbot.services.conversation import Conversations
from rpbot.services.digests import Digests
from rpbot.services.enrolment import add_practitioner, create_family
from rpbot.services.outbox import Outbox
from rpbot.services.privacy import erase_member
from rpbot.services.privacy_export import member_export
from rpbot.services.reminders import Reminders
from rpbot.storage.db import Database
from rpbot.storage.tables import Member
from rpbot.storage.tables_agreements import AgreementVersion

pytestmark = pytest.mark.asyncio

LIBRARY = default_library()
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # a Monday


@dataclass
class Family:
    id: int
    sam: Member
    mia: Member


@pytest_asyncio.fixture
async def green(db: Database) -> Family:
    async with db.transaction() as repos:
        practitioner = await add_practitioner(repos, 9001, "Alex", NOW)
        family = await create_family(repos, practitioner, "Green", "england", NOW)
        fid = family.id or 0
        sam = await repos.members.create(fid, "parent", "Sam", NOW, 1001, 1001)
        mia = await repos.members.create(fid, "child", "Mia", NOW, 1002, 1002)
        return Family(fid, sam, mia)


def service() -> Agreements:
    return Agreements(LIBRARY, Reminders(LIBRARY, Conversations(LIBRARY)))


BINS = Proposal("chore", "Take the bins out", "bins", days="mon,wed,fri", time_of_day="17:30")


async def agreed_v1(db: Database, green: Family) -> AgreementVersion:
    """v1 with the bins and one rule, agreed by Sam and Mia."""
    agreements = service()
    async with db.transaction() as repos:
        out = Outbox(repos, NOW)
        draft = await agreements.editable_draft(repos, green.id, NOW)
        bins = Proposal(**{**BINS.__dict__, "child_member_id": green.mia.id})
        rule = Proposal("rule", "We speak kindly", consequence="Say sorry and try again")
        items = await agreements.add(repos, draft, [bins, rule], green.sam.id, NOW)
        family = await repos.families.by_id(green.id)
        assert family is not None
        await agreements.ask_everyone(repos, out, draft, family, NOW)
        for member in (green.sam, green.mia):
            for item in items:
                await agreements.agree(repos, out, member, item, draft, NOW)
        return draft


async def test_versions_items_and_votes_are_kept(db: Database, green: Family) -> None:
    v1 = await agreed_v1(db, green)
    async with db.transaction() as repos:
        versions = await service().versions(repos, green.id)
        assert [(v.number, v.status) for v in versions] == [(1, "active")]
        assert versions[0].activated_at == NOW
        items = await repos.agreements.items(v1.id or 0)
        assert [(i.position, i.kind, i.text, i.root_id) for i in items] == [
            (1, "chore", "Take the bins out", items[0].id),
            (2, "rule", "We speak kindly", items[1].id),
        ]
        assert items[1].consequence == "Say sorry and try again"
        votes = await repos.agreements.votes(v1.id or 0)
        assert len(votes) == 4
        assert {v.choice for v in votes} == {"agree"}
        [schedule] = [
            s
            for s in await repos.schedules.for_member(green.mia.id or 0)
            if s.flow_id == "chore_checkin"
        ]
        assert (schedule.days, schedule.time_of_day, schedule.created_by) == (
            "mon,wed,fri",
            "17:30",
            "agreement",
        )
        assert items[0].schedule_id == schedule.id


async def test_a_new_draft_carries_the_items_and_keeps_the_chain(
    db: Database, green: Family
) -> None:
    v1 = await agreed_v1(db, green)
    agreements = service()
    async with db.transaction() as repos:
        out = Outbox(repos, NOW)
        old = await repos.agreements.items(v1.id or 0)
        await agreements.request_change(
            repos, out, green.mia, old[0], v1, "Football on Wednesdays", NOW
        )
        versions = await agreements.versions(repos, green.id)
        assert [(v.number, v.status) for v in versions] == [(1, "active"), (2, "draft")]
        v2 = versions[1]
        assert (v2.change_reason, v2.change_by_member_id) == (
            "Football on Wednesdays",
            green.mia.id,
        )
        new = await repos.agreements.items(v2.id or 0)
        assert [i.root_id for i in new] == [i.root_id for i in old]
        assert new[0].change_note == "Football on Wednesdays"
        assert new[0].schedule_id is None  # scheduled only once v2 is active


async def test_one_vote_per_member_and_item(db: Database, green: Family) -> None:
    v1 = await agreed_v1(db, green)
    async with db.transaction() as repos:
        item = (await repos.agreements.items(v1.id or 0))[0]
        again = await repos.agreements.vote(
            v1.id or 0, item.id or 0, green.sam.id or 0, "change", NOW
        )
        assert again.choice == "change"  # the same row, changed
        assert len(await repos.agreements.votes(v1.id or 0)) == 4
    with pytest.raises(IntegrityError):
        async with db.transaction() as repos:
            await repos.agreements.add_version(v1.agreement_id, 1, NOW)  # v1 exists


async def test_chore_adherence_per_chore_feeds_the_digest(db: Database, green: Family) -> None:
    await agreed_v1(db, green)
    agreements = service()
    async with db.transaction() as repos:
        out = Outbox(repos, NOW)
        # Wednesday and Friday done (Friday confirmed); Monday 30th missed.
        for day, did in ((2, "yes"), (4, "yes")):
            entry = await agreements.chore_checked(
                repos, out, green.mia, {"did_it": did}, NOW + timedelta(days=day)
            )
            assert entry is not None
        await agreements.confirm(repos, out, green.sam, entry, "y", NOW + timedelta(days=4))
        practitioner = await repos.practitioners.by_telegram_id(9001)
        assert practitioner is not None
        report = await Digests(LIBRARY, charts=False).report(
            repos, practitioner, NOW, NOW + timedelta(days=7)
        )
    [family] = report.families
    [mia] = [c for c in family.chores if c.name == "Mia"]
    [line] = mia.items
    # Due Wed 25, Fri 27 and Mon 30 (Mon 23 17:30 was before the agreement at 18:00).
    assert (line.text, line.due, line.done, line.confirmed) == ("Take the bins out", 3, 2, 1)
    # (Check-ins through the bot are runs too, so such a family is never "quiet".)
    busy = replace(family, quiet=False)
    text = "\n".join(family_messages(busy, "Europe/London"))
    assert "Take the bins out (Mondays, Wednesdays and Fridays at 17:30): 2 of 3 days done" in text


async def test_mydata_and_forget_cover_a_members_agreement_words(
    db: Database, green: Family
) -> None:
    v1 = await agreed_v1(db, green)
    agreements = service()
    async with db.transaction() as repos:
        out = Outbox(repos, NOW)
        item = (await repos.agreements.items(v1.id or 0))[0]
        await agreements.request_change(repos, out, green.mia, item, v1, "Not on Fridays", NOW)
        family = await repos.families.by_id(green.id)
        assert family is not None
        mia = await repos.members.by_id(green.mia.id or 0)
        assert mia is not None
        export = await member_export(repos, LIBRARY, mia, family, NOW)
        reasons = [a["reason"] for a in export.data["household_agreement"]["answers"]]
        assert "Not on Fridays" in reasons
        assert "Not on Fridays" in export.html_text
        await erase_member(repos, mia, "delete", NOW)
        assert await repos.agreements.votes_by(green.mia.id or 0) == []
        versions = await agreements.versions(repos, green.id)
        assert all(v.change_reason is None for v in versions)
        for v in versions:
            for i in await repos.agreements.items(v.id or 0):
                assert i.change_note is None
                assert i.schedule_id is None
