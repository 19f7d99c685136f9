"""Family circles (rounds and turns) and tailored programme plans.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _index(table: str, *columns: str, unique: bool = False) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=unique)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "circle_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("started_by_type", sa.String(length=16), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("starter_name", sa.String(length=120), nullable=False),
        sa.Column("prompt_id", sa.String(length=64), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("child_prompt", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("deadline_at"),
        _when("created_at"),
        _when("closed_at", nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("circle_rounds", "family_id", "status", "deadline_at", "created_at")
    op.create_table(
        "circle_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("share_ok", sa.Boolean(), nullable=True),
        _when("ask_at"),
        _when("asked_at", nullable=True),
        _when("answered_at", nullable=True),
        _when("notify_at", nullable=True),
        _when("notified_at", nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["circle_rounds.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "member_id", name="uq_circle_turn"),
    )
    _index("circle_turns", "round_id", "member_id", "status", "ask_at", "notify_at")
    op.create_table(
        "family_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("programme", sa.String(length=64), nullable=False),
        _when("started_at"),
        _when("updated_at"),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("family_plans", "family_id", unique=True)
    op.create_table(
        "plan_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("days", sa.String(length=40), nullable=True),
        sa.Column("time_of_day", sa.String(length=5), nullable=True),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "flow_id", name="uq_plan_flow"),
    )
    _index("plan_flows", "family_id", "member_id")
    op.create_table(
        "plan_modules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("family_id", "flow_id", name="uq_plan_module"),
    )
    _index("plan_modules", "family_id")


def downgrade() -> None:
    """Revert this revision."""
    for table in ("plan_modules", "plan_flows", "family_plans", "circle_turns", "circle_rounds"):
        op.drop_table(table)
