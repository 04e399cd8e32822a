"""Run lock rows name their holder's host and process id.

A run killed with SIGKILL cannot delete its SQLite lock row; with the holder's host
and pid recorded, the next run on the same host sees the process is gone and takes
the lock over at once instead of waiting for the row to expire.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_lock") as batch:
        batch.add_column(sa.Column("host", sa.String(255)))
        batch.add_column(sa.Column("pid", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("run_lock") as batch:
        batch.drop_column("pid")
        batch.drop_column("host")
