# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""HubSpot bulk paths (exports for pulls, imports for writes) over the real client and sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.connectors.conftest import CANARY_TOKEN, SleepRecorder
from tests.connectors.sandbox_support import calls, hubspot
from tests.provisioning import provisioned
from tierwise.connectors import retry
from tierwise.connectors.base import AccountUpdate, CrmAccount
from tierwise.connectors.hubspot import exports, imports
from tierwise.sandbox import FaultRule, Sandbox
from tierwise.sync.minimum import HS_EXPORT_FIXED, write_minimum

EXPORT = "/crm/v3/exports/export/async"
IMPORT = "/crm/v3/imports"
LIST = "/crm/v3/objects/companies"


@pytest.fixture
def sb() -> Iterator[Any]:
    with provisioned(Sandbox(accounts=250, seed=11, hubspot_token=CANARY_TOKEN)) as box:
        yield box


def by_id(accounts: list[CrmAccount]) -> dict[str, CrmAccount]:
    return {a.crm_id: a for a in accounts}


# ---- exports ------------------------------------------------------------------------------
def test_an_export_pull_equals_the_list_pull_record_for_record(sb: Any) -> None:
    rest = by_id(list(hubspot(sb).pull_accounts(None)))
    sb.reset_calls()
    hs = hubspot(sb, export_threshold=200)
    bulk = by_id(list(hs.pull_accounts(None, expected=250)))
    assert 250 == len(bulk)
    assert rest == bulk
    assert [] == calls(sb, "hubspot", "GET", LIST)
    used = hs.usage().calls
    assert 1 == used[exports.EXPORT_START]
    assert 1 == used[exports.EXPORT_DOWNLOAD]
    assert 2 == used[exports.EXPORT_STATUS]  # PROCESSING once, then COMPLETE
    # Start, two status reads, one download: what the minimum prices an export at with the
    # sandbox's two status reads.
    hs_calls = [c for c in sb.calls if c.system == "hubspot" and "/properties/" not in c.path]
    assert HS_EXPORT_FIXED + 2 + 1 == len(hs_calls)


def test_an_incremental_export_filters_on_the_watermark_like_search(sb: Any) -> None:
    hs = hubspot(sb, export_threshold=1)
    full = list(hubspot(sb).pull_accounts(None))
    watermark = max(a.modified_at for a in full if a.modified_at)
    changed = [a.crm_id for a in full[:3]]
    hs.write_accounts([AccountUpdate(i, {"reason": "incremental"}) for i in changed])
    searched = by_id(list(hubspot(sb).pull_accounts(watermark)))
    exported = by_id(list(hs.pull_accounts(watermark, expected=5)))
    assert set(changed) <= set(exported)
    assert searched == exported


