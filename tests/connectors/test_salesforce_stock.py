# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The Salesforce connector on a stock org (and an enriched one): what a new org has and
refuses, and how tierwise copes - org task statuses, appended close notes, AccountId
aggregates, open pipeline from Opportunities, optional inputs that degrade, and "missing"
told apart from "hidden by field-level security"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from pydantic import SecretStr

from tests.connectors.sandbox_support import MODEL_FIELDS, TIERS, salesforce
from tests.provisioning import provisioned
from tierwise.config.settings import SalesforceSettings
from tierwise.connectors.base import TaskRequest
from tierwise.connectors.errors import SchemaError
from tierwise.connectors.retry import RetryPolicy
from tierwise.connectors.salesforce import SalesforceConnector
from tierwise.sandbox import Sandbox


@pytest.fixture
def sb() -> Iterator[Any]:
    with provisioned(Sandbox(accounts=60, seed=5)) as box:
        yield box


def connector(sb: Any, model: dict[str, str], **kw: Any) -> SalesforceConnector:
    settings = SalesforceSettings(
        instance_url=sb.salesforce_url,
        ca_bundle=sb.ca_file,
        access_token=SecretStr(sb.salesforce_token),
        **kw,
    )
    return SalesforceConnector(settings, model, retry_policy=RetryPolicy(max_attempts=2))


def test_tasks_use_the_orgs_default_open_and_a_closed_status(sb: Any) -> None:
    sf = salesforce(sb)
    account_id = next(iter(sb.salesforce.objects["Account"]))
    created = sf.ensure_tasks(
        [
            TaskRequest(
                "tw-s-1",
                account_id,
                None,
                "Call",
                date(2026, 12, 1),
                body="tierwise: entered tier_1",
            )
        ]
    ).created
    task_id = created["tw-s-1"]
    sb.salesforce.edit("Task", task_id, {"Description": "Rep: spoke to the CFO, call back."})

    sf.close_tasks([task_id], "left tier_1")

    task = sb.salesforce.objects["Task"][task_id]
    assert ("Done", True) == (task["Status"], task["IsClosed"])
    assert task["Description"].startswith("Rep: spoke to the CFO, call back.")
    assert task["Description"].endswith("Closed by tierwise: superseded (left tier_1)")
    status_queries = [c for c in sb.calls if c.path.endswith("/query") and c.method == "GET"]
    assert status_queries, "statuses come from TaskStatus"


def test_the_usual_status_set_works_too() -> None:
    with provisioned(Sandbox(accounts=5, seed=3, salesforce_usual_task_statuses=True)) as box:
        sf = salesforce(box)
        account_id = next(iter(box.salesforce.objects["Account"]))
        created = sf.ensure_tasks(
            [TaskRequest("tw-u-1", account_id, None, "Call", date(2026, 12, 1))]
        ).created
        task = box.salesforce.objects["Task"][created["tw-u-1"]]
        sf.close_tasks([created["tw-u-1"]], "left")
        assert ("Completed", True) == (task["Status"], task["IsClosed"])


def test_activity_aggregates_group_by_account_id_and_count_opportunity_activities(
    sb: Any,
) -> None:
    account_id, opportunity = next(
        (o["AccountId"], o["Id"]) for o in sb.salesforce.objects["Opportunity"].values()
    )
    today = sb.clock.peek().date().isoformat()
    org = sb.salesforce.org
    before = sum(1 for t in org.objects["Task"].values() if t.get("AccountId") == account_id)
    for what in (account_id, opportunity):  # one on the account, one on its opportunity
        org.commit(
            org.plan("Task", None, {"Subject": "logged", "WhatId": what, "ActivityDate": today})
        )
    sf = connector(sb, {**MODEL_FIELDS, "activity_count": "number"}, activity_aggregate_days=30)

    counts = {a.crm_id: a.fields["activity_count"] for a in sf.pull_accounts(None)}

    # WhatId would miss the task logged on the opportunity; AccountId counts both.
    assert before + 2.0 <= (counts[account_id] or 0)
    sf.close()


def test_open_pipeline_and_open_deals_come_from_open_opportunities_in_one_query(
    sb: Any,
) -> None:
    model = {"industry": "string", "open_pipeline": "number", "open_deals": "number"}
    sf = connector(sb, model)
    expected: dict[str, list[float]] = {}
    for opp in sb.salesforce.objects["Opportunity"].values():
        if not opp["IsClosed"]:
            expected.setdefault(opp["AccountId"], []).append(opp["Amount"] or 0.0)

    accounts = list(sf.pull_accounts(None))

    assert {"query": 1} == sf.usage().calls  # the subquery costs no extra call
    for account in accounts:
        amounts = expected.get(account.crm_id, [])
        assert (sum(amounts), float(len(amounts))) == (
            account.fields["open_pipeline"],
            account.fields["open_deals"],
        )
    assert any(account.fields["open_deals"] for account in accounts)
    sf.close()


