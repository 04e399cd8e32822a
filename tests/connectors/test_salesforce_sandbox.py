# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The Salesforce connector against the sandbox, through simple-salesforce over TLS loopback."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.connectors.conftest import SleepRecorder
from tests.connectors.sandbox_support import (
    TIERS,
    calls,
    salesforce,
    salesforce_login,
)
from tests.provisioning import provisioned
from tierwise.connectors.base import AccountUpdate, TaskRequest
from tierwise.connectors.errors import (
    AuthenticationError,
    ConfigurationError,
    FatalCrmError,
    QuotaExhaustedError,
    RetriableError,
    SchemaError,
)

try:
    from tierwise.sandbox import FaultRule, Sandbox
except ImportError:  # pragma: no cover - until the sandbox's first slice lands
    pytest.skip("sandbox.Sandbox is not available yet", allow_module_level=True)


@pytest.fixture(scope="module")
def big() -> Iterator[Any]:
    with provisioned(Sandbox(accounts=4500, seed=7)) as sb:
        yield sb


@pytest.fixture
def sb() -> Iterator[Any]:
    with provisioned(Sandbox(accounts=250, seed=11)) as box:
        yield box


def test_a_full_pull_streams_every_account_in_pages_of_2000(big: Any) -> None:
    big.reset_calls()
    accounts = list(salesforce(big).pull_accounts(None))
    assert 4500 == len(accounts)
    assert 4500 == len({a.crm_id for a in accounts})
    assert math.ceil(4500 / 2000) == len(calls(big, "salesforce", "GET", "/query"))
    assert all(
        a.domain and "/" not in a.domain and not a.domain.startswith("www.")
        for a in accounts
        if a.domain
    )


def test_odd_values_are_pulled_unharmed_and_range_checks_are_left_to_the_model(big: Any) -> None:
    accounts = list(salesforce(big).pull_accounts(None))
    negative = [
        a
        for a in accounts
        if isinstance(a.fields["employees"], float) and a.fields["employees"] < 0
    ]
    odd_names = [
        a.name
        for a in accounts
        if a.name and ("\n" in a.name or "\\" in a.name or "'" in a.name or '"' in a.name)
    ]
    assert negative, "the seed holds negative headcounts; they parse as numbers"
    assert all("employees" not in a.invalid for a in negative)
    assert odd_names, "names with quotes, backslashes and newlines come through as written"


def test_an_incremental_pull_starts_inclusive_at_the_watermark(sb: Any) -> None:
    sf = salesforce(sb)
    full = list(sf.pull_accounts(None))
    watermark = max(a.modified_at for a in full if a.modified_at)
    on_boundary = {a.crm_id for a in full if a.modified_at == watermark}
    changed = [a.crm_id for a in full[:3]]
    sf.write_accounts([AccountUpdate(i, {"reason": "incremental test"}) for i in changed])

    later = list(sf.pull_accounts(watermark))

    ids = {a.crm_id for a in later}
    assert set(changed) | on_boundary == ids
    assert all(a.modified_at is not None and a.modified_at >= watermark for a in later)
    assert all("incremental test" == a.written.reason for a in later if a.crm_id in changed)


def test_writes_are_change_only_in_collections_of_200(sb: Any) -> None:
    sf = salesforce(sb)
    ids = [a.crm_id for a in sf.pull_accounts(None)]
    sb.reset_calls()
    updates = [
        AccountUpdate(i, {"tier": "tier_2", "score": 55.5, "sla_due": date(2026, 12, 1)})
        for i in ids
    ]
    updates += [AccountUpdate(ids[0], {})] * 5

    outcome = sf.write_accounts(updates)

    assert 250 == len(outcome.written)
    assert [] == outcome.failed
    assert 2 == len(calls(sb, "salesforce", "PATCH", "composite/sobjects"))
    stored = sb.salesforce.objects["Account"][ids[-1]]
    assert ("tier_2", 55.5) == (stored["Tierwise_Tier__c"], stored["Tierwise_Score__c"])
    sb.reset_calls()
    assert [] == sf.write_accounts([AccountUpdate(i, {}) for i in ids]).written
    assert [] == list(sb.calls)


