# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The run report's minimum prices the work the bulk paths split into jobs (issue 15):
the related objects read with the accounts, the ingest files a write set fills and the
distinct property sets of the updates, each checked against the jobs the sandbox saw."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.provisioning import provisioned
from tierwise.connectors.base import ApiUsage
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import settings_from_env
from tierwise.sync.ledger import finish_run
from tierwise.sync.minimum import minimum_calls
from tierwise.sync.report import RunReport
from tierwise.sync.state import StateStore


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with provisioned(Sandbox(accounts=150, seed=11)) as box:
        yield box


def posts(sb: Sandbox, system: str, path: str) -> int:
    return sum(
        1 for c in sb.calls if c.system == system and c.method == "POST" and c.path.endswith(path)
    )


def test_the_report_prices_related_jobs_ingest_files_and_property_sets(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_from_env(
        sb.env(),
        database_url=f"sqlite:///{tmp_path / 'state.db'}",
        report_dir=str(tmp_path / "reports"),
    )
    sf, hs = settings.salesforce, settings.hubspot
    assert sf is not None  # sb.env() configures both CRMs
    assert hs is not None
    # Every path a bulk one: Bulk 2.0 query and ingest, a HubSpot import for the writes;
    # the ingest files cut at 8,000 bytes so that the write set fills several.
    sf.bulk_query_threshold = 1
    sf.bulk_threshold = 1
    hs.import_threshold = 1
    monkeypatch.setattr("tierwise.connectors.salesforce.bulk_ingest.MAX_UPLOAD_BYTES", 8000)
    # The waits between a job's status reads go through the retry engine's sleep.
    monkeypatch.setattr("tierwise.connectors.retry.sleep", lambda _seconds: None)
    app = boot.bootstrap(settings, clock=lambda: datetime.now(UTC))
    sb.reset_calls()
    try:
        report = app.engine.run(full=True).report
        usage = {c.system: c.usage() for c in app.connectors}
    finally:
        app.close()
    assert "ok" == report.status

    query_jobs = posts(sb, "salesforce", "/jobs/query")
    ingest_jobs = posts(sb, "salesforce", "/jobs/ingest")
    imports = posts(sb, "hubspot", "/imports")
    assert query_jobs > 1  # the accounts' job and at least one related object's
    assert ingest_jobs > 1
    assert imports >= 1
    # What the connectors and the plan say is what the sandbox saw: a query job per
    # related object besides the accounts', an ingest job per file, an import per set.
    assert query_jobs - 1 == usage["salesforce"].related_reads
    assert ingest_jobs == usage["salesforce"].bulk_files
    assert 0 == usage["hubspot"].related_reads
    assert imports == report.property_sets["hubspot"]


class Counted:
    """A connector as ``finish_run`` reads it: its system and its usage."""

    def __init__(self, system: str, usage: ApiUsage) -> None:
        self.system = system
        self._usage = usage

    def usage(self) -> ApiUsage:
        return self._usage


def test_finish_run_prices_that_work_at_volume(tmp_path: Path) -> None:
    """At a million rows the bulk paths are the minimum, and their jobs follow the work:
    two related query jobs and three ingest files (Salesforce), two property sets
    (HubSpot)."""
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    store.start_run("r1", "full", False, now)
    report = RunReport(run_id="r1", kind="full", dry_run=False, started=now)
    report.pulled = {"salesforce": 1_000_000, "hubspot": 1_000_000}
    report.writes = {"salesforce": 1_000_000, "hubspot": 1_000_000}
    report.property_sets = {"salesforce": 1, "hubspot": 2}
    crms = [
        Counted("salesforce", ApiUsage(related_reads=2, bulk_files=3)),
        Counted("hubspot", ApiUsage()),
    ]
    finish_run(report, now, crms, store)  # type: ignore[arg-type]  # usage() is all it reads
    sf = minimum_calls("salesforce", 1_000_000, 1_000_000, 0, related=[0, 0], upload_files=3)
    hs = minimum_calls("hubspot", 1_000_000, 1_000_000, 0, property_sets=2)
    assert {"salesforce": sf, "hubspot": hs} == report.minimum_calls
    # Without the related jobs, the extra files and the second set, each is lower.
    assert sf > minimum_calls("salesforce", 1_000_000, 1_000_000, 0)
    assert hs > minimum_calls("hubspot", 1_000_000, 1_000_000, 0)
