"""Household agreements: agreements, their versions, items, votes and chore check-ins.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agreements_family_id", "agreements", ["family_id"], unique=True)
    op.create_table(
        "agreement_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("created_at"),
        _when("asked_at", nullable=True),
        _when("activated_at", nullable=True),
        _when("superseded_at", nullable=True),
        sa.Column("change_by_member_id", sa.Integer(), nullable=True),
        sa.Column("change_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"]),
        sa.ForeignKeyConstraint(["change_by_member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agreement_id", "number", name="uq_agreement_version"),
    )
    _index("agreement_versions", "agreement_id", "status")
    op.create_table(
        "agreement_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("consequence", sa.Text(), nullable=True),
        sa.Column("child_member_id", sa.Integer(), nullable=True),
        sa.Column("days", sa.String(length=40), nullable=False),
        sa.Column("time_of_day", sa.String(length=5), nullable=True),
        sa.Column("proposed_by_member_id", sa.Integer(), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.Column("change_by_member_id", sa.Integer(), nullable=True),
        sa.Column("root_id", sa.Integer(), nullable=True),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        _when("created_at"),
        sa.ForeignKeyConstraint(["version_id"], ["agreement_versions.id"]),
        sa.ForeignKeyConstraint(["child_member_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["proposed_by_member_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["change_by_member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("agreement_items", "version_id", "root_id")
    op.create_table(
        "agreement_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _when("at"),
        sa.ForeignKeyConstraint(["version_id"], ["agreement_versions.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["agreement_items.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "member_id", name="uq_agreement_vote"),
    )
    _index("agreement_votes", "version_id", "item_id", "member_id")
    op.create_table(
        "chore_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("chore_key", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("confirmed", sa.String(length=16), nullable=True),
        sa.Column("confirmed_by_member_id", sa.Integer(), nullable=True),
        _when("created_at"),
        _when("confirmed_at", nullable=True),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["agreement_items.id"]),
        sa.ForeignKeyConstraint(["confirmed_by_member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chore_key", "day", name="uq_chore_log_day"),
    )
    _index("chore_logs", "family_id", "member_id", "item_id", "chore_key")


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("chore_logs")
    op.drop_table("agreement_votes")
    op.drop_table("agreement_items")
    op.drop_table("agreement_versions")
    op.drop_table("agreements")
