"""The state store's tables, as SQLAlchemy Core metadata.

The Alembic migrations under ``sync/migrations`` create exactly these tables; this
module is what the store's queries are written against. Timestamps are stored
timezone-aware (UTC); values that mirror CRM fields are JSON so adding a canonical
field never needs a migration.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),  # "full" | "incremental"
    Column("dry_run", Boolean, nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("counts", JSON, nullable=False),
    Column("api_calls", JSON, nullable=False),
    Column("errors", JSON, nullable=False),
)

account_snapshot = Table(
    "account_snapshot",
    metadata,
    Column("system", String(32), primary_key=True),
    Column("crm_id", String(64), primary_key=True),
    Column("key", String(255), nullable=False, index=True),
    Column("domain", String(255)),
    Column("name", Text),
    Column("owner_id", String(64)),
    Column("modified_at", DateTime(timezone=True)),
    Column("fields", JSON, nullable=False),
    Column("written", JSON, nullable=False),
    Column("manual_tier", String(64)),
    Column("manual_tier_until", Date),
    Column("invalid", JSON, nullable=False),
    # A hand edit tierwise decided to honour: {"tier", "until", "detected"} or NULL.
    Column("override", JSON),
    Column("updated", DateTime(timezone=True), nullable=False),
    # The token of the pull that last saved the record (migration 0005): after a full
    # pull, rows without its token are records the CRM no longer holds.
    Column("pulled", String(32)),
)

account_tier = Table(
    "account_tier",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("tier", String(64), nullable=False),
    Column("tier_since", DateTime(timezone=True), nullable=False),
    Column("score", Float, nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)

tier_history = Table(
    "tier_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False),
    Column("run_id", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("score", Float, nullable=False),
    Column("tier", String(64), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_tier_history_key_at", "key", "at"),
)

last_written = Table(
    "last_written",
    metadata,
    Column("system", String(32), primary_key=True),
    Column("crm_id", String(64), primary_key=True),
    Column("values", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("system", String(32), nullable=False),
    Column("crm_task_id", String(64)),
    Column("account_key", String(255), nullable=False, index=True),
    Column("crm_account_id", String(64), nullable=False),
    Column("tier", String(64), nullable=False),
    # "pending" | "created" | "closed" | "deferred" | "dropped" (see store.TaskRecord)
    Column("status", String(16), nullable=False),
    Column("due", Date),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("closed", DateTime(timezone=True)),
)

watermarks = Table(
    "watermarks",
    metadata,
    Column("system", String(32), primary_key=True),
    Column("object", String(64), primary_key=True),
    # Kept as text so a corrupt value can be read, recognised and replaced.
    Column("value", String(64), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)

run_lock = Table(
    "run_lock",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("acquired", DateTime(timezone=True), nullable=False),
    Column("heartbeat", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("host", String(255)),
    Column("pid", Integer),
)
