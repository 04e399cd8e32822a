# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Bulk API 2.0 ingest jobs through simple-salesforce's bulk2 client."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceOperationError

from tests.sandbox.conftest import sf_client
from tests.sandbox.sf_support import KEY_METADATA, visible_field
from tierwise.sandbox import FaultRule, bulk


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk_upsert_creates_updates_and_reports_per_row_results(make_sandbox: Any) -> None:
    sb = make_sandbox(bulk_poll_steps=2)
    sf = sf_client(sb)
    visible_field(sf, "Activity.Tierwise_Key__c", KEY_METADATA)
    account_id = next(iter(sb.salesforce.objects["Account"]))
    sf.Task.upsert("Tierwise_Key__c/k-0", {"Subject": "old"})
    sb.faults.add(
        FaultRule(
            system="salesforce",
            method="PATCH",
            path=r"jobs/ingest/\w+$",
            kind="record_error",
            records=["k-3"],
        )
    )
    records = [
        {"Tierwise_Key__c": f"k-{i}", "Subject": f"S{i}", "WhatId": account_id} for i in range(5)
    ]

    [job] = sf.bulk2.Task.upsert(records=records, external_id_field="Tierwise_Key__c", wait=0)

    ok = rows(sf.bulk2.Task.get_successful_records(job["job_id"]))
    failed = rows(sf.bulk2.Task.get_failed_records(job["job_id"]))
    assert (5, 1) == (job["numberRecordsProcessed"], job["numberRecordsFailed"])
    assert {"k-0": "false", "k-1": "true", "k-2": "true", "k-4": "true"} == {
        r["Tierwise_Key__c"]: r["sf__Created"] for r in ok
    }
    assert ["k-3"] == [r["Tierwise_Key__c"] for r in failed]
    assert failed[0]["sf__Error"].startswith("UNABLE_TO_LOCK_ROW:")
    polls = [c for c in sb.calls if c.method == "GET" and c.path.endswith("/jobs/ingest/{id}")]
    assert len(polls) >= 3


def test_bulk_update_writes_accounts_and_validates_values(make_sandbox: Any) -> None:
    sb = make_sandbox(profile="enriched")
    sf = sf_client(sb)
    ids = list(sb.salesforce.objects["Account"])[:2]

    [job] = sf.bulk2.Account.update(
        records=[
            {"Id": ids[0], "Credit_Risk__c": "High"},
            {"Id": ids[1], "Credit_Risk__c": "platinum"},
        ],
        wait=0,
    )

    failed = rows(sf.bulk2.Account.get_failed_records(job["job_id"]))
    assert "High" == sb.salesforce.objects["Account"][ids[0]]["Credit_Risk__c"]
    assert [ids[1]] == [r["sf__Id"] for r in failed]
    assert failed[0]["sf__Error"].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")


def test_bulk_job_with_an_unknown_column_fails_as_a_whole(make_sandbox: Any) -> None:
    sb = make_sandbox()
    sf = sf_client(sb)
    account_id = next(iter(sb.salesforce.objects["Account"]))

    with pytest.raises(SalesforceOperationError, match="Field name not found"):
        sf.bulk2.Account.update(records=[{"Id": account_id, "Nope__c": "x"}], wait=0)


def test_result_paths_accept_both_spellings_and_a_trailing_slash(make_sandbox: Any) -> None:
    sb = make_sandbox()
    sf = sf_client(sb)
    account_id = next(iter(sb.salesforce.objects["Account"]))
    [job] = sf.bulk2.Account.update(records=[{"Id": account_id, "Industry": "Media"}], wait=0)
    base = f"{sf.bulk2_url}ingest/{job['job_id']}/"

    paths = [
        "successfulResults",
        "successfulResults/",
        "unprocessedrecords",
        "unprocessedRecords/",
        "failedResults/",
    ]
    answers = [sf.session.get(base + p, headers=sf.headers, timeout=5) for p in paths]

    assert [200] * 5 == [a.status_code for a in answers]
    assert answers[1].text.startswith('"sf__Id","sf__Created",')


def open_industry_job(sf: Any, sb: Any) -> tuple[Any, dict[str, Any], str]:
    """An Account update job, open, with one row setting an account's Industry to Media:
    (the library's per-request client, the job, the account's id)."""
    account_id = next(iter(sb.salesforce.objects["Account"]))
    client = sf.bulk2.Account._client
    job = client.create_job("update")
    client.upload_job_data(job["id"], f"Id,Industry\n{account_id},Media\n")
    return client, job, account_id


def test_an_aborted_job_returns_its_rows_as_unprocessed(make_sandbox: Any) -> None:
    sb = make_sandbox()
    sf = sf_client(sb)
    client, job, account_id = open_industry_job(sf, sb)

    aborted = client.abort_job(job["id"], False)

    unprocessed = rows(sf.bulk2.Account.get_unprocessed_records(job["id"]))
    assert "Aborted" == aborted["state"]
    assert [{"Id": account_id, "Industry": "Media"}] == unprocessed
    assert "Media" != sb.salesforce.objects["Account"][account_id]["Industry"]


def test_a_close_is_answered_at_once_and_the_job_is_in_progress_while_rows_are_written(
    make_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "PROCESS_WAIT", 0.05)
    gate = threading.Event()
    write_rows = bulk.BulkIngest._process_rows

    def held_rows(self: bulk.BulkIngest, *args: Any) -> None:
        gate.wait(10)
        write_rows(self, *args)

    monkeypatch.setattr(bulk.BulkIngest, "_process_rows", held_rows)
    sb = make_sandbox()
    sf = sf_client(sb)
    client, job, account_id = open_industry_job(sf, sb)

    closed = client.close_job(job["id"])
    during = client.get_job(job["id"], False)
    gate.set()
    states = [client.get_job(job["id"], False)["state"] for _ in range(2)]

    assert "UploadComplete" == closed["state"]
    assert "InProgress" == during["state"]
    assert ["InProgress", "JobComplete"] == states
    assert "Media" == sb.salesforce.objects["Account"][account_id]["Industry"]