def test_a_per_record_failure_is_reported_and_the_rest_of_the_batch_is_written(sb: Any) -> None:
    sf = salesforce(sb)
    ids = [a.crm_id for a in sf.pull_accounts(None)][:10]
    sb.faults.add(
        FaultRule(
            system="salesforce",
            method="PATCH",
            path=r"composite/sobjects$",
            kind="record_error",
            code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
            records=[ids[3]],
        )
    )
    outcome = sf.write_accounts([AccountUpdate(i, {"play": "QBR"}) for i in ids])
    assert [ids[3]] == [f.crm_id for f in outcome.failed]
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in outcome.failed[0].reason
    assert sorted(set(ids) - {ids[3]}) == sorted(outcome.written)
    assert "QBR" == sb.salesforce.objects["Account"][ids[0]]["Tierwise_Play__c"]


def test_a_locked_row_is_retried_alone_with_jitter(sb: Any, sleeps: SleepRecorder) -> None:
    sf = salesforce(sb)
    ids = [a.crm_id for a in sf.pull_accounts(None)][:10]
    sb.faults.add(
        FaultRule(
            system="salesforce",
            method="PATCH",
            path=r"composite/sobjects$",
            kind="record_error",
            code="UNABLE_TO_LOCK_ROW",
            records=[ids[0]],
            times=1,
        )
    )
    sb.reset_calls()
    outcome = sf.write_accounts([AccountUpdate(i, {"play": "Nurture"}) for i in ids])
    assert sorted(ids) == sorted(outcome.written)
    batches = calls(sb, "salesforce", "PATCH", "composite/sobjects")
    assert [10, 1] == [c.records for c in batches]
    assert 1 == len(sleeps.delays)


def task(key: str, account: str, owner: str | None) -> TaskRequest:
    return TaskRequest(
        key, account, owner, f"Tier 1 play for {key}", date(2026, 12, 4), "high", "Book the QBR"
    )


def test_tasks_are_created_exactly_once_across_reruns(sb: Any) -> None:
    sf = salesforce(sb)
    accounts = list(sf.pull_accounts(None))[:3]
    tasks = [task(f"tw-{a.crm_id}-tier_1-1", a.crm_id, a.owner_id) for a in accounts]

    first = sf.ensure_tasks(tasks)
    second = sf.ensure_tasks(tasks)

    assert {t.key for t in tasks} == set(first.created)
    assert first.created == second.existing
    assert {} == second.created
    keys = [t.get("Tierwise_Key__c") for t in sb.salesforce.objects["Task"].values()]
    assert sorted(t.key for t in tasks) == sorted(k for k in keys if k)


def test_a_task_upsert_committed_then_dropped_is_not_duplicated_by_the_retry(sb: Any) -> None:
    sf = salesforce(sb)
    account = next(iter(sf.pull_accounts(None)))
    sb.faults.add(
        FaultRule(
            system="salesforce",
            method="PATCH",
            path=r"composite/sobjects/Task/Tierwise_Key__c",
            kind="commit_then_drop",
            nth=1,
        )
    )
    outcome = sf.ensure_tasks([task("tw-drop-1", account.crm_id, account.owner_id)])
    keys = [t.get("Tierwise_Key__c") for t in sb.salesforce.objects["Task"].values()]
    assert 1 == keys.count("tw-drop-1")
    assert {"tw-drop-1"} == set(outcome.created) | set(outcome.existing)
    assert [] == outcome.failed


def test_open_tasks_are_found_by_key_and_closed_as_superseded(sb: Any) -> None:
    sf = salesforce(sb)
    account = next(iter(sf.pull_accounts(None)))
    created = sf.ensure_tasks([task("tw-open-1", account.crm_id, account.owner_id)]).created
    open_tasks = sf.open_tasks(["tw-open-1", "tw-never"])
    assert [("tw-open-1", created["tw-open-1"], account.crm_id)] == [
        (t.key, t.task_id, t.crm_account_id) for t in open_tasks
    ]
    closed = sf.close_tasks([created["tw-open-1"]], "left tier_1")
    assert [created["tw-open-1"]] == closed.written
    assert [] == sf.open_tasks(["tw-open-1"])


def test_an_expired_session_is_reauthenticated_once_and_replayed(sb: Any) -> None:
    login = salesforce_login(sb)
    sf = salesforce(sb, login=login)
    sb.faults.add(FaultRule(system="salesforce", path=r"/limits", kind="invalid_session", nth=1))
    sf.check_access()
    assert 2 == len(login.calls)  # the first login, then one re-authentication
    assert 2 == len(calls(sb, "salesforce", "GET", "/limits"))


