"""Fixtures for the sync tests: a migrated state store on SQLite and on PostgreSQL.

PostgreSQL tests use the server at ``TIERWISE_TEST_POSTGRES_URL`` (default: the local
test database) inside a schema of their own, dropped afterwards; they are skipped,
with the reason, when no server answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tierwise.sync.state import StateStore, normalise_url

POSTGRES_URL = normalise_url(
    os.environ.get(
        "TIERWISE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
)


def _postgres_unreachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "skip", with the reason
        return f"PostgreSQL at {POSTGRES_URL} unreachable: {type(exc).__name__}"
    return None


_PG_SKIP: bool | str | None = False


def postgres_skip_reason() -> str | None:
    global _PG_SKIP  # probe the server once per session
    if _PG_SKIP is False:
        _PG_SKIP = _postgres_unreachable()
    return _PG_SKIP if isinstance(_PG_SKIP, str) else None


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    schema = f"tw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_engine(schema: str) -> Engine:
    return create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        result = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    else:
        schema = request.getfixturevalue("postgres_schema")
        result = StateStore(postgres_engine(schema), lock_name=f"tierwise.test.{schema}")
    result.migrate()
    try:
        yield result
    finally:
        result.dispose()


@pytest.fixture
def second_store(
    store: StateStore, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StateStore]:
    """Another store on the same database through its own engine (a second container)."""
    if store.engine.dialect.name == "sqlite":
        other = StateStore.from_url(str(store.engine.url), lock_name=store.lock_name)
    else:
        schema = request.getfixturevalue("postgres_schema")
        other = StateStore(postgres_engine(schema), lock_name=store.lock_name)
    try:
        yield other
    finally:
        other.dispose()


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """CLI tests configure structlog onto CliRunner's streams; undo that after each test."""
    yield
    import structlog

    from tierwise.sync import logging as sync_logging

    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    sync_logging._redactor = sync_logging.Redactor(())