def test_industry_values_map_onto_the_models_categories(sb: Any) -> None:
    sf = connector(
        sb, {"industry": "string"}, value_maps={"industry": {"Government": "Public Sector"}}
    )
    raw = {i: r["Industry"] for i, r in sb.salesforce.objects["Account"].items()}
    mapped = {a.crm_id: a.fields["industry"] for a in sf.pull_accounts(None)}
    for crm_id, value in raw.items():
        if value == "Technology":
            assert "Software" == mapped[crm_id]
        if value == "Transportation":
            assert "Logistics" == mapped[crm_id]
        if value == "Government":
            assert "Public Sector" == mapped[crm_id]  # settings override the default map
    sf.close()


def test_optional_inputs_the_org_lacks_are_listed_not_fatal(sb: Any) -> None:
    sf = salesforce(sb)
    sf.validate_schema()
    unmapped = sf.unmapped_inputs()
    assert "not mapped" == unmapped["intent_score"]
    assert "web_visits" in unmapped
    assert "industry" not in unmapped
    assert "open_pipeline" not in unmapped


def test_a_default_mapping_to_a_missing_field_degrades_but_an_explicit_one_fails(
    sb: Any,
) -> None:
    with pytest.raises(SchemaError, match="Bombora_Composite_Score__c"):
        salesforce(sb, fields={"intent_score": "Bombora_Composite_Score__c"}).validate_schema()


def test_the_enriched_profile_is_read_through_an_explicit_mapping() -> None:
    fields = {
        "intent_score": "Bombora_Composite_Score__c",
        "intent_surge": "Bombora_Surge__c",
        "tech_stack": "Technologies__c",
        "payment_risk": "Credit_Risk__c",
    }
    with provisioned(Sandbox(accounts=30, seed=5, profile="enriched")) as box:
        sf = salesforce(box, fields=fields)
        sf.validate_schema()
        accounts = list(sf.pull_accounts(None))
    assert "intent_score" not in sf.unmapped_inputs()
    assert any(a.fields["intent_score"] is not None for a in accounts)
    assert {a.fields["payment_risk"] for a in accounts} - {None} <= {
        "low",
        "medium",
        "high",
        "Low",
        "Medium",
        "High",
    }


def test_validate_tells_a_missing_field_from_one_hidden_by_field_security() -> None:
    with Sandbox(accounts=5, seed=3) as box:
        with pytest.raises(SchemaError) as missing:
            salesforce(box).validate_schema()
        # Fields created, but no permission set granted/assigned: they exist and are hidden.
        salesforce(box, permission_set=None).provision(TIERS, dry_run=False)
        with pytest.raises(SchemaError) as hidden:
            salesforce(box).validate_schema()
        salesforce(box).provision(TIERS, dry_run=False)
        salesforce(box).validate_schema()
    assert "Tierwise_Tier__c does not exist; run 'tierwise provision'" in str(missing.value)
    assert "exists but" not in str(missing.value)
    assert "Tierwise_Tier__c exists but is not visible to the API user" in str(hidden.value)
    assert "Tierwise_Integration" in str(hidden.value)


def test_an_account_with_very_many_open_opportunities_follows_the_child_page() -> None:
    with provisioned(Sandbox(accounts=5, seed=3, opportunities=False)) as box:
        org = box.salesforce.org
        account_id = next(iter(org.objects["Account"]))
        for i in range(250):
            org.commit(
                org.plan(
                    "Opportunity",
                    None,
                    {
                        "Name": f"Deal {i}",
                        "AccountId": account_id,
                        "Amount": 10.0,
                        "StageName": "Prospecting",
                        "CloseDate": "2027-01-31",
                    },
                )
            )
        sf = connector(box, {"open_pipeline": "number", "open_deals": "number"})
        box.reset_calls()
        accounts = {a.crm_id: a for a in sf.pull_accounts(None)}
        sf.close()
    assert (2500.0, 250.0) == (
        accounts[account_id].fields["open_pipeline"],
        accounts[account_id].fields["open_deals"],
    )
    # One page of accounts, one more page for the 51 children past the first 200.
    assert {"query": 2} == sf.usage().calls


def test_the_open_status_comes_from_the_describe_validate_already_read(sb: Any) -> None:
    sf = salesforce(sb)
    sf.validate_schema()
    account_id = next(iter(sb.salesforce.objects["Account"]))
    before = dict(sf.usage().calls)

    created = sf.ensure_tasks(
        [TaskRequest("tw-d-1", account_id, None, "Call", date(2026, 12, 1), verify_existing=False)]
    ).created

    assert "Open" == sb.salesforce.objects["Task"][created["tw-d-1"]]["Status"]
    assert before.get("query", 0) == sf.usage().calls.get("query", 0)  # no TaskStatus query
