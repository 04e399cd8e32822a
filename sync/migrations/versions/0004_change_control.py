"""Change control (issue 17): the write journal, planned task keys, the model per run, the
model ledger.

``change_journal`` keeps what each record held before a run wrote to it, so
``tierwise rollback RUN_ID`` can restore it; ``change_runs`` names the model (and the
applied plan) behind each run; ``model_ledger`` records every ``tierwise model promote``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_journal",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("system", sa.String(32), primary_key=True),
        sa.Column("crm_id", sa.String(64), primary_key=True),
        sa.Column("account_key", sa.String(255), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("held", sa.JSON, nullable=False),
        sa.Column("desired", sa.JSON, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "change_tasks",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("task_key", sa.String(64), primary_key=True),
    )
    op.create_table(
        "change_runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("model_hash", sa.String(64)),
        sa.Column("plan_hash", sa.String(64)),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_table(
        "model_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("figures", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for name in ("model_ledger", "change_runs", "change_tasks", "change_journal"):
        op.drop_table(name)
