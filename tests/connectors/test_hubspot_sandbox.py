# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The HubSpot connector against the sandbox, through hubspot-api-client over loopback."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.connectors.conftest import CANARY_TOKEN, SleepRecorder
from tests.connectors.sandbox_support import TIERS, calls, hubspot
from tests.provisioning import provisioned
from tierwise.connectors.base import AccountUpdate, TaskRequest
from tierwise.connectors.errors import (
    AuthenticationError,
    QuotaExhaustedError,
    RetriableError,
    SchemaError,
)
from tierwise.connectors.ratelimit import SlidingWindowLimiter

try:
    from tierwise.sandbox import FaultRule, Sandbox
except ImportError:  # pragma: no cover - until the sandbox's first slice lands
    pytest.skip("sandbox.Sandbox is not available yet", allow_module_level=True)

BATCH_UPDATE = r"/crm/v3/objects/companies/batch/update"
TASK_CREATE = r"/crm/v3/objects/tasks/batch/create"


@pytest.fixture
def sb() -> Iterator[Any]:
    with provisioned(Sandbox(accounts=250, seed=11, hubspot_token=CANARY_TOKEN)) as box:
        yield box


def test_a_full_pull_pages_at_100(sb: Any) -> None:
    sb.reset_calls()
    accounts = list(hubspot(sb).pull_accounts(None))
    assert 250 == len(accounts)
    assert 250 == len({a.crm_id for a in accounts})
    assert math.ceil(250 / 100) == len(calls(sb, "hubspot", "GET", "/crm/v3/objects/companies"))
    assert all(a.domain == a.domain.lower() for a in accounts if a.domain)


def test_malformed_values_become_missing_with_the_record_reported(sb: Any) -> None:
    accounts = list(hubspot(sb).pull_accounts(None))
    invalid = [a for a in accounts if a.invalid]
    assert invalid, "the seed holds malformed revenue such as 'n/a' and '1.2M'"
    for account in invalid:
        for name in account.invalid:
            if name in account.fields:
                assert None is account.fields[name]


def test_an_incremental_pull_searches_from_the_watermark_inclusive(sb: Any) -> None:
    hs = hubspot(sb)
    full = list(hs.pull_accounts(None))
    watermark = max(a.modified_at for a in full if a.modified_at)
    on_boundary = {a.crm_id for a in full if a.modified_at == watermark}
    changed = [a.crm_id for a in full[:3]]
    hs.write_accounts([AccountUpdate(i, {"reason": "incremental"}) for i in changed])
    sb.reset_calls()

    later = list(hs.pull_accounts(watermark))

    assert set(changed) | on_boundary == {a.crm_id for a in later}
    assert 1 == len(calls(sb, "hubspot", "POST", "/search"))


def test_writes_are_change_only_in_batches_of_100(sb: Any) -> None:
    hs = hubspot(sb)
    ids = [a.crm_id for a in hs.pull_accounts(None)]
    sb.reset_calls()
    outcome = hs.write_accounts(
        [
            AccountUpdate(i, {"tier": "tier_4", "score": 12.5, "sla_due": date(2026, 12, 1)})
            for i in ids
        ]
    )
    assert 250 == len(outcome.written)
    assert [] == outcome.failed
    assert 3 == len(calls(sb, "hubspot", "POST", BATCH_UPDATE))
    props = sb.hubspot.objects["companies"][ids[-1]]["properties"]
    assert ("tier_4", "2026-12-01") == (props["tierwise_tier"], props["tierwise_sla_due"])
    sb.reset_calls()
    assert [] == hs.write_accounts([AccountUpdate(i, {}) for i in ids]).written
    assert [] == list(sb.calls)


def test_a_207_partial_batch_reports_the_failed_inputs_and_keeps_the_rest(sb: Any) -> None:
    hs = hubspot(sb)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:10]
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=BATCH_UPDATE,
            kind="record_error",
            records=[ids[2], ids[5]],
        )
    )
    outcome = hs.write_accounts([AccountUpdate(i, {"play": "ABM"}) for i in ids])
    assert sorted([ids[2], ids[5]]) == sorted(f.crm_id for f in outcome.failed)
    assert sorted(set(ids) - {ids[2], ids[5]}) == sorted(outcome.written)
    assert "ABM" == sb.hubspot.objects["companies"][ids[0]]["properties"]["tierwise_play"]


