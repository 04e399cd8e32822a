"""Outreach windows survive runs: one row per account with an open (or withheld) window.

Issue 16: a trigger with ``for_days`` holds its promotion for a defined window. The
pure core returns the windows to keep after each run; ``tierwise.sync.coverage.windows``
replaces this table's rows with them in the run's record step.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outreach_window",
        sa.Column("account_key", sa.String(255), primary_key=True),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(64), nullable=False),
        sa.Column("opened", sa.Date, nullable=False),
        sa.Column("until", sa.Date, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outreach_window")