def test_the_export_waits_on_the_sandbox_clock_without_sleeping(
    sb: Any, sleeps: SleepRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb.hubspot.exports.behaviour.export_seconds = 95

    def advance(seconds: float) -> None:
        sleeps(seconds)
        sb.clock.advance(seconds)

    monkeypatch.setattr(retry, "sleep", advance)
    hs = hubspot(sb, export_threshold=1, bulk_poll_seconds=10)
    assert 250 == len(list(hs.pull_accounts(None, expected=250)))
    assert [10.0] * 10 == sleeps.delays  # 95 s of processing: ten 10-second waits
    assert 11 == hs.usage().calls[exports.EXPORT_STATUS]


def test_a_zipped_and_partitioned_export_streams_every_member(sb: Any) -> None:
    sb.hubspot.exports.behaviour.zip_over_bytes = 1_000
    sb.hubspot.exports.behaviour.rows_per_file = 100  # 250 rows -> three CSVs in one zip
    rest = by_id(list(hubspot(sb).pull_accounts(None)))
    bulk = by_id(list(hubspot(sb, export_threshold=1).pull_accounts(None, expected=250)))
    assert rest == bulk
    task = next(iter(sb.hubspot.exports.tasks.values()))
    assert task.file_name.endswith(".zip")


def test_the_threshold_switches_paths(sb: Any) -> None:
    hs = hubspot(sb, export_threshold=200)
    for expected, path in ((199, LIST), (200, EXPORT)):
        sb.reset_calls()
        list(hs.pull_accounts(None, expected=expected))
        assert calls(sb, "hubspot", "GET" if path == LIST else "POST", path)
        assert not calls(
            sb, "hubspot", "POST" if path == LIST else "GET", EXPORT if path == LIST else LIST
        )
    sb.reset_calls()
    list(hubspot(sb).pull_accounts(None, expected=10**6))  # unset threshold: never
    assert not calls(sb, "hubspot", "POST", EXPORT)


def test_an_unknown_size_is_read_off_one_search_total(sb: Any) -> None:
    """A first run's empty store estimates nothing: one one-row search reads the total,
    so 250 companies against a threshold of 200 go by export, against 300 by list pages."""
    search = "/crm/v3/objects/companies/search"
    for threshold, path in ((200, EXPORT), (300, LIST)):
        sb.reset_calls()
        assert 250 == len(list(hubspot(sb, export_threshold=threshold).pull_accounts(None)))
        assert 1 == len(calls(sb, "hubspot", "POST", search))
        assert calls(sb, "hubspot", "POST" if path == EXPORT else "GET", path)
    sb.reset_calls()
    list(hubspot(sb).pull_accounts(None))  # threshold unset: no probe, list pages
    assert not calls(sb, "hubspot", "POST", search)


def test_a_low_estimate_goes_by_export_when_the_first_search_page_states_a_large_total(
    sb: Any,
) -> None:
    """An integration touched every company since the last run: the estimate is low, and
    the first search page's ``total`` (the exact size, with the page) reaching the
    threshold sends the pull to an export for that one search call; below it the search
    reads on, not a page more than its minimum."""
    search = "/crm/v3/objects/companies/search"
    since = datetime(2000, 1, 1, tzinfo=UTC)  # every company was modified since
    for threshold, searches, exported in ((250, 1, True), (251, 2, False)):
        sb.reset_calls()
        hs = hubspot(sb, export_threshold=threshold)
        assert 250 == len(by_id(list(hs.pull_accounts(since, expected=5))))
        assert searches == len(calls(sb, "hubspot", "POST", search))
        assert exported == bool(calls(sb, "hubspot", "POST", EXPORT))


def test_an_expired_download_url_is_refused(sb: Any) -> None:
    import urllib3

    list(hubspot(sb, export_threshold=1).pull_accounts(None, expected=250))
    task = next(iter(sb.hubspot.exports.tasks.values()))
    url = f"{sb.hubspot_url}/sandbox-files/exports/{task.token}/{task.file_name}"
    assert 200 == urllib3.request("GET", url).status
    sb.clock.advance(301)
    assert 403 == urllib3.request("GET", url).status


def test_exports_count_against_the_ten_second_window(sb: Any) -> None:
    sb.hubspot.requests_per_10s = 2
    sb.hubspot._window.clear()
    with pytest.raises(Exception, match="ten_secondly"):
        list(hubspot(sb, export_threshold=1, attempts=1).pull_accounts(None, expected=250))
    assert 429 in {c.status for c in calls(sb, "hubspot", "GET", EXPORT)}


# ---- imports ------------------------------------------------------------------------------
def updates(ids: list[str]) -> list[AccountUpdate]:
    tiers = ["tier_1", "tier_2", "tier_3", "tier_4"]
    return [
        AccountUpdate(
            i,
            {"tier": tiers[n % 4], "score": 40.5 + n, "reason": f"r{n}"}
            if n % 3
            else {"play": "ABM", "sla_due": date(2026, 12, 1)},
        )
        for n, i in enumerate(ids)
    ]


def tierwise_props(box: Any) -> dict[str, dict[str, Any]]:
    return {
        oid: {k: v for k, v in obj["properties"].items() if k.startswith("tierwise_")}
        for oid, obj in box.hubspot.objects["companies"].items()
    }


def test_import_writes_equal_batch_writes(sb: Any) -> None:
    with provisioned(Sandbox(accounts=250, seed=11, hubspot_token=CANARY_TOKEN)) as other:
        ids = [a.crm_id for a in hubspot(sb).pull_accounts(None)]
        assert ids == [a.crm_id for a in hubspot(other).pull_accounts(None)]
        batch = hubspot(sb).write_accounts(updates(ids))
        hs = hubspot(other, import_threshold=100)
        bulk = hs.write_accounts(updates(ids))
        assert sorted(batch.written) == sorted(bulk.written)
        assert [] == bulk.failed
        assert tierwise_props(sb) == tierwise_props(other)
        assert not calls(other, "hubspot", "POST", "/batch/update")
        used = hs.usage().calls
        assert 2 == used[imports.IMPORT_CREATE]  # two property sets -> two files
        assert hs.write_chunk_size(250) == 250


def test_a_failing_row_is_reported_and_the_rest_written(sb: Any) -> None:
    hs = hubspot(sb, import_threshold=1)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:20]
    sb.faults.add(
        FaultRule(
            system="hubspot", method="POST", path=IMPORT, kind="record_error", records=[ids[4]]
        )
    )
    rows = [AccountUpdate(i, {"tier": "tier_2"}) for i in ids]
    rows[7] = AccountUpdate(ids[7], {"tier": "no_such_tier"})
    rows.append(AccountUpdate("99999999999", {"tier": "tier_2"}))
    outcome = hs.write_accounts(rows)
    reasons = {f.crm_id: f.reason for f in outcome.failed}
    assert {ids[4], ids[7], "99999999999"} == set(reasons)
    assert reasons[ids[4]].startswith("FAILED_VALIDATION")
    assert reasons[ids[7]].startswith("INVALID_ENUMERATION_OPTION")
    assert reasons["99999999999"].startswith("INVALID_OBJECT_ID")
    assert 18 == len(outcome.written)
    assert "tier_2" == sb.hubspot.objects["companies"][ids[0]]["properties"]["tierwise_tier"]


