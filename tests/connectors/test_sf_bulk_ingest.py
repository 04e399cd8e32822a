# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Account writes through one Bulk API 2.0 ingest job, counted on the sandbox's ledger
through simple-salesforce's own request builder (connectors/salesforce/bulk_ingest.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.conftest import SleepRecorder
from tests.connectors.sandbox_support import salesforce
from tests.provisioning import provisioned
from tierwise.connectors.base import AccountUpdate
from tierwise.connectors.errors import FatalCrmError
from tierwise.connectors.salesforce.bulk_ingest import write_files
from tierwise.sandbox import Sandbox
from tierwise.sync.minimum import SF_BULK_INGEST_FIXED

ACCOUNTS = 240


@pytest.fixture
def sb() -> Iterator[Any]:
    with provisioned(Sandbox(accounts=ACCOUNTS, seed=5)) as box:
        yield box


def ingest_calls(sb: Any) -> list[tuple[str, str]]:
    sent = [c for c in sb.calls if c.system == "salesforce" and "/jobs/ingest" in c.path]
    return [(c.method, c.path) for c in sent]


def updates(ids: list[str]) -> list[AccountUpdate]:
    return [AccountUpdate(i, {"tier": "tier_4", "tier_changed": date(2026, 11, 2)}) for i in ids]


def test_a_job_costs_create_upload_close_and_the_status_reads_nothing_more(
    sb: Any, sleeps: SleepRecorder
) -> None:
    sf = salesforce(sb, bulk_threshold=100)
    ids = [a.crm_id for a in sf.pull_accounts(None)]
    sb.reset_calls()

    outcome = sf.write_accounts(updates(ids))

    assert sorted(ids) == sorted(outcome.written)
    assert "tier_4" == sb.salesforce.objects["Account"][ids[7]]["Tierwise_Tier__c"]
    template = "/services/data/vXX.X/jobs/ingest"
    # The sandbox answers the first status read InProgress (bulk_poll_steps=1): two reads;
    # no read after JobComplete, no failed-results read when numberRecordsFailed is 0.
    assert [
        ("POST", template),
        ("PUT", template + "/{id}/batches"),
        ("PATCH", template + "/{id}"),
        ("GET", template + "/{id}"),
        ("GET", template + "/{id}"),
    ] == ingest_calls(sb)
    usage = sf.usage().calls
    assert 5 == sum(n for label, n in usage.items() if label.startswith("bulk2 ingest"))
    # What the minimum prices a job at, with the sandbox's two status reads.
    assert SF_BULK_INGEST_FIXED + 2 == len(ingest_calls(sb))
    assert [1.0] == sleeps.delays  # one wait between the two reads, recorded, never slept


def test_failed_rows_are_read_once_and_reported_the_rest_written(sb: Any) -> None:
    sf = salesforce(sb, bulk_threshold=100)
    ids = [a.crm_id for a in sf.pull_accounts(None)]
    gone = ids[3]
    sb.salesforce.org.delete("Account", gone)
    sb.reset_calls()

    outcome = sf.write_accounts(updates(ids))

    assert [gone] == [f.crm_id for f in outcome.failed]
    assert sorted(set(ids) - {gone}) == sorted(outcome.written)
    # create, upload, close, two status reads, one failed-results read.
    assert 6 == len(ingest_calls(sb))
    assert ingest_calls(sb)[-1][1] != ingest_calls(sb)[-2][1]
    assert 1 == sf.usage().calls["bulk2 ingest failed"]


def test_a_failed_job_is_an_error_and_leaves_nothing_open(
    sb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = salesforce(sb, bulk_threshold=100)
    ids = [a.crm_id for a in sf.pull_accounts(None)]
    original = sb.salesforce.bulk._process

    def broken(job: Any, row_fault: Any) -> None:
        original(job, row_fault)
        job.error_message = "InvalidBatch : simulated"

    monkeypatch.setattr(sb.salesforce.bulk, "_process", broken)
    with pytest.raises(FatalCrmError, match="simulated"):
        sf.write_accounts(updates(ids))
    states = {job.state for job in sb.salesforce.bulk.jobs.values()}
    assert {"Failed"} == states


def test_csv_files_split_at_the_upload_limit_each_with_its_header(tmp_path: Path) -> None:
    rows = [{"Id": f"001{i:015d}", "Tierwise_Tier__c": "tier_1"} for i in range(10)]
    header = ["Id", "Tierwise_Tier__c"]
    [whole] = write_files(iter(rows), header, str(tmp_path), max_bytes=10_000)
    (tmp_path / "many").mkdir()
    files = [
        Path(p).read_text()
        for p in write_files(iter(rows), header, str(tmp_path / "many"), max_bytes=100)
    ]

    assert len(files) > 1
    assert all(f.startswith("Id,Tierwise_Tier__c\n") for f in files)
    assert all(len(f.encode()) <= 100 for f in files)
    read = [r for f in files for r in csv.DictReader(io.StringIO(f))]
    assert rows == read
    assert 11 == len(Path(whole).read_text().splitlines())