def test_a_ten_secondly_429_waits_at_least_retry_after(sb: Any, sleeps: SleepRecorder) -> None:
    hs = hubspot(sb)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:5]
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=BATCH_UPDATE,
            kind="http_429",
            nth=1,
            retry_after="7",
        )
    )
    outcome = hs.write_accounts([AccountUpdate(i, {"play": "x"}) for i in ids])
    assert 5 == len(outcome.written)
    assert 1 == len(sleeps.delays)
    assert sleeps.delays[0] >= 7


def test_a_429_without_retry_after_falls_back_to_the_10_second_window(
    sb: Any, sleeps: SleepRecorder
) -> None:
    hs = hubspot(sb)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:5]
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=BATCH_UPDATE,
            kind="http_429",
            nth=1,
            retry_after=None,
        )
    )
    hs.write_accounts([AccountUpdate(i, {"play": "x"}) for i in ids])
    assert sleeps.delays[0] >= 10


def test_429_bursts_are_retried_a_bounded_number_of_times(sb: Any, sleeps: SleepRecorder) -> None:
    hs = hubspot(sb, attempts=3)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:5]
    sb.faults.add(FaultRule(system="hubspot", method="POST", path=BATCH_UPDATE, kind="http_429"))
    with pytest.raises(RetriableError):
        hs.write_accounts([AccountUpdate(i, {"play": "x"}) for i in ids])
    assert 3 == len(calls(sb, "hubspot", "POST", BATCH_UPDATE))
    assert 2 == len(sleeps.delays)


def test_a_daily_limit_429_stops_the_run_as_deferred(sb: Any) -> None:
    sb.faults.add(FaultRule(system="hubspot", kind="daily_limit"))
    with pytest.raises(QuotaExhaustedError, match="daily"):
        list(hubspot(sb).pull_accounts(None))
    assert 1 == len([c for c in sb.calls if c.system == "hubspot"])


@pytest.mark.parametrize(
    "kind", ["http_500", "http_502", "http_503", "http_504", "drop", "commit_then_drop"]
)
def test_server_errors_and_dropped_connections_are_retried(sb: Any, kind: str) -> None:
    hs = hubspot(sb)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:5]
    sb.faults.add(FaultRule(system="hubspot", method="POST", path=BATCH_UPDATE, kind=kind, nth=1))
    outcome = hs.write_accounts([AccountUpdate(i, {"play": kind}) for i in ids])
    assert 5 == len(outcome.written)
    assert 2 == len(calls(sb, "hubspot", "POST", BATCH_UPDATE))


