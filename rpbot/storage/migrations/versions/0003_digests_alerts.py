"""Digests and safeguarding alerts: practitioners' digest schedule, digest rows, alert rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("practitioners") as batch:
        batch.add_column(
            sa.Column("digest_days", sa.String(length=40), nullable=False, server_default="mon")
        )
        batch.add_column(
            sa.Column("digest_time", sa.String(length=5), nullable=False, server_default="08:30")
        )
        batch.add_column(_when("digest_next_at", nullable=True))
        batch.create_index("ix_practitioners_digest_next_at", ["digest_next_at"])
    op.create_table(
        "safeguarding_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("flow_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _when("created_at"),
        _when("acknowledged_at", nullable=True),
        sa.Column("acknowledged_action", sa.String(length=16), nullable=True),
        _when("realert_at", nullable=True),
        _when("escalated_at", nullable=True),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["practitioner_id"], ["practitioners.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("family_id", "member_id", "practitioner_id", "status", "created_at"):
        op.create_index(f"ix_safeguarding_alerts_{column}", "safeguarding_alerts", [column])
    op.create_index("ix_safeguarding_alerts_realert_at", "safeguarding_alerts", ["realert_at"])
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=True),
        _when("period_start"),
        _when("period_end"),
        _when("due_at"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        _when("claim_expires_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("families", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("queued_at", nullable=True),
        sa.ForeignKeyConstraint(["practitioner_id"], ["practitioners.id"]),
        sa.ForeignKeyConstraint(["family_id"], ["families.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_digests_practitioner_id", "digests", ["practitioner_id"])
    op.create_index("ix_digests_status", "digests", ["status"])
    op.create_index(
        "uq_weekly_digest",
        "digests",
        ["practitioner_id", "due_at"],
        unique=True,
        sqlite_where=sa.text("kind = 'weekly'"),
        postgresql_where=sa.text("kind = 'weekly'"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("digests")
    op.drop_table("safeguarding_alerts")
    with op.batch_alter_table("practitioners") as batch:
        batch.drop_index("ix_practitioners_digest_next_at")
        batch.drop_column("digest_next_at")
        batch.drop_column("digest_time")
        batch.drop_column("digest_days")
