"""SQLModel tables for family circles and programme plans (issue 8).

A **circle round** is one prompt put to some of a family's members, answered privately and
shared with them all, in turn order, when everyone has answered or the deadline has passed.
Each member's place in the round is a **circle turn** (their position, their answer, whether a
child agreed to share it, when they were asked and told the result).

A **programme plan** tailors the standard programme (``dialogues/programmes/standard.yaml``)
for one family: ``family_plans`` (one row per tailored family: when its programme started),
``plan_flows`` (per member and flow: on or off, and the reminder's days and time) and
``plan_modules`` (the learning modules' order, one per week). A family without rows follows
the standard plan.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from rpbot.storage.crypto import EncryptedText
from rpbot.storage.tables import _when


class CircleRound(SQLModel, table=True):
    """One circle: a prompt, who started it, its deadline, and whether it has closed."""

    __tablename__ = "circle_rounds"

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="families.id", index=True)
    started_by_type: str = Field(max_length=16)  # practitioner | member
    started_by_id: int
    starter_name: str = Field(max_length=120)
    prompt_id: str | None = Field(default=None, max_length=64)
    prompt: str = Field(sa_type=EncryptedText)  # may be typed by a parent: encrypted at rest
    child_prompt: str | None = Field(default=None, sa_type=EncryptedText)
    status: str = Field(default="open", max_length=16, index=True)  # open | closed
    deadline_at: datetime = _when(index=True)
    created_at: datetime = _when(index=True)
    closed_at: datetime | None = _when(default=None)
    close_reason: str | None = Field(default=None, max_length=16)  # all_answered | deadline


class CircleTurn(SQLModel, table=True):
    """One member's place in a circle round (``position`` is the turn order, from 1)."""

    __tablename__ = "circle_turns"
    __table_args__ = (UniqueConstraint("round_id", "member_id", name="uq_circle_turn"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="circle_rounds.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    position: int
    #: waiting (not asked yet: quiet hours) | asked | answered | passed | late
    status: str = Field(default="waiting", max_length=16, index=True)
    answer: str | None = Field(default=None, sa_type=EncryptedText)
    #: a child's choice: None (not asked / not a child), True share, False keep private
    share_ok: bool | None = Field(default=None)
    ask_at: datetime = _when(index=True)
    asked_at: datetime | None = _when(default=None)
    answered_at: datetime | None = _when(default=None)
    notify_at: datetime | None = _when(default=None, index=True)
    notified_at: datetime | None = _when(default=None)


class FamilyPlan(SQLModel, table=True):
    """A family's tailored programme: which standard plan it starts from, and when."""

    __tablename__ = "family_plans"

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="families.id", unique=True, index=True)
    programme: str = Field(default="standard", max_length=64)
    started_at: datetime = _when()
    updated_at: datetime = _when()
    notes: str | None = Field(default=None, sa_type=Text)


class PlanFlow(SQLModel, table=True):
    """One member's setting for one flow: on or off, and its reminder (no time: none)."""

    __tablename__ = "plan_flows"
    __table_args__ = (UniqueConstraint("member_id", "flow_id", name="uq_plan_flow"),)

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="families.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    flow_id: str = Field(max_length=64)
    enabled: bool = Field(default=True)
    days: str | None = Field(default=None, max_length=40)
    time_of_day: str | None = Field(default=None, max_length=5)
    updated_at: datetime = _when()


class PlanModule(SQLModel, table=True):
    """A learning module's week in a family's programme (week 1 first)."""

    __tablename__ = "plan_modules"
    __table_args__ = (UniqueConstraint("family_id", "flow_id", name="uq_plan_module"),)

    id: int | None = Field(default=None, primary_key=True)
    family_id: int = Field(foreign_key="families.id", index=True)
    week: int
    flow_id: str = Field(max_length=64)
