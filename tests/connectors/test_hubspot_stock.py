# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The HubSpot connector on a stock portal (issue 11/12): standard properties and their
real values, optional inputs that degrade, keyset paging under concurrent edits, task
exactly-once without a unique key, the native ICP fields left to their owners, and list
creation that may be refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from tests.connectors.sandbox_support import OPENED, TIERS, calls
from tests.provisioning import provisioned
from tierwise.config.settings import HubSpotSettings
from tierwise.connectors.base import AccountUpdate, TaskRequest
from tierwise.connectors.hubspot.connector import HubSpotConnector
from tierwise.connectors.hubspot.values import parse_money
from tierwise.connectors.retry import RetryPolicy
from tierwise.sandbox import FaultRule, Sandbox
from tierwise.sandbox.hubspot import HubSpotBehaviour

# The default model inputs of CONTRACT.md item 4 plus two optional ones.
INPUTS = {
    "industry": "string",
    "employees": "number",
    "annual_revenue": "number",
    "country": "string",
    "last_activity": "date",
    "open_pipeline": "number",
    "open_deals": "number",
    "web_visits": "number",
    "tech_stack": "list",
    "last_funding_amount": "number",
    "intent_score": "number",
    "intent_surge": "bool",
}
CATEGORIES = {
    "Software",
    "Financial Services",
    "Healthcare",
    "Media",
    "Logistics",
    "Manufacturing",
    "Retail",
    "Energy",
    "Education",
    "Government",
}
TASK_CREATE = r"/crm/v3/objects/tasks/batch/create"


def connector(sb: Any, inputs: dict[str, str] | None = None, **kw: Any) -> HubSpotConnector:
    settings = HubSpotSettings(
        access_token=SecretStr(sb.hubspot_token), base_url=sb.hubspot_url, **kw
    )
    hs = HubSpotConnector(settings, inputs or INPUTS, retry_policy=RetryPolicy(max_attempts=4))
    OPENED.append(hs)
    return hs


@pytest.fixture(scope="module")
def stock() -> Iterator[Any]:
    with provisioned(Sandbox(accounts=300, seed=11)) as box:
        yield box


# ---- values: industry codes and labels, web_technologies labels, money -------------------


def test_industry_codes_become_the_model_categories(stock: Any) -> None:
    hs = connector(stock)
    hs.validate_schema()
    accounts = list(hs.pull_accounts(None))
    codes = {c["properties"]["industry"] for c in stock.hubspot.objects["companies"].values()}
    industries = {a.fields["industry"] for a in accounts} - {None}
    assert {"COMPUTER_SOFTWARE", "BANKING", "HOSPITAL_HEALTH_CARE"} <= codes
    assert CATEGORIES == industries


@pytest.mark.parametrize(
    ("stored", "category"),
    [
        ("COMPUTER_SOFTWARE", "Software"),
        ("Computer Software", "Software"),
        ("computer software", "Software"),
        ("FINANCIAL_SERVICES", "Financial Services"),
        ("Hospital & Health Care", "Healthcare"),
        ("OIL_ENERGY", "Energy"),
        ("GOVERNMENT_ADMINISTRATION", "Government"),
        ("REAL_ESTATE", "REAL_ESTATE"),
    ],
)
def test_value_maps_take_codes_and_labels(stored: str, category: str) -> None:
    hs = HubSpotConnector(HubSpotSettings(access_token=SecretStr("t")), {"industry": "string"})
    account = hs.companies.parse({"id": "1", "properties": {"industry": stored}})
    assert category == account.fields["industry"]


def test_an_operator_value_map_extends_the_defaults() -> None:
    settings = HubSpotSettings(
        access_token=SecretStr("t"), value_maps={"industry": {"real estate": "Financial Services"}}
    )
    hs = HubSpotConnector(settings, {"industry": "string"})
    parse = hs.companies.parse
    assert (
        "Financial Services"
        == parse({"id": "1", "properties": {"industry": "Real Estate"}}).fields["industry"]
    )
    assert (
        "Software" == parse({"id": "1", "properties": {"industry": "INTERNET"}}).fields["industry"]
    )