def test_a_lost_answer_or_a_rerun_does_not_import_twice(sb: Any) -> None:
    ids = [a.crm_id for a in hubspot(sb).pull_accounts(None)][:30]
    sb.faults.add(
        FaultRule(system="hubspot", method="POST", path=IMPORT, kind="commit_then_drop", nth=1)
    )
    first = hubspot(sb, import_threshold=1).write_accounts(updates(ids)[1::3])
    assert 10 == len(first.written)
    assert 1 == len(sb.hubspot.imports.jobs)
    # A crash after the import was sent: the next process sends the same set again; no
    # list read before a create, so it is a second import setting the same values.
    before = tierwise_props(sb)
    again = hubspot(sb, import_threshold=1).write_accounts(updates(ids)[1::3])
    assert sorted(first.written) == sorted(again.written)
    assert 2 == len(sb.hubspot.imports.jobs)
    assert before == tierwise_props(sb)


def test_an_import_costs_its_create_the_status_reads_and_one_errors_page(sb: Any) -> None:
    hs = hubspot(sb, import_threshold=1)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:40]
    sb.reset_calls()
    outcome = hs.write_accounts([AccountUpdate(i, {"tier": "tier_3"}) for i in ids])
    assert 40 == len(outcome.written)
    sent = [(c.method, c.path) for c in sb.calls if c.path.startswith(IMPORT)]
    # The sandbox answers the first status read STARTED/PROCESSING (import_poll_steps=1).
    assert [
        ("POST", IMPORT),
        ("GET", IMPORT + "/{importId}"),
        ("GET", IMPORT + "/{importId}"),
        ("GET", IMPORT + "/{importId}/errors"),
    ] == sent
    assert write_minimum("hubspot", 301, status_reads=2).calls == len(sent)


def test_clears_go_by_batch_and_leave_nothing_behind(sb: Any) -> None:
    hs = hubspot(sb, import_threshold=1)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:10]
    hs.write_accounts([AccountUpdate(i, {"reason": "set"}) for i in ids])
    sb.reset_calls()
    outcome = hs.write_accounts([AccountUpdate(i, {"reason": None}) for i in ids[:3]])
    assert 3 == len(outcome.written)
    assert 1 == len(calls(sb, "hubspot", "POST", "/batch/update"))
    assert not calls(sb, "hubspot", "POST", IMPORT)
    assert sb.hubspot.objects["companies"][ids[0]]["properties"]["tierwise_reason"] in ("", None)


def test_the_import_waits_on_the_sandbox_clock(
    sb: Any, sleeps: SleepRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb.hubspot.imports.behaviour.import_seconds = 30

    def advance(seconds: float) -> None:
        sleeps(seconds)
        sb.clock.advance(seconds)

    monkeypatch.setattr(retry, "sleep", advance)
    hs = hubspot(sb, import_threshold=1, bulk_poll_seconds=10)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:5]
    assert 5 == len(hs.write_accounts([AccountUpdate(i, {"play": "x"}) for i in ids]).written)
    assert [10.0] * 3 == sleeps.delays


def test_the_documented_daily_and_file_limits_are_enforced(sb: Any) -> None:
    from tierwise.connectors.errors import CrmError

    sb.hubspot.exports.behaviour.exports_per_day = 1
    hs = hubspot(sb, export_threshold=1, import_threshold=1, attempts=1)
    list(hs.pull_accounts(None, expected=250))
    # The 30-a-day budget spent (here 1): the pull falls back to list pages.
    assert 250 == len(list(hs.pull_accounts(None, expected=250)))
    assert [202, 429] == [c.status for c in calls(sb, "hubspot", "POST", EXPORT)]
    assert 3 == len(calls(sb, "hubspot", "GET", LIST))
    sb.clock.advance(24 * 3600 + 1)  # the window rolls on
    assert 250 == len(list(hs.pull_accounts(None, expected=250)))
    sb.hubspot.imports.behaviour.max_rows_per_file = 5
    ids = list(sb.hubspot.objects["companies"])[:6]
    with pytest.raises(CrmError):
        hs.write_accounts([AccountUpdate(i, {"play": "x"}) for i in ids])
    assert [429] == [c.status for c in calls(sb, "hubspot", "POST", IMPORT)]
    assert "/sandbox-files/exports/{token}/{file}" in {c.path for c in sb.calls}