def test_a_session_that_stays_invalid_fails_cleanly(sb: Any) -> None:
    login = salesforce_login(sb)
    sf = salesforce(sb, login=login)
    sb.faults.add(FaultRule(system="salesforce", path=r"/limits", kind="invalid_session"))
    with pytest.raises(AuthenticationError):
        sf.check_access()
    assert 2 == len(calls(sb, "salesforce", "GET", "/limits"))


def test_an_expired_bare_token_raises_authentication_error_without_the_token(sb: Any) -> None:
    sb.faults.add(FaultRule(system="salesforce", path=r"/limits", kind="invalid_session"))
    with pytest.raises(AuthenticationError) as caught:
        salesforce(sb).check_access()
    assert "TIERWISE_SALESFORCE__ACCESS_TOKEN" in str(caught.value)
    assert sb.salesforce_token not in str(caught.value)
    assert 1 == len(calls(sb, "salesforce", "GET", "/limits"))


def test_request_limit_exceeded_stops_the_run_without_a_relogin_loop(sb: Any) -> None:
    login = salesforce_login(sb)
    sf = salesforce(sb, login=login)
    sb.faults.add(FaultRule(system="salesforce", kind="request_limit"))
    with pytest.raises(QuotaExhaustedError):
        list(sf.pull_accounts(None))
    assert 1 == len(login.calls)
    assert 1 == len([c for c in sb.calls if c.system == "salesforce"])


@pytest.mark.parametrize("kind", ["http_500", "http_502", "http_503", "http_504", "drop"])
def test_server_errors_and_dropped_connections_are_retried(sb: Any, kind: str) -> None:
    sb.faults.add(FaultRule(system="salesforce", method="GET", path=r"/query", kind=kind, nth=1))
    accounts = list(salesforce(sb).pull_accounts(None))
    assert 250 == len(accounts)
    assert 2 == len(calls(sb, "salesforce", "GET", "/query"))


def test_a_query_timeout_midway_fails_the_read(big: Any) -> None:
    rule = big.faults.add(
        FaultRule(system="salesforce", method="GET", path=r"/query/.+", kind="query_timeout", nth=1)
    )
    try:
        with pytest.raises(FatalCrmError, match="QUERY_TIMEOUT"):
            list(salesforce(big).pull_accounts(None))
    finally:
        big.faults.remove(rule)