def test_a_server_that_never_answers_trips_the_read_timeout(sb: Any) -> None:
    sb.faults.add(FaultRule(system="hubspot", method="GET", kind="timeout"))
    hs = hubspot(sb, attempts=2, read_timeout=0.3, connect_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(RetriableError):
        hs.check_access()
    assert time.monotonic() - started < 5


def test_a_wrong_token_is_an_authentication_error_that_does_not_echo_it(sb: Any) -> None:
    sb.hubspot_token = "pat-wrong-token-000000000000"
    hs = hubspot(sb)
    with pytest.raises(AuthenticationError) as caught:
        hs.check_access()
    assert "TIERWISE_HUBSPOT__ACCESS_TOKEN" in str(caught.value)
    assert "pat-wrong" not in str(caught.value)
    assert CANARY_TOKEN[:12] not in str(caught.value)


def task(key: str, company: str, owner: str | None) -> TaskRequest:
    return TaskRequest(key, company, owner, f"Play for {key}", date(2026, 12, 4), "high", "b")


def hs_tasks_with_key(sb: Any, key: str) -> list[str]:
    return [
        tid
        for tid, t in sb.hubspot.objects["tasks"].items()
        if t["properties"].get("tierwise_key") == key
    ]


def test_tasks_are_created_exactly_once_across_reruns_and_fresh_connectors(sb: Any) -> None:
    hs = hubspot(sb)
    accounts = list(hs.pull_accounts(None))[:3]
    tasks = [task(f"tw-{a.crm_id}-tier_1", a.crm_id, a.owner_id) for a in accounts]
    first = hs.ensure_tasks(tasks)
    again = hubspot(sb).ensure_tasks(tasks)  # a new process: nothing remembered locally
    assert {t.key for t in tasks} == set(first.created)
    assert first.created == again.existing
    assert {} == again.created
    for t in tasks:
        assert 1 == len(hs_tasks_with_key(sb, t.key))
    for t in tasks:
        (task_id,) = hs_tasks_with_key(sb, t.key)
        assert {t.crm_account_id} == set(
            sb.hubspot.portal.associated("tasks", task_id, "companies")
        )


def test_a_task_create_committed_then_dropped_is_not_duplicated(sb: Any) -> None:
    hs = hubspot(sb)
    account = next(iter(hs.pull_accounts(None)))
    sb.faults.add(
        FaultRule(system="hubspot", method="POST", path=TASK_CREATE, kind="commit_then_drop", nth=1)
    )
    outcome = hs.ensure_tasks([task("tw-drop", account.crm_id, account.owner_id)])
    assert 1 == len(hs_tasks_with_key(sb, "tw-drop"))
    assert {"tw-drop"} == set(outcome.created)
    assert 1 == len(calls(sb, "hubspot", "POST", TASK_CREATE))


def test_open_tasks_are_found_and_closed(sb: Any) -> None:
    hs = hubspot(sb)
    account = next(iter(hs.pull_accounts(None)))
    created = hs.ensure_tasks([task("tw-open", account.crm_id, account.owner_id)]).created
    found = hs.open_tasks(["tw-open", "tw-missing"])
    assert [("tw-open", created["tw-open"], account.crm_id)] == [
        (t.key, t.task_id, t.crm_account_id) for t in found
    ]
    assert [created["tw-open"]] == hs.close_tasks([created["tw-open"]], "left tier").written
    assert [] == hs.open_tasks(["tw-open"])


def test_validate_schema_names_the_missing_property_and_the_fix() -> None:
    with Sandbox(accounts=5, seed=3) as box:
        hs = hubspot(box)
        with pytest.raises(SchemaError) as caught:
            hs.validate_schema()
    assert (
        "HubSpot company property tierwise_tier does not exist; run 'tierwise provision' "
        "to create it"
    ) in str(caught.value)


def test_provision_is_idempotent_and_a_dry_run_creates_nothing() -> None:
    with Sandbox(accounts=5, seed=3) as box:
        hs = hubspot(box)
        dry = hs.provision(TIERS, dry_run=True)
        assert [] == [c for c in box.calls if c.method == "POST"]
        first = hs.provision(TIERS, dry_run=False)
        box.reset_calls()
        second = hs.provision(TIERS, dry_run=False)
        assert [(s.kind, s.name) for s in dry] == [(s.kind, s.name) for s in first]
        assert all(s.exists for s in second)
        assert [] == [c for c in box.calls if c.method == "POST"]
        lists = [s for s in first if s.kind == "list"]
        assert 5 == len(lists)
        hs.validate_schema()
        tier = box.hubspot.portal.properties["companies"]["tierwise_tier"]
        assert {"tier_1", "tier_2", "tier_3", "tier_4", "unqualified"} == {
            o["value"] for o in tier.options
        }


def test_usage_counts_calls_per_endpoint(sb: Any) -> None:
    hs = hubspot(sb)
    list(hs.pull_accounts(None))
    assert {"GET /crm/v3/objects/companies": 3} == hs.usage().calls


@pytest.mark.slow
def test_an_incremental_pull_past_10000_results_restarts_the_search_without_loss() -> None:
    from datetime import timedelta

    with provisioned(Sandbox(accounts=10_450, seed=5)) as box:
        # Real waits for search (the sandbox enforces 5/s): the limiter must keep us under it.
        hs = hubspot(box, search_limiter=SlidingWindowLimiter(4, 1.0, sleep=time.sleep))
        full = list(hs.pull_accounts(None))
        earliest = min(a.modified_at for a in full if a.modified_at)
        box.reset_calls()
        later = list(hs.pull_accounts(earliest - timedelta(seconds=1)))
        searches = calls(box, "hubspot", "POST", "/search")
    assert 10_450 == len(later)
    assert 10_450 == len({a.crm_id for a in later})
    # 50 pages reach the cap; the restart re-reads only the boundary rows.
    assert math.ceil(10_450 / 200) <= len(searches) <= math.ceil(10_450 / 200) + 2
    assert all(c.status == 200 for c in searches)


def test_tier_properties_are_copied_onto_associated_contacts() -> None:
    with provisioned(Sandbox(accounts=20, seed=3)) as box:
        hs = hubspot(box, copy_to_contacts=True)
        hs.provision(TIERS, dry_run=False)
        hs.validate_schema()
        portal = box.hubspot.portal
        company = next(
            cid
            for cid in box.hubspot.objects["companies"]
            if portal.associated("companies", cid, "contacts")
        )
        contacts = list(portal.associated("companies", company, "contacts"))
        outcome = hs.write_accounts([AccountUpdate(company, {"tier": "tier_1", "play": "ABM"})])
        assert [company] == outcome.written
        for contact in contacts:
            props = box.hubspot.objects["contacts"][contact]["properties"]
            assert ("tier_1", "ABM") == (props["tierwise_tier"], props["tierwise_play"])


def test_the_native_icp_tier_is_written_only_for_tiers_hubspot_knows() -> None:
    with provisioned(Sandbox(accounts=5, seed=3)) as box:
        hs = hubspot(box, write_native_icp=True)  # no check_access: options read on demand
        hs.provision(TIERS, dry_run=False)  # the option's own marker property
        first, second = list(box.hubspot.objects["companies"])[:2]
        hs.write_accounts(
            [AccountUpdate(first, {"tier": "tier_2"}), AccountUpdate(second, {"tier": "tier_4"})]
        )
        one = box.hubspot.objects["companies"][first]["properties"]
        two = box.hubspot.objects["companies"][second]["properties"]
    assert {"tier_1", "tier_2", "tier_3"} <= hs.icp_options
    assert ("tier_2", "true") == (one["hs_ideal_customer_profile"], one["hs_is_target_account"])
    assert "tier_4" == two["tierwise_tier"]
    # tierwise never set them on this company: a non-native tier leaves them untouched.
    assert not two.get("hs_ideal_customer_profile")
    assert not two.get("hs_is_target_account")


def test_no_log_event_or_error_carries_the_token(sb: Any) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as events:
        hs = hubspot(sb, attempts=2)
        ids = [a.crm_id for a in hs.pull_accounts(None)][:3]
        sb.faults.add(
            FaultRule(
                system="hubspot",
                method="POST",
                path=BATCH_UPDATE,
                kind="record_error",
                records=[ids[0]],
            )
        )
        sb.faults.add(FaultRule(system="hubspot", method="GET", kind="http_503"))
        hs.write_accounts([AccountUpdate(i, {"play": "x"}) for i in ids])
        with pytest.raises(RetriableError) as caught:
            hs.check_access()
    assert events, "failures are logged"
    text = repr(events) + str(caught.value) + repr(caught.value.__cause__) + repr(hs)
    assert CANARY_TOKEN[:12] not in text


@pytest.mark.slow
def test_the_client_side_limiter_keeps_a_run_under_the_enforced_budget() -> None:
    with provisioned(Sandbox(accounts=1_500, seed=5, hubspot_requests_per_10s=10)) as box:
        hs = hubspot(
            box, requests_per_10s=10, limiter=SlidingWindowLimiter(10, 10.0, sleep=time.sleep)
        )
        accounts = list(hs.pull_accounts(None))
        statuses = [c.status for c in box.calls if c.system == "hubspot"]
    assert 1_500 == len(accounts)
    assert [200] * 15 == statuses


def test_a_list_create_committed_then_dropped_is_not_created_twice() -> None:
    with Sandbox(accounts=5, seed=3) as box:
        hs = hubspot(box)
        box.faults.add(
            FaultRule(
                system="hubspot",
                method="POST",
                path=r"/crm/v3/lists/?$",
                kind="commit_then_drop",
                nth=1,
            )
        )
        hs.provision(TIERS, dry_run=False)
        names = sorted(lst.name for lst in box.hubspot.portal.lists.values())
    assert sorted(f"tierwise: {label}" for label in TIERS.values()) == names


def test_a_transient_207_error_is_retried_for_that_input_only(
    sb: Any, sleeps: SleepRecorder
) -> None:
    hs = hubspot(sb)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:10]
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=BATCH_UPDATE,
            kind="record_error",
            code="RATE_LIMITS",
            records=[ids[4]],
            times=1,
        )
    )
    sb.reset_calls()
    outcome = hs.write_accounts([AccountUpdate(i, {"play": "retry"}) for i in ids])
    assert sorted(ids) == sorted(outcome.written)
    assert [] == outcome.failed
    assert [10, 1] == [c.records for c in calls(sb, "hubspot", "POST", BATCH_UPDATE)]
    assert 1 == len(sleeps.delays)


