"""Snapshots name the pull that last saw them.

After a full pull the store forgets the records the CRM no longer holds. It used to
be handed every pulled id for that (a million strings held by the worker through the
whole run); now each saved snapshot carries the pull's token and the rows without it
are the ones the CRM no longer has.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_snapshot") as batch:
        batch.add_column(sa.Column("pulled", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("account_snapshot") as batch:
        batch.drop_column("pulled")
