"""Initial state store: runs, snapshots, tiers, history, last written, tasks, watermarks, lock.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("started", TZ, nullable=False),
        sa.Column("finished", TZ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("api_calls", sa.JSON, nullable=False),
        sa.Column("errors", sa.JSON, nullable=False),
    )
    op.create_table(
        "account_snapshot",
        sa.Column("system", sa.String(32), primary_key=True),
        sa.Column("crm_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("domain", sa.String(255)),
        sa.Column("name", sa.Text),
        sa.Column("owner_id", sa.String(64)),
        sa.Column("modified_at", TZ),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("written", sa.JSON, nullable=False),
        sa.Column("manual_tier", sa.String(64)),
        sa.Column("manual_tier_until", sa.Date),
        sa.Column("invalid", sa.JSON, nullable=False),
        sa.Column("override", sa.JSON),
        sa.Column("updated", TZ, nullable=False),
    )
    op.create_index("ix_account_snapshot_key", "account_snapshot", ["key"])
    op.create_table(
        "account_tier",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("tier", sa.String(64), nullable=False),
        sa.Column("tier_since", TZ, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("updated", TZ, nullable=False),
    )
    op.create_table(
        "tier_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("tier", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_tier_history_key_at", "tier_history", ["key", "at"])
    op.create_table(
        "last_written",
        sa.Column("system", sa.String(32), primary_key=True),
        sa.Column("crm_id", sa.String(64), primary_key=True),
        sa.Column("values", sa.JSON, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("crm_task_id", sa.String(64)),
        sa.Column("account_key", sa.String(255), nullable=False),
        sa.Column("crm_account_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due", sa.Date),
        sa.Column("created", TZ, nullable=False),
        sa.Column("closed", TZ),
    )
    op.create_index("ix_tasks_account_key", "tasks", ["account_key"])
    op.create_table(
        "watermarks",
        sa.Column("system", sa.String(32), primary_key=True),
        sa.Column("object", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("updated", TZ, nullable=False),
    )
    op.create_table(
        "run_lock",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("acquired", TZ, nullable=False),
        sa.Column("heartbeat", TZ, nullable=False),
        sa.Column("expires", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "run_lock",
        "watermarks",
        "tasks",
        "last_written",
        "tier_history",
        "account_tier",
        "account_snapshot",
        "runs",
    ):
        op.drop_table(table)