def test_task_existence_is_checked_by_batch_read_so_search_lag_cannot_duplicate() -> None:
    with provisioned(Sandbox(accounts=5, seed=3, search_lag_seconds=60)) as box:
        account = next(iter(hubspot(box).pull_accounts(None)))
        request = [task("tw-lag", account.crm_id, account.owner_id)]
        first = hubspot(box).ensure_tasks(request)
        second = hubspot(box).ensure_tasks(request)  # fresh process, search still lagging
        assert {"tw-lag"} == set(first.created)
        assert first.created == second.existing
        assert 1 == len(hs_tasks_with_key(box, "tw-lag"))


def test_a_configured_property_that_does_not_exist_is_named_before_any_write(sb: Any) -> None:
    hs = hubspot(sb, fields={"industry": "industry_segment"})
    with pytest.raises(SchemaError) as caught:
        hs.validate_schema()
    assert (
        "HubSpot company property industry_segment (model field 'industry', mapped in "
        "TIERWISE_HUBSPOT__FIELDS) does not exist" in str(caught.value)
    )


def test_the_daily_budget_is_read_from_the_rate_limit_headers() -> None:
    with provisioned(Sandbox(accounts=150, seed=3, hubspot_daily_limit=1000)) as box:
        hs = hubspot(box)
        list(hs.pull_accounts(None))
        usage = hs.usage()
    assert 1000 == usage.daily_max
    assert usage.daily_used is not None
    assert usage.daily_used >= 2


