# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The HubSpot emulator holds what a new portal holds and refuses what a portal refuses
(each rule's source is in sandbox/README.md), through the real client."""

from __future__ import annotations

from typing import Any

import pytest
from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from tests.sandbox.conftest import hs_client
from tierwise.sandbox import Sandbox
from tierwise.sandbox.hubspot import HubSpotBehaviour


def prop(name: str, unique: bool = True, group: str = "companyinformation") -> PropertyCreate:
    return PropertyCreate(
        name=name,
        label=name,
        type="string",
        field_type="text",
        group_name=group,
        has_unique_value=unique,
    )


def test_stock_company_properties_have_their_real_types(sandbox: Sandbox) -> None:
    props = sandbox.hubspot.portal.properties["companies"]
    industry = props["industry"]
    assert ("enumeration", "select") == (industry.type, industry.field_type)
    assert {"label": "Computer Software", "value": "COMPUTER_SOFTWARE"}.items() <= next(
        o for o in industry.options if o["value"] == "COMPUTER_SOFTWARE"
    ).items()
    assert all(o["value"] != o["label"] for o in props["web_technologies"].options)
    assert "string" == props["total_money_raised"].type
    assert props["hs_target_account"].label == props["hs_is_target_account"].label
    assert {"tier_1", "tier_2", "tier_3"} == {
        o["value"] for o in props["hs_ideal_customer_profile"].options
    }
    assert not [n for n in props if n.startswith("tierwise")]


def test_seeded_industry_codes_are_options_of_the_stock_property(make_sandbox: Any) -> None:
    from tierwise.sandbox.hs_portal_seed import SEED_INDUSTRY_CODES
    from tierwise.sandbox.hs_stock_properties import INDUSTRY_OPTIONS

    codes = {code for code, _ in INDUSTRY_OPTIONS}
    assert {c for cs in SEED_INDUSTRY_CODES.values() for c in cs} <= codes
    sb = make_sandbox(accounts=300)
    seeded = {c["properties"]["industry"] for c in sb.hubspot.objects["companies"].values()}
    assert seeded - {None} <= codes


def test_unique_properties_are_refused_on_tasks_by_default(sandbox: Sandbox) -> None:
    api = hs_client(sandbox).crm.properties
    api.groups_api.create("tasks", PropertyGroupCreate(name="tierwise", label="Tierwise"))
    with pytest.raises(PropertiesApiException) as raised:
        api.core_api.create("tasks", prop("tw_key", group="tierwise"))
    assert 400 == raised.value.status
    assert "VALIDATION_ERROR" in raised.value.body
    api.core_api.create("tasks", prop("tw_key", unique=False, group="tierwise"))
    api.core_api.create("companies", prop("tw_company_key"))  # documented for companies
    assert sandbox.hubspot.portal.properties["companies"]["tw_company_key"].unique


def test_unique_task_properties_can_be_switched_on(make_sandbox: Any) -> None:
    sb = make_sandbox(hubspot_behaviour=HubSpotBehaviour(unique_task_properties=True))
    api = hs_client(sb).crm.properties
    api.groups_api.create("tasks", PropertyGroupCreate(name="tierwise", label="Tierwise"))
    api.core_api.create("tasks", prop("tw_key", group="tierwise"))
    assert sb.hubspot.portal.properties["tasks"]["tw_key"].unique


def test_at_most_ten_unique_properties_per_object(sandbox: Sandbox) -> None:
    api = hs_client(sandbox).crm.properties.core_api
    for n in range(10):
        api.create("deals", prop(f"key_{n}", group="dealinformation"))
    with pytest.raises(PropertiesApiException) as raised:
        api.create("deals", prop("key_10", group="dealinformation"))
    assert 400 == raised.value.status


def test_enumeration_writes_must_use_a_defined_value(sandbox: Sandbox) -> None:
    ids = list(sandbox.hubspot.objects["companies"])[:3]
    result = hs_client(sandbox).crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": ids[0], "properties": {"industry": "COMPUTER_SOFTWARE"}},
                {"id": ids[1], "properties": {"industry": "Computer Software"}},  # a label
                {"id": ids[2], "properties": {"web_technologies": "salesforce_crm;Snowflake"}},
            ]
        )
    )
    assert 2 == result.num_errors
    assert {"VALIDATION_ERROR"} == {e.category for e in result.errors}
    assert [ids[0]] == [r.id for r in result.results]