def test_the_values_an_enumeration_input_can_take_are_known_after_validation(
    stock: Any,
) -> None:
    hs = connector(stock)
    hs.validate_schema()
    values = hs.input_values()
    assert CATEGORIES <= values["industry"]
    assert "COMPUTER_SOFTWARE" not in values["industry"]
    assert {"Salesforce", "Snowflake", "Segment"} <= values["tech_stack"]


def test_web_technologies_are_read_by_label(stock: Any) -> None:
    hs = connector(stock)
    hs.validate_schema()
    accounts = {a.crm_id: a for a in hs.pull_accounts(None)}
    stored = {
        cid: c["properties"]["web_technologies"]
        for cid, c in stock.hubspot.objects["companies"].items()
    }
    with_sf = [cid for cid, v in stored.items() if v and "salesforce_crm" in v.split(";")]
    assert with_sf, "the seed gives some companies Salesforce"
    for cid in with_sf:
        assert "Salesforce" in (accounts[cid].fields["tech_stack"] or ())
    assert not any("salesforce_crm" in (a.fields["tech_stack"] or ()) for a in accounts.values())


def test_enumeration_values_and_labels_read_as_labels_case_insensitively() -> None:
    from tierwise.connectors.hubspot.values import labelled

    labels = {"salesforce_crm": "Salesforce", "segment_io": "Segment"}
    assert "Salesforce;Segment;Okta" == labelled("SALESFORCE_CRM;segment;Okta", labels)
    assert None is labelled(None, labels)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$12.5M", 12_500_000.0),
        ("12,500,000", 12_500_000.0),
        ("1.2B", 1_200_000_000.0),
        ("USD 3 million", 3_000_000.0),
        ("25000000", 25_000_000.0),
        ("$0.25B", 250_000_000.0),
        ("~5m", 5_000_000.0),
        ("$3,000,000", 3_000_000.0),
        ("n/a", None),
        ("undisclosed", None),
        ("5-10M", None),
        ("", None),
        ("1,2M", None),
    ],
)
def test_money_strings_are_parsed_leniently(text: str, amount: float | None) -> None:
    assert amount == parse_money(text)


def test_total_money_raised_feeds_the_funding_amount_and_bad_text_is_reported(
    stock: Any,
) -> None:
    hs = connector(stock)
    hs.validate_schema()
    accounts = list(hs.pull_accounts(None))
    amounts = [a.fields["last_funding_amount"] for a in accounts]
    assert any(isinstance(x, float) and x >= 1_000_000 for x in amounts)
    bad = [a for a in accounts if "last_funding_amount" in a.invalid]
    assert bad
    assert all(a.fields["last_funding_amount"] is None for a in bad)


def test_open_deals_and_pipeline_come_from_the_deal_rollups(stock: Any) -> None:
    hs = connector(stock)
    hs.validate_schema()
    accounts = list(hs.pull_accounts(None))
    assert any(
        (a.fields["open_deals"] or 0) > 0 and (a.fields["open_pipeline"] or 0) > 0 for a in accounts
    )


# ---- optional inputs degrade; explicit ones do not ---------------------------------------


def test_inputs_without_a_stock_property_are_listed_not_fatal(stock: Any) -> None:
    hs = connector(stock)
    hs.validate_schema()
    assert {"intent_score": "not mapped", "intent_surge": "not mapped"} == hs.unmapped_inputs()
    account = next(iter(hs.pull_accounts(None)))
    assert "intent_score" not in account.fields


