"""The state store's change-control tables (migration 0004).

Kept beside the package that uses them, on their own ``MetaData``: the engine's tables
(``sync/state/tables.py``) do not change. Values are JSON (``tierwise.sync.state.codec``), so a
new tierwise field needs no migration here either.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table

metadata = MetaData()

# Per run and record: what the CRM held before tierwise wrote, and what it wrote. Written
# before the write (write-ahead), so a crash mid-write still leaves rollback its values.
change_journal = Table(
    "change_journal",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("system", String(32), primary_key=True),
    Column("crm_id", String(64), primary_key=True),
    Column("account_key", String(255), nullable=False),
    Column("fields", JSON, nullable=False),  # logical names the run wrote
    Column("held", JSON, nullable=False),
    Column("desired", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# The task keys a run planned to create (rollback closes those still open).
change_tasks = Table(
    "change_tasks",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("task_key", String(64), primary_key=True),
)

# Per run: the model that decided it and, for an applied plan, the plan's hash.
change_runs = Table(
    "change_runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("model_hash", String(64)),
    Column("plan_hash", String(64)),
    Column("detail", JSON, nullable=False),
)

# Every model promotion: the file's hash and the backtest figures it went live on.
model_ledger = Table(
    "model_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("forced", Boolean, nullable=False),
    Column("figures", JSON, nullable=False),
)
