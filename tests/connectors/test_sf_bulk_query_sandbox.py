"""The sandbox's Bulk API 2.0 query endpoints, driven by simple-salesforce's own request
builder: job states, CSV form, locator paging, and the documented refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from tierwise.sandbox import Sandbox
from tierwise.sandbox.pytest_plugin import salesforce_session


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with Sandbox(accounts=120, seed=4, hubspot_contacts=False) as box:
        yield box


def bulk(sb: Any, version: str = "60.0") -> Any:
    sf = Salesforce(
        instance_url=sb.salesforce_url,
        session_id=sb.salesforce_token,
        session=salesforce_session(sb),
        version=version,
    )
    return sf.bulk2.Account._client


def completed(client: Any, soql: str, operation: str = "query") -> str:
    job = client.create_job(operation, soql)
    assert job["state"] == "UploadComplete"
    states = [client.get_job(job["id"], True)["state"] for _ in range(2)]
    assert states == ["InProgress", "JobComplete"]
    return str(job["id"])


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_results_page_by_locator_and_a_locator_reads_the_same_set_again(sb: Any) -> None:
    client = bulk(sb)
    job = completed(client, "SELECT Id, Name FROM Account")
    first = client.get_query_results(job, "", 50)
    second = client.get_query_results(job, first["locator"], 50)
    again = client.get_query_results(job, first["locator"], 50)
    last = client.get_query_results(job, second["locator"], 50)

    counts = [first["number_of_records"], second["number_of_records"], last["number_of_records"]]
    assert counts == [50, 50, 20]
    assert last["locator"] == ""  # the header said "null": no further set
    assert second["records"] == again["records"]
    ids = [r[0] for page in (first, second, last) for r in rows(page["records"])[1:]]
    assert sorted(ids) == sorted(sb.salesforce.objects["Account"])
    assert rows(first["records"])[0] == ["Id", "Name"]  # header row on every set


def test_csv_writes_null_empty_booleans_lowercase_and_datetimes_in_utc_z(sb: Any) -> None:
    client = bulk(sb)
    record_id = sorted(sb.salesforce.objects["Opportunity"])[0]
    sb.salesforce.edit("Opportunity", record_id, {"Amount": None})
    job = completed(
        client,
        f"SELECT Id, Amount, IsClosed, CreatedDate FROM Opportunity WHERE Id = '{record_id}'",  # noqa: S608 - a seeded id
    )
    header, row = rows(client.get_query_results(job)["records"])

    assert header == ["Id", "Amount", "IsClosed", "CreatedDate"]
    assert row[1] == ""
    assert row[2] in ("true", "false")
    assert row[3].endswith("Z")
    assert "+0000" not in row[3]


def test_a_child_to_parent_filter_reads_the_parent_field(sb: Any) -> None:
    client = bulk(sb)
    parent = sorted(sb.salesforce.objects["Account"])[5]
    name = sb.salesforce.objects["Account"][parent]["Name"].replace("'", "\\'")
    soql = f"SELECT Id, AccountId FROM Opportunity WHERE Account.Name = '{name}'"  # noqa: S608 - seeded
    job = completed(client, soql)
    got = {r[1] for r in rows(client.get_query_results(job)["records"])[1:]}
    expected = {
        o["AccountId"]
        for o in sb.salesforce.objects["Opportunity"].values()
        if o["AccountId"] == parent
    }
    assert expected == got


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id, (SELECT Amount FROM Opportunities) FROM Account",
        "SELECT AccountId, COUNT(Id) n FROM Opportunity GROUP BY AccountId",
        "SELECT COUNT() FROM Account",
        "SELECT Id FROM Account LIMIT 5 OFFSET 2",
    ],
)
def test_statements_bulk_2_does_not_support_are_refused_at_create(sb: Any, soql: str) -> None:
    with pytest.raises(SalesforceError) as raised:
        bulk(sb).create_job("query", soql)
    assert raised.value.status == 400


def test_results_before_completion_are_refused_with_412(sb: Any) -> None:
    client = bulk(sb)
    job = client.create_job("query", "SELECT Id FROM Account")
    with pytest.raises(SalesforceError) as raised:
        client.get_query_results(job["id"])
    assert raised.value.status == 412


def test_results_in_another_api_version_are_refused_with_409(sb: Any) -> None:
    job = completed(bulk(sb), "SELECT Id FROM Account")
    with pytest.raises(SalesforceError) as raised:
        bulk(sb, version="59.0").get_query_results(job)
    assert raised.value.status == 409


def test_a_job_can_be_aborted_then_deleted(sb: Any) -> None:
    client = bulk(sb)
    job = client.create_job("query", "SELECT Id FROM Account")
    assert client.abort_job(job["id"], True)["state"] == "Aborted"
    assert client.get_job(job["id"], True)["state"] == "Aborted"
    with pytest.raises(SalesforceError) as raised:
        client.abort_job(job["id"], True)
    assert raised.value.status == 409
    # simple-salesforce parses JSON from the documented empty 204 answer and so raises.
    with pytest.raises(ValueError, match="Expecting value"):
        client.delete_job(job["id"], True)
    assert job["id"] not in sb.salesforce.bulk_query.jobs


def test_query_all_includes_deleted_records(sb: Any) -> None:
    victim = sorted(sb.salesforce.objects["Account"])[-1]
    sb.salesforce.org.delete("Account", victim)
    client = bulk(sb)
    live = completed(client, "SELECT Id FROM Account")
    every = completed(client, "SELECT Id FROM Account", operation="queryAll")
    live_ids = {r[0] for r in rows(client.get_query_results(live)["records"])[1:]}
    all_ids = {r[0] for r in rows(client.get_query_results(every)["records"])[1:]}
    assert victim not in live_ids
    assert victim in all_ids


def test_every_job_request_counts_against_the_daily_api_total(sb: Any) -> None:
    sb.salesforce.reset_api_usage()
    client = bulk(sb)
    job = completed(client, "SELECT Id FROM Account")
    client.get_query_results(job, "", 1000)
    assert sb.salesforce.api_used == 4  # create, two status reads, one results set


def test_limits_report_the_query_jobs_left_today(sb: Any) -> None:
    sf = Salesforce(
        instance_url=sb.salesforce_url,
        session_id=sb.salesforce_token,
        session=salesforce_session(sb),
        version="60.0",
    )
    before = sf.limits()["DailyBulkV2QueryJobs"]["Remaining"]
    bulk(sb).create_job("query", "SELECT Id FROM Account")
    assert sf.limits()["DailyBulkV2QueryJobs"]["Remaining"] == before - 1


def test_only_the_newest_jobs_are_kept(sb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sb.salesforce.bulk_query, "retained_jobs", 2)
    client = bulk(sb)
    ids = [client.create_job("query", "SELECT Id FROM Account")["id"] for _ in range(3)]
    assert list(sb.salesforce.bulk_query.jobs)[-2:] == ids[1:]
    with pytest.raises(SalesforceError) as raised:
        client.get_job(ids[0], True)
    assert raised.value.status == 404