def test_a_default_property_the_portal_lacks_degrades() -> None:
    with provisioned(Sandbox(accounts=5, seed=3)) as box:
        del box.hubspot.portal.properties["companies"]["hs_analytics_num_visits"]
        hs = connector(box)
        hs.validate_schema()
        assert "no property hs_analytics_num_visits" == hs.unmapped_inputs()["web_visits"]
        assert all("web_visits" not in a.fields for a in hs.pull_accounts(None))


def test_the_enriched_profile_is_used_through_an_explicit_mapping() -> None:
    fields = {
        "intent_score": "bombora_composite_score",
        "intent_surge": "bombora_surge",
        "tech_stack": "technologies_used",
        "web_visits": "site_sessions_30d",
        "last_funding_amount": "funding_total",
    }
    with provisioned(Sandbox(accounts=400, seed=3, profile="enriched")) as box:
        hs = connector(box, fields=fields)
        hs.validate_schema()
        accounts = list(hs.pull_accounts(None))
    assert {} == hs.unmapped_inputs()
    assert any(a.fields["intent_score"] is not None for a in accounts)
    assert any(a.fields["intent_surge"] is True for a in accounts)
    assert any("Salesforce" in (a.fields["tech_stack"] or ()) for a in accounts)


def test_the_stock_profile_holds_none_of_the_customers_properties(stock: Any) -> None:
    names = set(stock.hubspot.portal.properties["companies"])
    assert not names & {
        "bombora_composite_score",
        "technologies_used",
        "funding_total",
        "web_visits_30d",
        "intent_score",
        "payment_risk",
    }


# ---- keyset paging ------------------------------------------------------------------------


def test_an_incremental_pull_misses_nothing_when_records_change_between_pages() -> None:
    with provisioned(Sandbox(accounts=700, seed=5)) as box:
        hs = connector(box)
        since = datetime(2000, 1, 1, tzinfo=UTC)
        everyone = set(box.hubspot.objects["companies"])
        by_stamp = sorted(
            everyone,
            key=lambda i: box.hubspot.objects["companies"][i]["properties"]["hs_lastmodifieddate"],
        )
        seen: list[str] = []
        edited: list[str] = []
        for account in hs.pull_accounts(since):
            seen.append(account.crm_id)
            if len(seen) in (150, 350, 550):
                # Records already read and records not reached yet change mid-pull (people,
                # workflows, HubSpot's own rollups): each moves to the end of the order, and
                # with an offset cursor the rows behind it slide into pages already read.
                todo = seen[-15:] + [i for i in by_stamp if i not in set(seen)][:15]
                for company in todo:
                    box.hubspot.edit("companies", company, {"name": f"edited {company}"})
                edited += todo
    assert everyone == set(seen)
    assert set(edited) <= set(seen)


def test_more_than_a_page_of_records_sharing_one_timestamp_is_read_once() -> None:
    with provisioned(Sandbox(accounts=520, seed=5, hubspot_search_per_second=None)) as box:
        stamp = "2026-10-01T10:00:00.000Z"
        companies = box.hubspot.objects["companies"]
        for company in list(companies)[:450]:
            companies[company]["properties"]["hs_lastmodifieddate"] = stamp
        box.hubspot.portal.version += 1
        hs = connector(box)
        box.reset_calls()
        pulled = [a.crm_id for a in hs.pull_accounts(datetime(2026, 9, 1, tzinfo=UTC))]
        expected = {
            cid
            for cid, c in companies.items()
            if c["properties"]["hs_lastmodifieddate"] >= "2026-09-01"
        }
        searches = len(calls(box, "hubspot", "POST", "/search"))
    assert len(pulled) == len(set(pulled))
    assert expected == set(pulled)
    assert searches <= 8


# ---- tasks exactly once without a unique key -------------------------------------------------


def task(key: str, company: str, owner: str | None, verify: bool = True) -> TaskRequest:
    return TaskRequest(
        key, company, owner, f"Play {key}", date(2026, 12, 4), "high", "b", verify_existing=verify
    )