def test_calculated_properties_are_read_only(sandbox: Sandbox) -> None:
    company = next(iter(sandbox.hubspot.objects["companies"]))
    result = hs_client(sandbox).crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": company, "properties": {"hs_num_open_deals": "3"}}]
        )
    )
    assert 1 == result.num_errors


def test_reading_by_a_non_unique_id_property_is_400(sandbox: Sandbox) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    with pytest.raises(ApiException) as raised:
        hs_client(sandbox).crm.companies.batch_api.read(
            {"idProperty": "name", "inputs": [{"id": "Acme"}], "properties": ["name"]}
        )
    assert 400 == raised.value.status


@pytest.mark.parametrize("version", ["2026-03", "2026-09"])
def test_date_based_paths_are_served_alike(sandbox: Sandbox, version: str) -> None:
    hs = hs_client(sandbox)
    client = hs.crm.associations.v4.batch_api.api_client

    def call(method: str, path: str, body: Any = None) -> Any:
        response = client.call_api(
            path,
            method,
            header_params={"Content-Type": "application/json"},
            body=body,
            auth_settings=["oauth2"],
            response_types_map={},
            _return_http_data_only=True,
            _preload_content=False,
        )
        import json

        return json.loads(response.data)

    page = call("GET", f"/crm/objects/{version}/companies?limit=5&properties=industry")
    v3 = hs.crm.companies.basic_api.get_page(limit=5, properties=["industry"])
    assert [r.id for r in v3.results] == [r["id"] for r in page["results"]]
    props = call("GET", f"/crm/properties/{version}/companies/industry")
    assert "enumeration" == props["type"]
    company = page["results"][0]["id"]
    links = call(
        "POST",
        f"/crm/associations/{version}/companies/contacts/batch/read",
        {"inputs": [{"id": company}]},
    )
    assert set(sandbox.hubspot.portal.associated("companies", company, "contacts")) == {
        str(t["toObjectId"]) for row in links["results"] for t in row["to"]
    }


def test_a_token_without_the_lists_scope_cannot_create_lists(make_sandbox: Any) -> None:
    from hubspot.crm.lists.exceptions import ApiException

    sb = make_sandbox(
        hubspot_behaviour=HubSpotBehaviour(missing_scopes=frozenset({"crm.lists.write"}))
    )
    with pytest.raises(ApiException) as raised:
        hs_client(sb).crm.lists.lists_api.create(
            {"name": "x", "objectTypeId": "0-2", "processingType": "MANUAL"}
        )
    assert 403 == raised.value.status


def test_enriched_holds_the_customers_own_properties(make_sandbox: Any) -> None:
    sb = make_sandbox(accounts=300, profile="enriched")
    props = sb.hubspot.portal.properties["companies"]
    assert {"technologies_used", "bombora_composite_score", "credit_risk"} <= set(props)
    values = [c["properties"] for c in sb.hubspot.objects["companies"].values()]
    assert any(v.get("bombora_composite_score") for v in values)
    assert {"low", "medium", "high"} >= {v["credit_risk"] for v in values}


def test_offset_paging_skips_rows_when_read_rows_change_mid_pull(make_sandbox: Any) -> None:
    """The trap keyset paging avoids (CRM-API-NOTES §2.4): ``after`` is an offset."""
    sb = make_sandbox(accounts=700, hubspot_search_per_second=None)
    api = hs_client(sb).crm.companies.search_api
    body: dict[str, Any] = {
        "filterGroups": [
            {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}]}
        ],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["name"],
        "limit": 200,
    }
    seen: list[str] = []
    while True:
        page = api.do_search(body)
        seen += [r.id for r in page.results]
        if page.paging is None:
            break
        body["after"] = page.paging.next.after
        for company in seen[:25]:
            sb.hubspot.edit("companies", company, {"name": "edited"})
    assert 25 == len(set(sb.hubspot.objects["companies"]) - set(seen))
