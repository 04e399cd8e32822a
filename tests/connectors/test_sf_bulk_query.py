"""Account pulls through Bulk API 2.0 query jobs, against the sandbox over the real client.

The same org is pulled both ways and compared record for record: the bulk path must give
exactly the ``CrmAccount`` values the REST path (with its Opportunity subquery and grouped
activity queries) gives.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.connectors.conftest import SleepRecorder
from tests.connectors.sandbox_support import MODEL_FIELDS, calls
from tests.provisioning import provisioned
from tierwise.config.settings import SalesforceSettings
from tierwise.connectors.base import CrmAccount
from tierwise.connectors.errors import FatalCrmError
from tierwise.connectors.retry import RetryPolicy
from tierwise.connectors.salesforce import SalesforceConnector, bulk_jobs, bulk_query
from tierwise.connectors.salesforce.fields import ACTIVITY_FIELD
from tierwise.sandbox import Sandbox
from tierwise.tiering.model import STAGE_INPUT, PipelineStage

TODAY = date(2026, 11, 1)
ACCOUNTS = 1_300
# open_deals and the activity aggregate too: every input the REST path derives.
FIELDS = {**MODEL_FIELDS, "open_deals": "number", ACTIVITY_FIELD: "number", STAGE_INPUT: "number"}
BULK = ("bulk2 query", "bulk2 query status", "bulk2 query results")


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with provisioned(
        Sandbox(accounts=ACCOUNTS, seed=11, today=TODAY, activity_history=True)
    ) as box:
        yield box


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(bulk_query, "PAGE_ROWS", 500)
    return 500


def connector(sb: Any, *, stage: bool = False, **kw: Any) -> SalesforceConnector:
    from pydantic import SecretStr

    from tests.connectors.sandbox_support import OPENED

    settings = SalesforceSettings(
        instance_url=sb.salesforce_url,
        access_token=SecretStr(sb.salesforce_token),
        ca_bundle=sb.ca_file,
        activity_aggregate_days=kw.pop("activity_aggregate_days", 90),
        **kw,
    )
    made = SalesforceConnector(
        settings,
        FIELDS,
        retry_policy=RetryPolicy(max_attempts=3),
        # open_deals_at_stage too (one OpportunityStage query per pull) when asked.
        pipeline_stage=PipelineStage(probability=40) if stage else None,
    )
    OPENED.append(made)
    return made


def by_id(accounts: list[CrmAccount]) -> dict[str, CrmAccount]:
    out = {a.crm_id: a for a in accounts}
    assert len(out) == len(accounts), "an account came twice"
    return out


def test_a_full_bulk_pull_equals_the_rest_pull_record_for_record(sb: Any, small_pages: int) -> None:
    rest = by_id(list(connector(sb, stage=True).pull_accounts(None, expected=10)))
    sb.reset_calls()
    sf = connector(sb, stage=True, bulk_query_threshold=1_000)
    bulk = by_id(list(sf.pull_accounts(None, expected=ACCOUNTS)))

    assert len(rest) == ACCOUNTS
    assert rest == bulk
    # The comparison has teeth: derived inputs are present and not all zero.
    assert any(a.fields.get("open_pipeline") for a in bulk.values())
    assert any(a.fields.get("open_deals") for a in bulk.values())
    assert any(a.fields.get(ACTIVITY_FIELD) for a in bulk.values())
    at_stage = [a.fields.get(STAGE_INPUT) for a in bulk.values()]
    assert any(at_stage)
    assert any(a.fields.get(STAGE_INPUT) != a.fields.get("open_deals") for a in bulk.values())
    assert calls(sb, "salesforce", "GET", "/query?") == []
    # Account, Opportunity, Task and Event jobs.
    assert sf.usage().calls["bulk2 query"] == 4


def test_an_incremental_bulk_pull_equals_the_rest_pull_and_reads_only_the_edited_accounts(
    sb: Any,
) -> None:
    sb.clock.advance(3600)
    since = sb.clock.peek()
    sb.clock.advance(60)
    edited = sorted(sb.salesforce.objects["Account"])[:7]
    for record_id in edited:
        sb.salesforce.edit("Account", record_id, {"NumberOfEmployees": 4321})
    # An Opportunity change on an account nobody edited moves only the Opportunity.
    untouched = sorted(sb.salesforce.objects["Account"])[-1]
    for opp_id, opp in sb.salesforce.objects["Opportunity"].items():
        if opp["AccountId"] == untouched and not opp["IsClosed"]:
            sb.salesforce.edit("Opportunity", opp_id, {"Amount": 1.0})
            break

    rest = by_id(list(connector(sb, stage=True).pull_accounts(since, expected=7)))
    bulk_sf = connector(sb, stage=True, bulk_query_threshold=1)
    bulk = by_id(list(bulk_sf.pull_accounts(since, expected=7)))

    assert sorted(edited) == sorted(rest)
    assert rest == bulk


def test_no_estimate_reads_the_first_rest_page_and_keeps_it_when_the_result_is_small(
    sb: Any,
) -> None:
    sf = connector(sb, bulk_query_threshold=ACCOUNTS)
    pulled = list(sf.pull_accounts(None))

    assert len(pulled) == ACCOUNTS
    usage = sf.usage().calls
    assert not any(label in usage for label in BULK)
    # Exactly the REST minimum: no page is read twice.
    assert math.ceil(ACCOUNTS / 2000) == usage["query"] - 2 * math.ceil(ACCOUNTS / 200)


def test_no_estimate_switches_to_bulk_when_the_first_page_says_the_result_is_large(
    sb: Any,
) -> None:
    sf = connector(sb, bulk_query_threshold=ACCOUNTS - 1, activity_aggregate_days=None)
    pulled = list(sf.pull_accounts(None))

    assert len(pulled) == ACCOUNTS
    usage = sf.usage().calls
    assert usage["query"] == 1  # the one page that told the size
    assert usage["bulk2 query"] == 2  # accounts and open Opportunities


def test_a_low_estimate_goes_bulk_when_the_first_page_states_a_large_result(sb: Any) -> None:
    """A data load or an enrichment tool touched every account since the last run: the
    estimate (tierwise's own writes, the outside edits it knew of) is low, and the first
    REST page's ``totalSize`` (the exact size) sends the pull to Bulk 2.0 for one call."""
    since = datetime(2000, 1, 1, tzinfo=UTC)  # every account was modified since
    sf = connector(sb, bulk_query_threshold=ACCOUNTS - 1, activity_aggregate_days=None)
    assert len(by_id(list(sf.pull_accounts(since, expected=5)))) == ACCOUNTS
    usage = sf.usage().calls
    assert usage["query"] == 1  # the one page that told the size
    assert usage["bulk2 query"] == 2  # accounts and open Opportunities
    # A first page that agrees with the estimate is read on: REST costs nothing extra.
    sf = connector(sb, bulk_query_threshold=ACCOUNTS, activity_aggregate_days=None)
    assert len(by_id(list(sf.pull_accounts(since, expected=5)))) == ACCOUNTS
    usage = sf.usage().calls
    assert "bulk2 query" not in usage
    assert math.ceil(ACCOUNTS / 2000) == usage["query"]


def test_an_estimate_at_the_threshold_stays_on_rest(sb: Any) -> None:
    sf = connector(sb, bulk_query_threshold=ACCOUNTS, activity_aggregate_days=None)
    list(sf.pull_accounts(None, expected=ACCOUNTS))
    assert "bulk2 query" not in sf.usage().calls
    list(sf.pull_accounts(None, expected=ACCOUNTS + 1))
    assert sf.usage().calls["bulk2 query"] == 2


def test_every_bulk_request_is_counted_and_the_polls_wait_without_sleeping(
    sb: Any, sleeps: SleepRecorder, small_pages: int
) -> None:
    sb.reset_calls()
    sb.salesforce.reset_api_usage()
    sf = connector(sb, bulk_query_threshold=1, activity_aggregate_days=None)
    list(sf.pull_accounts(None, expected=ACCOUNTS))

    usage = sf.usage().calls
    open_opps = sum(1 for o in sb.salesforce.objects["Opportunity"].values() if not o["IsClosed"])
    # Two jobs; each is read as InProgress once (the sandbox's poll_steps=1), then complete.
    assert {
        "bulk2 query": 2,
        "bulk2 query status": 4,
        "bulk2 query results": math.ceil(ACCOUNTS / small_pages)
        + math.ceil(open_opps / small_pages),
    } == {label: usage[label] for label in BULK}
    assert sum(usage.values()) == sb.salesforce.api_used  # plus the one Account describe
    sent = [c for c in sb.calls if c.system == "salesforce" and "/jobs/query" in c.path]
    assert sum(usage[label] for label in BULK) == len(sent)
    assert sleeps.delays == [1.0, 1.0]  # one wait per job, recorded, never slept
    # The bulk path's minimum: per job a create, the status reads until complete (the
    # sandbox answers InProgress once: two), the result pages.
    minimum = bulk_query.minimum_calls(
        ACCOUNTS, page_rows=small_pages, status_reads=2
    ) + bulk_query.minimum_calls(open_opps, page_rows=small_pages, status_reads=2)
    assert minimum == sum(usage[label] for label in BULK)


def test_accounts_stream_as_result_pages_arrive(sb: Any, small_pages: int) -> None:
    sf = connector(sb, bulk_query_threshold=1, activity_aggregate_days=None)
    pulled = sf.pull_accounts(None, expected=ACCOUNTS)
    next(pulled)
    opp_pages = sf.usage().calls["bulk2 query results"]
    for _ in range(small_pages - 1):
        next(pulled)
    assert opp_pages == sf.usage().calls["bulk2 query results"]
    next(pulled)
    assert opp_pages + 1 == sf.usage().calls["bulk2 query results"]


def test_a_failed_job_raises_a_fatal_error_naming_the_job_and_its_message(sb: Any) -> None:
    sb.salesforce.bulk_query.fail_next = "InvalidBatch : Failed to process query: QUERY_TIMEOUT"
    sf = connector(sb, bulk_query_threshold=1, activity_aggregate_days=None)

    with pytest.raises(FatalCrmError) as raised:
        list(sf.pull_accounts(None, expected=ACCOUNTS))

    message = str(raised.value)
    assert "QUERY_TIMEOUT" in message
    assert "750Qy" in message
    assert "Failed" in message
    assert raised.value.object_name == "Account"


def test_a_job_still_running_after_the_wait_budget_is_aborted(
    sb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_jobs, "WAIT_BUDGET", 1.0)
    monkeypatch.setattr(sb.salesforce.bulk_query, "poll_steps", 10)
    sf = connector(sb, bulk_query_threshold=1, activity_aggregate_days=None)

    with pytest.raises(FatalCrmError, match="aborted"):
        list(sf.pull_accounts(None, expected=ACCOUNTS))
    assert sf.usage().calls["bulk2 query abort"] == 1
    assert "Aborted" in {j.state for j in sb.salesforce.bulk_query.jobs.values()}


def test_the_bulk_statements_have_no_order_by_and_filter_children_by_their_account(
    sb: Any,
) -> None:
    accounts = connector(sb)._accounts
    since = sb.clock.peek().replace(microsecond=0) - timedelta(days=1)
    assert " ORDER BY " not in accounts.soql(since, bulk=True)
    assert " ORDER BY " in accounts.soql(since)
    stamp = f"Account.SystemModstamp >= {since.isoformat()}"
    side = dict(accounts._side_soql(since.replace(tzinfo=None)))  # naive reads as UTC
    assert {"Opportunity", "Task", "Event"} == set(side)
    assert all(text.endswith(stamp) for text in side.values())
    assert not any("Account." in text for _, text in accounts._side_soql(None))


def test_a_failed_results_page_is_retried_alone_by_its_stable_locator(
    sb: Any, small_pages: int
) -> None:
    from tierwise.sandbox import FaultRule

    first = connector(sb, bulk_query_threshold=1)
    clean = by_id(list(first.pull_accounts(None, expected=ACCOUNTS)))
    sb.reset_calls()
    sb.faults.add(
        FaultRule(
            system="salesforce",
            method="GET",
            path=r"/jobs/query/\w+/results",
            kind="http_503",
            nth=2,
        )
    )
    sf = connector(sb, bulk_query_threshold=1)
    again = by_id(list(sf.pull_accounts(None, expected=ACCOUNTS)))

    assert clean == again
    assert [c.status for c in sb.calls if "/results" in c.path and c.status != 200] == [503]
    # The same pages as the clean pull plus the one page asked again; no job re-run.
    pages = first.usage().calls["bulk2 query results"]
    assert pages + 1 == sf.usage().calls["bulk2 query results"]
    assert sf.usage().calls["bulk2 query"] == 4


def test_the_engine_polls_with_growing_waits_and_returns_unfinished_at_the_budget(
    sleeps: SleepRecorder,
) -> None:
    reads = iter(["InProgress"] * 20)
    policy = RetryPolicy()
    last = policy.poll(
        lambda: next(reads), lambda s: s != "InProgress", first_wait=1.0, max_wait=3.0, budget=8
    )
    assert last == "InProgress"
    assert sleeps.delays == [1.0, 1.5, 2.25, 3.0, 3.0]  # 6th read, 10.75 s waited: over budget

    done = iter(["InProgress", "JobComplete"])
    assert policy.poll(lambda: next(done), lambda s: s == "JobComplete") == "JobComplete"