def keyed(sb: Any, key: str) -> list[str]:
    return [
        tid
        for tid, t in sb.hubspot.objects["tasks"].items()
        if t["properties"].get("tierwise_key") == key
    ]


def test_provision_falls_back_to_a_plain_key_where_unique_task_properties_are_refused(
    stock: Any,
) -> None:
    prop = stock.hubspot.portal.properties["tasks"]["tierwise_key"]
    assert not prop.unique
    hs = connector(stock)
    hs.validate_schema()
    assert hs.fields.task_key_unique is False


def test_a_dropped_task_create_is_found_without_search_and_not_duplicated() -> None:
    with provisioned(Sandbox(accounts=5, seed=3, search_lag_seconds=60)) as box:
        hs = connector(box)
        hs.validate_schema()
        account = next(iter(hs.pull_accounts(None)))
        box.faults.add(
            FaultRule(
                system="hubspot", method="POST", path=TASK_CREATE, kind="commit_then_drop", nth=1
            )
        )
        first = hs.ensure_tasks([task("tw-drop", account.crm_id, account.owner_id, False)])
        box.faults.clear()
        # A new process after a crash: the ledger says "attempted, outcome unknown".
        again = connector(box).ensure_tasks([task("tw-drop", account.crm_id, account.owner_id)])
        searches = calls(box, "hubspot", "POST", "/tasks/search")
    assert 1 == len(keyed(box, "tw-drop"))
    assert {"tw-drop"} == set(first.created)
    assert first.created == again.existing
    assert {} == again.created
    assert [] == searches, "search lags: the lookup must not depend on it"


def test_tasks_stay_exactly_once_under_faults_without_a_unique_key() -> None:
    with provisioned(Sandbox(accounts=40, seed=3, search_lag_seconds=60)) as box:
        hs = connector(box)
        accounts = list(hs.pull_accounts(None))[:30]
        requests = [task(f"tw-{a.crm_id}", a.crm_id, a.owner_id) for a in accounts]
        box.faults.add(
            FaultRule(
                system="hubspot", method="POST", path=TASK_CREATE, kind="commit_then_drop", nth=1
            )
        )
        box.faults.add(
            FaultRule(system="hubspot", method="POST", path=TASK_CREATE, kind="http_503", nth=2)
        )
        outcome = hs.ensure_tasks(requests)
        box.faults.clear()
        rerun = connector(box).ensure_tasks(requests)
    assert {r.key for r in requests} == set(outcome.created) | set(outcome.existing)
    assert {} == rerun.created
    for r in requests:
        assert 1 == len(keyed(box, r.key))


def test_with_unique_task_properties_allowed_the_key_is_unique_and_read_by_id_property() -> None:
    behaviour = HubSpotBehaviour(unique_task_properties=True)
    with provisioned(Sandbox(accounts=5, seed=3, hubspot_behaviour=behaviour)) as box:
        assert box.hubspot.portal.properties["tasks"]["tierwise_key"].unique
        hs = connector(box)
        account = next(iter(hs.pull_accounts(None)))
        made = hs.ensure_tasks([task("tw-u", account.crm_id, account.owner_id)]).created
        box.reset_calls()
        again = connector(box).ensure_tasks([task("tw-u", account.crm_id, account.owner_id)])
        assoc = calls(box, "hubspot", "POST", "/associations/")
    assert made == again.existing
    assert [] == assoc, "a unique key is read by idProperty, no association lookup"


def test_open_tasks_are_found_without_a_unique_key(stock: Any) -> None:
    hs = connector(stock)
    account = next(iter(hs.pull_accounts(None)))
    created = hs.ensure_tasks([task("tw-open-nu", account.crm_id, account.owner_id)]).created
    found = connector(stock).open_tasks(["tw-open-nu", "tw-nothing"])
    assert [("tw-open-nu", created["tw-open-nu"], account.crm_id)] == [
        (t.key, t.task_id, t.crm_account_id) for t in found
    ]


