"""Household agreements: versions agreed by the whole family, their items, votes and chores.

An :class:`Agreement` belongs to one family. It has numbered versions (v1, v2, ...): a
version starts as a ``draft`` (people propose items, a parent or the practitioner edits it),
is put to everyone (``asked_at``), and becomes ``active`` once every member has agreed every
item; the version it replaces becomes ``superseded``. A change request on a version opens a
new draft carrying the same items, and a draft that was being voted on becomes ``replaced``.

People's own words (item texts they typed, consequences, reasons for a change) are free text
and stored encrypted at rest like answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from rpbot.storage.crypto import EncryptedText
from rpbot.storage.tables import _when

VERSION_STATUSES = ("draft", "active", "superseded", "replaced")
ITEM_KINDS = ("chore", "rule", "safety")


class Agreement(SQLModel, table=True):
    """A family's household agreement (one per family; its content lives in versions)."""

    __tablename__ = "agreements"

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="families.id", unique=True, index=True)
    created_at: datetime = _when()


class AgreementVersion(SQLModel, table=True):
    """One version of an agreement: draft, active, superseded or replaced.

    ``change_*`` say why this version was opened (a member asked for a change), if so.
    """

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "number", name="uq_agreement_version"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="agreements.id", index=True)
    number: int
    status: str = Field(default="draft", max_length=16, index=True)
    created_at: datetime = _when()
    asked_at: datetime | None = _when(default=None)
    activated_at: datetime | None = _when(default=None)
    superseded_at: datetime | None = _when(default=None)
    change_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    change_reason: str | None = Field(default=None, sa_type=EncryptedText)


class AgreementItem(SQLModel, table=True):
    """One item of a version: a chore (who, which days, what time), a house rule (with its
    agreed consequence) or a safety-plan step.

    ``root_id`` is the first item of the chain of copies this one comes from (its own id for
    a new item), so a chore keeps its streak across versions. ``schedule_id`` is the chore
    check-in schedule made for it while its version is active (no foreign key: schedules are
    removed when a member is erased).
    """

    __tablename__ = "agreement_items"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="agreement_versions.id", index=True)
    position: int
    kind: str = Field(max_length=8)
    key: str | None = Field(default=None, max_length=40)  # the flow option it came from
    text: str = Field(sa_type=EncryptedText)
    consequence: str | None = Field(default=None, sa_type=EncryptedText)
    child_member_id: int | None = Field(default=None, foreign_key="members.id")
    days: str = Field(default="", max_length=40)
    time_of_day: str | None = Field(default=None, max_length=5)
    proposed_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    change_note: str | None = Field(default=None, sa_type=EncryptedText)
    change_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    root_id: int | None = Field(default=None, index=True)
    schedule_id: int | None = Field(default=None)
    created_at: datetime = _when()


class AgreementVote(SQLModel, table=True):
    """A member's answer to one item: agree, or ask for a change (with their reason)."""

    __tablename__ = "agreement_votes"
    __table_args__ = (UniqueConstraint("item_id", "member_id", name="uq_agreement_vote"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="agreement_versions.id", index=True)
    item_id: int = Field(foreign_key="agreement_items.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    choice: str = Field(max_length=8)  # agree | change | pending (waiting for the reason)
    reason: str | None = Field(default=None, sa_type=EncryptedText)
    at: datetime = _when()


class ChoreLog(SQLModel, table=True):
    """A child's check-in on one agreed chore for one local day, and the parent's check."""

    __tablename__ = "chore_logs"
    __table_args__ = (UniqueConstraint("chore_key", "day", name="uq_chore_log_day"),)

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="families.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    item_id: int = Field(foreign_key="agreement_items.id", index=True)
    chore_key: int = Field(index=True)  # the item's root id: the same chore across versions
    day: str = Field(max_length=10)  # the child's local date, YYYY-MM-DD
    status: str = Field(max_length=16)  # done | a_bit | not_yet
    confirmed: str | None = Field(default=None, max_length=16)  # yes | not_quite
    confirmed_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = _when()
    confirmed_at: datetime | None = _when(default=None)
