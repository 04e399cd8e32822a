"""Alembic environment: runs on the connection the store hands in (never reads a URL itself)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from tierwise.sync.state.tables import metadata


def run_migrations_online() -> None:
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:  # pragma: no cover - the store always passes its connection
        raise RuntimeError(
            "sync migrations run through tierwise.sync.state.migrate(), with a connection"
        )
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover
    raise RuntimeError("offline migrations are not supported; run `tierwise validate` instead")
run_migrations_online()