# ---- native ICP: never clear or overwrite what tierwise did not set -------------------------


def test_native_icp_values_someone_else_set_are_never_cleared_or_overwritten() -> None:
    with provisioned(Sandbox(accounts=5, seed=3)) as box:
        hs = connector(box, write_native_icp=True)
        hs.provision(TIERS, dry_run=False)
        a, b, c = list(box.hubspot.objects["companies"])[:3]
        # A marketer's ABM choices on A: tierwise must leave them.
        box.hubspot.edit(
            "companies", a, {"hs_is_target_account": "true", "hs_ideal_customer_profile": "tier_3"}
        )
        hs = connector(box, write_native_icp=True)
        hs.check_access()
        list(hs.pull_accounts(None))
        hs.write_accounts(
            [
                AccountUpdate(a, {"tier": "tier_1"}),
                AccountUpdate(b, {"tier": "tier_1"}),
                AccountUpdate(c, {"tier": "tier_2"}),
            ]
        )
        props = {i: box.hubspot.objects["companies"][i]["properties"] for i in (a, b, c)}
        assert ("tier_3", "true") == (
            props[a]["hs_ideal_customer_profile"],
            props[a]["hs_is_target_account"],
        )
        assert "tier_1" == props[a]["tierwise_tier"]
        assert ("tier_1", "true") == (
            props[b]["hs_ideal_customer_profile"],
            props[b]["hs_is_target_account"],
        )
        # Later someone re-tiers C by hand; B is still tierwise's own.
        box.hubspot.edit("companies", c, {"hs_ideal_customer_profile": "tier_3"})
        fresh = connector(box, write_native_icp=True)  # a new run: memory is the CRM marker
        fresh.write_accounts(
            [
                AccountUpdate(a, {"tier": "tier_4"}),
                AccountUpdate(b, {"tier": "tier_4"}),
                AccountUpdate(c, {"tier": "tier_1"}),
            ]
        )
        props = {i: box.hubspot.objects["companies"][i]["properties"] for i in (a, b, c)}
    assert ("tier_3", "true") == (
        props[a]["hs_ideal_customer_profile"],
        props[a]["hs_is_target_account"],
    )
    assert (None, "false") == (
        props[b]["hs_ideal_customer_profile"],
        props[b]["hs_is_target_account"],
    )  # tierwise clears its own
    assert ("tier_3", "true") == (
        props[c]["hs_ideal_customer_profile"],
        props[c]["hs_is_target_account"],
    )


# ---- lists that cannot be created ----------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour",
    [
        HubSpotBehaviour(missing_scopes=frozenset({"crm.lists.write"})),
        HubSpotBehaviour(list_limit=2),
    ],
)
def test_list_creation_failing_is_reported_and_provisioning_goes_on(
    behaviour: HubSpotBehaviour,
) -> None:
    with Sandbox(accounts=5, seed=3, hubspot_behaviour=behaviour) as box:
        hs = connector(box)
        steps = hs.provision(TIERS, dry_run=False)
        hs.validate_schema()  # tier properties and task key were created regardless
    failed = [s for s in steps if s.kind == "list_failed"]
    assert failed
    if behaviour.missing_scopes:
        assert all("crm.lists.write" in s.name for s in failed)
    assert len(failed) + len([s for s in steps if s.kind == "list"]) == len(TIERS)
    assert "tierwise_tier" in box.hubspot.portal.properties["companies"]


def test_every_v3_path_tierwise_calls_is_listed_with_its_sunset_in_the_readme() -> None:
    from pathlib import Path

    from tierwise.connectors.hubspot import paths

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert paths.V3_PATHS
    assert [] == [p for p in paths.V3_PATHS if f"`{p}`" not in readme]
    assert "/crm/associations/2026-03/" in paths.associations_batch_read("tasks", "companies")
