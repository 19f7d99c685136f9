"""Reminders: schedules, reminder occurrences, quiet hours, nudge times, outbox claims.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("quiet_start", sa.String(length=5), nullable=False, server_default="21:00")
        )
        batch.add_column(
            sa.Column("quiet_end", sa.String(length=5), nullable=False, server_default="08:00")
        )
        batch.add_column(sa.Column("pending_json", sa.Text(), nullable=True))
    with op.batch_alter_table("flow_runs") as batch:
        batch.add_column(_when("nudge_at", nullable=True))
        batch.create_index("ix_flow_runs_nudge_at", ["nudge_at"])
        batch.create_index("ix_flow_runs_expires_at", ["expires_at"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch.add_column(_when("claim_expires_at", nullable=True))
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.Column("days", sa.String(length=40), nullable=False),
        sa.Column("time_of_day", sa.String(length=5), nullable=False),
        _when("next_fire_at"),
        _when("paused_until", nullable=True),
        sa.Column("created_by", sa.String(length=16), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_schedules_member_id", "schedules", ["member_id"])
    op.create_index("ix_schedules_next_fire_at", "schedules", ["next_fire_at"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        _when("due_at"),
        _when("send_at"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        _when("sent_at", nullable=True),
        _when("answered_at", nullable=True),
        _when("created_at"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"]),
        sa.ForeignKeyConstraint(["schedule_id"], ["schedules.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reminders_schedule_id", "reminders", ["schedule_id"])
    op.create_index("ix_reminders_member_id", "reminders", ["member_id"])
    op.create_index("ix_reminders_send_at", "reminders", ["send_at"])
    op.create_index("ix_reminders_status", "reminders", ["status"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("reminders")
    op.drop_table("schedules")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claim_expires_at")
        batch.drop_column("claimed_by")
    with op.batch_alter_table("flow_runs") as batch:
        batch.drop_index("ix_flow_runs_expires_at")
        batch.drop_index("ix_flow_runs_nudge_at")
        batch.drop_column("nudge_at")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("pending_json")
        batch.drop_column("quiet_end")
        batch.drop_column("quiet_start")