def test_a_rejected_task_is_reported_by_key_and_the_rest_are_created(
    sb: Any, sleeps: SleepRecorder
) -> None:
    hs = hubspot(sb)
    account = next(iter(hs.pull_accounts(None)))
    sb.faults.add(
        FaultRule(
            system="hubspot",
            method="POST",
            path=TASK_CREATE,
            kind="record_error",
            records=["tw-bad"],
        )
    )
    outcome = hs.ensure_tasks(
        [
            task("tw-good", account.crm_id, account.owner_id),
            task("tw-bad", account.crm_id, account.owner_id),
        ]
    )
    assert ["tw-good"] == list(outcome.created)
    assert ["tw-bad"] == [f.crm_id for f in outcome.failed]
    assert "VALIDATION_ERROR" in outcome.failed[0].reason
    assert 1 == len(calls(sb, "hubspot", "POST", TASK_CREATE))
    assert [] == hs_tasks_with_key(sb, "tw-bad")


def test_a_batch_rejected_as_a_whole_is_reported_per_record_and_other_batches_land(
    sb: Any,
) -> None:
    hs = hubspot(sb)
    ids = [a.crm_id for a in hs.pull_accounts(None)][:150]
    sb.faults.add(
        FaultRule(
            system="hubspot", method="POST", path=BATCH_UPDATE, kind="http_500", status=400, nth=1
        )
    )
    outcome = hs.write_accounts([AccountUpdate(i, {"play": "x"}) for i in ids])
    # Two batches are in flight at once (hubspot.write_concurrency): the fault hits the
    # one that reaches the sandbox first, which either batch can be.
    failed = sorted(f.crm_id for f in outcome.failed)
    batches = [sorted(ids[:100]), sorted(ids[100:])]
    assert failed in batches
    assert sorted(set(ids) - set(failed)) == sorted(outcome.written)