def test_a_server_that_never_answers_trips_the_read_timeout(sb: Any) -> None:
    sb.faults.add(FaultRule(system="salesforce", path=r"/limits", kind="timeout"))
    sf = salesforce(sb, attempts=2, read_timeout=0.3, connect_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(RetriableError):
        sf.check_access()
    assert time.monotonic() - started < 5
    assert 2 == sf.usage().calls["limits"]


def test_validate_schema_names_the_missing_field_on_an_unprovisioned_org() -> None:
    with Sandbox(accounts=5, seed=3) as box, pytest.raises(SchemaError) as caught:
        salesforce(box).validate_schema()
    assert (
        "Salesforce Account field Tierwise_Tier__c does not exist; run 'tierwise "
        "provision' to create it"
    ) in str(caught.value)


def test_provision_creates_the_fields_once_and_a_second_run_creates_nothing() -> None:
    with Sandbox(accounts=5, seed=3) as box:
        sf = salesforce(box)
        dry = sf.provision(TIERS, dry_run=True)
        assert [] == calls(box, "salesforce", "POST", "CustomField")
        first = sf.provision(TIERS, dry_run=False)
        second = sf.provision(TIERS, dry_run=False)
        assert [s.name for s in dry] == [s.name for s in first]
        assert 9 == len([s for s in first if s.kind in ("field", "task_field") and not s.exists])
        # The task key is one Activity field, granted per object (Task and Event).
        assert 10 == len([s for s in first if s.kind == "field_permission" and not s.exists])
        assert [("permission_set", False), ("permission_set_assignment", False)] == [
            (s.kind, s.exists) for s in first if s.kind.startswith("permission_set")
        ]
        assert all(s.exists for s in second)
        assert 9 == len(calls(box, "salesforce", "POST", "CustomField"))
        sf.validate_schema()


def test_large_writes_go_through_a_bulk_api_2_job(sb: Any) -> None:
    sf = salesforce(sb, bulk_threshold=100)
    ids = [a.crm_id for a in sf.pull_accounts(None)]
    sb.reset_calls()
    outcome = sf.write_accounts(
        [AccountUpdate(i, {"tier": "tier_4", "tier_changed": date(2026, 11, 2)}) for i in ids]
    )
    assert sorted(ids) == sorted(outcome.written)
    assert [] == calls(sb, "salesforce", "PATCH", "composite/sobjects")
    assert "tier_4" == sb.salesforce.objects["Account"][ids[7]]["Tierwise_Tier__c"]
    bulk_calls = [c for c in sb.calls if c.system == "salesforce" and "/jobs/ingest" in c.path]
    usage = sf.usage().calls
    assert len(bulk_calls) == sum(n for k, n in usage.items() if k.startswith("bulk2 ingest"))
    assert len(bulk_calls) == 5  # create, upload, close, two polls (no failures to read)


def test_the_run_stops_before_spending_past_the_daily_share() -> None:
    with provisioned(Sandbox(accounts=5, seed=3, salesforce_daily_limit=10)) as box:
        sf = salesforce(box, max_daily_api_share=0.3)
        ids = [a.crm_id for a in sf.pull_accounts(None)]
        sf.check_access()
        update = [AccountUpdate(ids[0], {"score": 1.0})]
        sf.write_accounts(update)  # 3 of 10 used: the share of 0.3 is reached, not passed
        before = len(box.calls)
        with pytest.raises(QuotaExhaustedError, match="MAX_DAILY_API_SHARE"):
            sf.write_accounts(update)
        assert before == len(box.calls)
        assert (3, 10) == (sf.usage().daily_used, sf.usage().daily_max)


def test_usage_counts_calls_per_endpoint(sb: Any) -> None:
    sf = salesforce(sb)
    list(sf.pull_accounts(None))
    sf.check_access()
    assert {"query": 1, "limits": 1} == sf.usage().calls


def test_no_log_event_or_error_carries_the_salesforce_token() -> None:
    from structlog.testing import capture_logs

    from tests.connectors.conftest import CANARY_TOKEN

    with (
        provisioned(Sandbox(accounts=20, seed=3, salesforce_token=CANARY_TOKEN)) as box,
        capture_logs() as events,
    ):
        sf = salesforce(box, attempts=2)
        ids = [a.crm_id for a in sf.pull_accounts(None)][:3]
        box.faults.add(
            FaultRule(
                system="salesforce",
                method="PATCH",
                path=r"composite/sobjects$",
                kind="record_error",
                code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
                records=[ids[0]],
            )
        )
        box.faults.add(
            FaultRule(system="salesforce", method="GET", path="/limits", kind="http_503")
        )
        sf.write_accounts([AccountUpdate(i, {"play": "x"}) for i in ids])
        with pytest.raises(RetriableError) as caught:
            sf.check_access()
    assert events, "failures are logged"
    text = repr(events) + str(caught.value) + repr(caught.value.__cause__) + repr(sf)
    assert CANARY_TOKEN[:12] not in text


def test_a_field_create_committed_then_dropped_is_not_created_twice() -> None:
    with Sandbox(accounts=5, seed=3) as box:
        sf = salesforce(box)
        box.faults.add(
            FaultRule(
                system="salesforce",
                method="POST",
                path="CustomField",
                kind="commit_then_drop",
                nth=1,
            )
        )
        sf.provision(TIERS, dry_run=False)
        assert 9 == len(calls(box, "salesforce", "POST", "CustomField"))
        assert all(s.exists for s in sf.provision(TIERS, dry_run=True))


@pytest.mark.parametrize("kind", ["http_500", "http_503", "drop", "commit_then_drop"])
def test_a_failed_collection_write_is_retried_and_lands_once(sb: Any, kind: str) -> None:
    sf = salesforce(sb)
    ids = [a.crm_id for a in sf.pull_accounts(None)][:20]
    sb.faults.add(
        FaultRule(
            system="salesforce", method="PATCH", path=r"composite/sobjects$", kind=kind, nth=1
        )
    )
    outcome = sf.write_accounts([AccountUpdate(i, {"reason": kind}) for i in ids])
    assert sorted(ids) == sorted(outcome.written)
    assert 2 == len(calls(sb, "salesforce", "PATCH", "composite/sobjects"))
    assert all(kind == sb.salesforce.objects["Account"][i]["Tierwise_Reason__c"] for i in ids)


def test_provision_grants_field_level_security_so_the_new_fields_become_visible() -> None:
    with Sandbox(accounts=5, seed=3, salesforce_require_field_permissions=True) as box:
        hidden = salesforce(box, permission_set=None)
        hidden.provision(TIERS, dry_run=False)  # no permission set configured: fields hidden
        with pytest.raises(SchemaError):
            hidden.validate_schema()

        sf = salesforce(box, permission_set="Tierwise_Integration")
        steps = sf.provision(TIERS, dry_run=False)
        assert all(s.exists for s in steps if s.kind in ("field", "task_field"))
        assert 10 == len([s for s in steps if s.kind == "field_permission" and not s.exists])
        sf.validate_schema()
        box.reset_calls()
        again = sf.provision(TIERS, dry_run=False)
        assert all(s.exists for s in again)
        assert [] == [c for c in box.calls if c.method in ("POST", "PATCH")]


def test_provision_creates_and_assigns_a_missing_permission_set() -> None:
    with provisioned(Sandbox(accounts=5, seed=3)) as box:
        sf = salesforce(box, permission_set="Other_Set")
        steps = sf.provision(TIERS, dry_run=False)
        org = box.salesforce.org
        [ps_id] = [i for i, r in org.objects["PermissionSet"].items() if r["Name"] == "Other_Set"]
        assigned = [
            r
            for r in org.objects["PermissionSetAssignment"].values()
            if r["PermissionSetId"] == ps_id
        ]
        grants = {
            r["Field"]
            for r in org.objects["FieldPermissions"].values()
            if r["ParentId"] == ps_id and r["PermissionsRead"] and r["PermissionsEdit"]
        }
    assert [org.api_user_id] == [r["AssigneeId"] for r in assigned]
    assert {"Task.Tierwise_Key__c", "Event.Tierwise_Key__c", "Account.Tierwise_Tier__c"} <= grants
    assert "Activity.Tierwise_Key__c" not in grants
    assert ("permission_set_assignment", False) in [(s.kind, s.exists) for s in steps]


def test_a_rotated_session_is_replaced_by_one_login_mid_run(sb: Any) -> None:
    login = salesforce_login(sb)
    sf = salesforce(sb, login=login)
    ids = [a.crm_id for a in sf.pull_accounts(None)][:5]
    sb.rotate_salesforce_token()
    outcome = sf.write_accounts([AccountUpdate(i, {"play": "rotated"}) for i in ids])
    assert sorted(ids) == sorted(outcome.written)
    assert 2 == len(login.calls)
    assert 2 == len(calls(sb, "salesforce", "PATCH", "composite/sobjects"))


def test_a_configured_field_that_does_not_exist_is_named_before_any_write(sb: Any) -> None:
    sf = salesforce(sb, fields={"industry": "Industry_Segment__c"})
    with pytest.raises(SchemaError) as caught:
        sf.validate_schema()
    assert (
        "Salesforce Account field Industry_Segment__c (mapped to model input 'industry' "
        "in TIERWISE_SALESFORCE__FIELDS / the mapping file) does not exist" in str(caught.value)
    )
    assert [] == [c for c in sb.calls if c.method in ("PATCH", "POST")]


def test_a_configured_object_that_does_not_exist_is_a_configuration_error(sb: Any) -> None:
    with pytest.raises(ConfigurationError, match="object Acount does not exist"):
        salesforce(sb, account_object="Acount").validate_schema()


def test_a_reason_longer_than_the_field_is_shortened_instead_of_failing(sb: Any) -> None:
    sf = salesforce(sb)
    account_id = next(iter(sf.pull_accounts(None))).crm_id
    reason = 'Strategic fit - "quotes", back\\slash, new\nline ' * 20
    outcome = sf.write_accounts([AccountUpdate(account_id, {"reason": reason})])
    assert [account_id] == outcome.written
    stored = sb.salesforce.objects["Account"][account_id]["Tierwise_Reason__c"]
    assert 255 == len(stored)
    assert reason[:254] == stored[:254]


def test_without_the_precheck_a_rerun_upserts_and_reports_the_tasks_as_existing(sb: Any) -> None:
    from tierwise.connectors.salesforce import SalesforceConnector

    base = salesforce(sb)
    sf = SalesforceConnector(base.settings, base.wanted_fields, precheck_tasks=False)
    try:
        account = next(iter(sf.pull_accounts(None)))
        request = [task("tw-upsert-only", account.crm_id, account.owner_id)]
        first = sf.ensure_tasks(request)
        sb.reset_calls()
        second = sf.ensure_tasks(request)
        assert first.created == second.existing
        assert [] == calls(sb, "salesforce", "GET", "/query")
        assert 1 == len(calls(sb, "salesforce", "PATCH", "composite/sobjects/Task"))
        keys = [t.get("Tierwise_Key__c") for t in sb.salesforce.objects["Task"].values()]
        assert 1 == keys.count("tw-upsert-only")
    finally:
        sf.close()
