"""Change-control tests run the real CLI (in process) against a provisioned sandbox."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.provisioning import provisioned
from tierwise.connectors import retry
from tierwise.sandbox import Sandbox
from tierwise.sync.cli import main

SF_TIER = "Tierwise_Tier__c"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture(autouse=True)
def _no_sleeps_and_clean_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(retry, "sleep", lambda _s: None)
    yield
    import structlog

    from tierwise.sync import logging as sync_logging

    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    sync_logging._redactor = sync_logging.Redactor(())


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with provisioned(Sandbox(accounts=40, seed=5)) as sb:
        yield sb


def cli_env(sb: Sandbox, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")}
    env.update(sb.env())
    env["TIERWISE_DATABASE_URL"] = f"sqlite:///{tmp / 'state.db'}"
    env["TIERWISE_REPORT_DIR"] = str(tmp / "reports")
    env["TIERWISE_LOG_LEVEL"] = "WARNING"
    env.update(extra)
    return env


def tierwise(env: dict[str, str], *args: str) -> Result:
    # Keys the CLI env does not name are removed for the call, so settings see only these.
    unset = {k: None for k in os.environ if k.startswith("TIERWISE_") and k not in env}
    return CliRunner().invoke(main, list(args), env={**unset, **env})


def writes(sb: Sandbox) -> list[str]:
    """Calls that change CRM data (searches and queries are reads over POST)."""
    return [
        f"{c.system} {c.method} {c.path}"
        for c in sb.calls
        if c.method in WRITE_METHODS
        and "search" not in c.path
        and "query" not in c.path
        and "token" not in c.path
        and "login" not in c.path.lower()
    ]


def tiers(sb: Sandbox) -> dict[str, Any]:
    """Every tierwise field of every record in both CRMs, keyed by seed company."""
    sf = {ids[0]: key for key, ids in sb.company_ids.items()}
    hs = {ids[1]: key for key, ids in sb.company_ids.items()}
    state: dict[str, Any] = {}
    for i, r in sb.salesforce.objects["Account"].items():
        if i in sf:
            state["sf:" + sf[i]] = {k: v for k, v in r.items() if k.startswith("Tierwise_")}
    for i, c in sb.hubspot.objects["companies"].items():
        if i in hs:
            state["hs:" + hs[i]] = {
                k: v for k, v in c["properties"].items() if k.startswith("tierwise_")
            }
    return state


def open_tasks(sb: Sandbox) -> dict[str, str]:
    """Salesforce tasks tierwise made, by key -> status."""
    return {
        str(t.get("Tierwise_Key__c")): str(t.get("Status"))
        for t in sb.salesforce.objects["Task"].values()
        if t.get("Tierwise_Key__c")
    }


# The state-store fixtures (SQLite, and PostgreSQL at TIERWISE_TEST_POSTGRES_URL).
from tests.sync.conftest import postgres_schema, store  # noqa: E402,F401
