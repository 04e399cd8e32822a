# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The HubSpot emulator, driven through hubspot-api-client over loopback."""

from __future__ import annotations

from collections.abc import Callable

import hubspot
import pytest
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInput,
    PublicObjectSearchRequest,
)
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from tests.sandbox.conftest import hs_client
from tierwise.sandbox import Sandbox
from tierwise.sandbox.hubspot import HubSpotBehaviour


def unique_task_key(sb: Sandbox) -> None:
    """A unique ``tierwise_key`` task property, created as a client would (the portal must
    allow unique task properties: HubSpotBehaviour.unique_task_properties)."""
    props = hs_client(sb).crm.properties
    props.groups_api.create("tasks", PropertyGroupCreate(name="tierwise", label="Tierwise"))
    props.core_api.create(
        "tasks",
        PropertyCreate(
            name="tierwise_key",
            label="Tierwise key",
            type="string",
            field_type="text",
            group_name="tierwise",
            has_unique_value=True,
        ),
    )


def test_get_page_pages_with_after_cursor_and_string_properties(
    sandbox: Sandbox, hs: hubspot.HubSpot
) -> None:
    api = hs.crm.companies.basic_api
    first = api.get_page(limit=20, properties=["name", "domain", "numberofemployees", "nope"])
    second = api.get_page(limit=20, after=first.paging.next.after, properties=["name"])

    ids = [c.id for c in first.results] + [c.id for c in second.results]
    assert 40 == len(set(ids))
    assert sorted(ids, key=int) == ids
    assert "nope" not in first.results[0].properties
    assert isinstance(first.results[0].properties["domain"], str)


def test_get_all_reads_every_company_at_100_a_page(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(accounts=250)

    companies = hs_client(sb).crm.companies.get_all(properties=["domain"])

    assert 250 == len(companies)
    assert [100, 100, 50] == [c.records for c in sb.calls]


def test_list_limit_above_100_is_a_validation_error(hs: hubspot.HubSpot) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    with pytest.raises(ApiException) as raised:
        hs.crm.companies.basic_api.get_page(limit=101)

    assert 400 == raised.value.status


def test_domains_match_across_crms_after_normalising_websites(sandbox: Sandbox) -> None:
    def bare(url: str) -> str:
        host = url.lower().split("://")[-1].split("/")[0]
        return host.removeprefix("www.")

    for sf_id, hs_id in sandbox.company_ids.values():
        website = sandbox.salesforce.objects["Account"][sf_id]["Website"]
        domain = sandbox.hubspot.objects["companies"][hs_id]["properties"]["domain"]
        assert domain == bare(website)


def test_batch_update_is_200_when_every_input_succeeds(
    sandbox: Sandbox, hs: hubspot.HubSpot
) -> None:
    ids = list(sandbox.hubspot.objects["companies"])[:2]
    before = sandbox.hubspot.objects["companies"][ids[0]]["properties"]["hs_lastmodifieddate"]

    result = hs.crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": i, "properties": {"industry": "ONLINE_MEDIA"}} for i in ids]
        )
    )

    props = sandbox.hubspot.objects["companies"][ids[0]]["properties"]
    assert "COMPLETE" == result.status
    assert not hasattr(result, "num_errors") or not result.num_errors
    assert "ONLINE_MEDIA" == props["industry"]
    assert props["hs_lastmodifieddate"] > before


def test_batch_update_with_unknown_id_and_bad_property_is_207_with_errors(
    sandbox: Sandbox, hs: hubspot.HubSpot
) -> None:
    good = next(iter(sandbox.hubspot.objects["companies"]))
    other = list(sandbox.hubspot.objects["companies"])[1]

    result = hs.crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": good, "properties": {"industry": "OIL_ENERGY"}},
                {"id": "999", "properties": {"industry": "OIL_ENERGY"}},
                {"id": other, "properties": {"no_such_prop": "x"}},
            ]
        )
    )

    assert 2 == result.num_errors
    assert ["OBJECT_NOT_FOUND", "VALIDATION_ERROR"] == [e.category for e in result.errors]
    assert {"ids": ["999"]} == result.errors[0].context
    assert [good] == [r.id for r in result.results]


def test_batch_with_101_inputs_is_rejected(sandbox: Sandbox, hs: hubspot.HubSpot) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    good = next(iter(sandbox.hubspot.objects["companies"]))
    with pytest.raises(ApiException) as raised:
        hs.crm.companies.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(inputs=[{"id": good, "properties": {}}] * 101)
        )

    assert 400 == raised.value.status


def test_search_filters_sorts_and_pages(sandbox: Sandbox, hs: hubspot.HubSpot) -> None:
    companies = sandbox.hubspot.objects["companies"].values()
    expected = sorted(
        (
            c
            for c in companies
            if c["properties"]["country"] in ("Germany", "France")
            and float(c["properties"]["hs_analytics_num_visits"]) >= 10
        ),
        key=lambda c: -float(c["properties"]["hs_analytics_num_visits"]),
    )
    request = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "country", "operator": "IN", "values": ["germany", "france"]},
                    {"propertyName": "hs_analytics_num_visits", "operator": "GTE", "value": "10"},
                ]
            }
        ],
        "sorts": [{"propertyName": "hs_analytics_num_visits", "direction": "DESCENDING"}],
        "properties": ["hs_analytics_num_visits"],
        "limit": 2,
    }

    first = hs.crm.companies.search_api.do_search(request)

    assert len(expected) == first.total
    assert [c["id"] for c in expected[:2]] == [r.id for r in first.results]
    assert "2" == first.paging.next.after


def test_search_beyond_10000_results_and_too_many_filters_are_400(
    hs: hubspot.HubSpot,
) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    with pytest.raises(ApiException) as deep:
        hs.crm.companies.search_api.do_search(PublicObjectSearchRequest(after="10000", limit=1))
    too_many = {
        "filterGroups": [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}] * 7}]
    }
    with pytest.raises(ApiException) as wide:
        hs.crm.companies.search_api.do_search(too_many)

    assert (400, 400) == (deep.value.status, wide.value.status)


def test_properties_create_201_then_409_on_duplicate(hs: hubspot.HubSpot) -> None:
    hs.crm.properties.groups_api.create(
        "companies", PropertyGroupCreate(name="tierwise", label="Tierwise")
    )
    spec = PropertyCreate(
        name="tierwise_score",
        label="Tierwise score",
        type="number",
        field_type="number",
        group_name="tierwise",
    )

    created = hs.crm.properties.core_api.create("companies", spec)
    with pytest.raises(PropertiesApiException) as raised:
        hs.crm.properties.core_api.create("companies", spec)

    assert "tierwise_score" == created.name
    assert 409 == raised.value.status
    assert (
        "tierwise_score"
        == hs.crm.properties.core_api.get_by_name("companies", "tierwise_score").name
    )


def test_group_create_is_409_when_it_exists(hs: hubspot.HubSpot) -> None:
    spec = PropertyGroupCreate(name="tierwise", label="Tierwise")
    hs.crm.properties.groups_api.create("companies", spec)

    with pytest.raises(PropertiesApiException) as raised:
        hs.crm.properties.groups_api.create("companies", spec)

    assert 409 == raised.value.status


def test_native_icp_property_is_readable(hs: hubspot.HubSpot) -> None:
    prop = hs.crm.properties.core_api.get_by_name("companies", "hs_ideal_customer_profile")

    assert ["tier_1", "tier_2", "tier_3"] == [o.value for o in prop.options]


def test_task_create_with_company_association(sandbox: Sandbox, hs: hubspot.HubSpot) -> None:
    from hubspot.crm.objects.tasks import SimplePublicObjectInputForCreate

    company = next(iter(sandbox.hubspot.objects["companies"]))
    task = hs.crm.objects.tasks.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={
                "hs_timestamp": "2026-12-01T17:00:00Z",
                "hs_task_subject": "Book QBR",
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "HIGH",
            },
            associations=[
                {
                    "to": {"id": company},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}],
                }
            ],
        )
    )

    links = hs.crm.associations.v4.basic_api.get_page("tasks", task.id, "companies")
    assert "2026-12-01T17:00:00.000Z" == task.properties["hs_timestamp"]
    assert [company] == [str(r.to_object_id) for r in links.results]


def test_bad_token_is_401_invalid_authentication(sandbox: Sandbox) -> None:
    from hubspot.crm.companies.exceptions import UnauthorizedException

    client = hs_client(sandbox, token="pat-canary-not-the-token")

    with pytest.raises(UnauthorizedException) as raised:
        client.crm.companies.basic_api.get_page()

    assert "INVALID_AUTHENTICATION" in raised.value.body


def test_rate_limit_headers_are_sent_but_not_on_search(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(hubspot_requests_per_10s=50)
    api = hs_client(sb).crm.companies

    _, _, headers = api.basic_api.get_page_with_http_info(limit=1)
    _, _, search_headers = api.search_api.do_search_with_http_info(PublicObjectSearchRequest())

    assert "50" == headers["X-HubSpot-RateLimit-Max"]
    assert "49" == headers["X-HubSpot-RateLimit-Remaining"]
    assert "X-HubSpot-RateLimit-Max" not in search_headers


def test_rolling_ten_second_limit_answers_429_with_policy_and_retry_after(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    sb = make_sandbox(hubspot_requests_per_10s=3)
    api = hs_client(sb).crm.companies.basic_api
    for _ in range(3):
        api.get_page(limit=1)

    with pytest.raises(ApiException) as raised:
        api.get_page(limit=1)

    assert 429 == raised.value.status
    assert '"policyName": "TEN_SECONDLY_ROLLING"' in raised.value.body
    assert "10" == raised.value.headers["Retry-After"]


def test_retry_after_on_the_rolling_limit_can_be_switched_off(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    from tierwise.sandbox import HubSpotBehaviour

    sb = make_sandbox(
        hubspot_requests_per_10s=1, hubspot_behaviour=HubSpotBehaviour(retry_after=None)
    )
    api = hs_client(sb).crm.companies.basic_api
    api.get_page(limit=1)

    with pytest.raises(ApiException) as raised:
        api.get_page(limit=1)

    assert "Retry-After" not in raised.value.headers


def test_search_is_limited_to_five_requests_a_second(sandbox: Sandbox, hs: hubspot.HubSpot) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    statuses = []
    for _ in range(6):
        try:
            hs.crm.companies.search_api.do_search({"limit": 1})
            statuses.append(200)
        except ApiException as exc:
            statuses.append(exc.status)
            body = exc.body

    assert [200] * 5 + [429] == statuses
    assert "You have reached your secondly limit." in body


def test_search_lag_hides_fresh_writes_until_the_index_catches_up(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(search_lag_seconds=30)
    hs = hs_client(sb)
    company = next(iter(sb.hubspot.objects["companies"]))
    hs.crm.companies.basic_api.update(company, {"properties": {"name": "Zeta"}})
    query = {
        "filterGroups": [{"filters": [{"propertyName": "name", "operator": "EQ", "value": "zeta"}]}]
    }

    before = hs.crm.companies.search_api.do_search(query).total
    sb.clock.advance(31)  # the injected clock, not a sleep
    after = hs.crm.companies.search_api.do_search(query).total

    assert (0, 1) == (before, after)


def test_batch_upsert_on_the_unique_task_key_creates_then_updates(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    from hubspot.crm.objects.tasks import BatchInputSimplePublicObjectBatchInputUpsert

    sb = make_sandbox(hubspot_behaviour=HubSpotBehaviour(unique_task_properties=True))
    unique_task_key(sb)
    api = hs_client(sb).crm.objects.tasks.batch_api

    def upsert(subject: str) -> list[bool]:
        result = api.upsert(
            BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[
                    {
                        "idProperty": "tierwise_key",
                        "id": "k-1",
                        "properties": {
                            "hs_task_subject": subject,
                            "hs_timestamp": "2026-12-01T00:00:00Z",
                        },
                    }
                ]
            )
        )
        return [r.new for r in result.results]

    assert ([True], [False]) == (upsert("a"), upsert("b"))
    assert ["b"] == [
        t["properties"]["hs_task_subject"] for t in sb.hubspot.objects["tasks"].values()
    ]


def test_batch_upsert_on_a_non_unique_property_is_400(hs: hubspot.HubSpot) -> None:
    from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInputUpsert
    from hubspot.crm.companies.exceptions import ApiException

    with pytest.raises(ApiException) as raised:
        hs.crm.companies.batch_api.upsert(
            BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[{"idProperty": "domain", "id": "acme.com", "properties": {}}]
            )
        )

    assert 400 == raised.value.status


def test_batch_read_reports_missing_ids_as_207(sandbox: Sandbox, hs: hubspot.HubSpot) -> None:
    from hubspot.crm.companies import BatchReadInputSimplePublicObjectId

    good = next(iter(sandbox.hubspot.objects["companies"]))
    result = hs.crm.companies.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            properties=["domain"], inputs=[{"id": good}, {"id": "1"}], properties_with_history=[]
        )
    )

    assert [good] == [r.id for r in result.results]
    assert {"ids": ["1"]} == result.errors[0].context


def test_batch_create_tasks_with_associations_is_201(sandbox: Sandbox, hs: hubspot.HubSpot) -> None:
    from hubspot.crm.objects.tasks import BatchInputSimplePublicObjectBatchInputForCreate

    companies = list(sandbox.hubspot.objects["companies"])[:2]
    result = hs.crm.objects.tasks.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                {
                    "properties": {"hs_task_subject": f"T{i}", "hs_timestamp": "1767225600000"},
                    "associations": [
                        {
                            "to": {"id": c},
                            "types": [
                                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}
                            ],
                        }
                    ],
                }
                for i, c in enumerate(companies)
            ]
        )
    )

    assert 2 == len(result.results)
    assert sb_links(sandbox, companies[0]) == 1
    assert "2026-01-01T00:00:00.000Z" == result.results[0].properties["hs_timestamp"]


def sb_links(sb: Sandbox, company: str) -> int:
    return len(sb.hubspot.portal.associated("companies", company, "tasks"))


def test_task_update_by_id_and_unknown_id_is_404(sandbox: Sandbox, hs: hubspot.HubSpot) -> None:
    from hubspot.crm.objects.tasks import SimplePublicObjectInput
    from hubspot.crm.objects.tasks.exceptions import NotFoundException

    created = hs.crm.objects.tasks.basic_api.create(
        {"properties": {"hs_task_subject": "x", "hs_timestamp": "2026-12-01T00:00:00Z"}}
    )
    updated = hs.crm.objects.tasks.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"hs_task_status": "COMPLETED"})
    )

    assert "COMPLETED" == updated.properties["hs_task_status"]
    with pytest.raises(NotFoundException):
        hs.crm.objects.tasks.basic_api.update("1", SimplePublicObjectInput(properties={}))


def test_invalid_enumeration_value_is_a_validation_error(
    sandbox: Sandbox, hs: hubspot.HubSpot
) -> None:
    from hubspot.crm.companies import SimplePublicObjectInput
    from hubspot.crm.companies.exceptions import ApiException

    company = next(iter(sandbox.hubspot.objects["companies"]))
    with pytest.raises(ApiException) as raised:
        hs.crm.companies.basic_api.update(
            company, SimplePublicObjectInput(properties={"payment_risk": "extreme"})
        )

    assert 400 == raised.value.status
    assert "VALIDATION_ERROR" in raised.value.body


def test_dynamic_list_create_then_find_by_name_and_duplicate_refused(
    hs: hubspot.HubSpot,
) -> None:
    from hubspot.crm.lists.exceptions import ApiException

    body = {
        "name": "tierwise: Tier 1",
        "objectTypeId": "0-2",
        "processingType": "DYNAMIC",
        "filterBranch": {
            "filterBranchType": "OR",
            "filters": [],
            "filterBranches": [
                {
                    "filterBranchType": "AND",
                    "filterBranches": [],
                    "filters": [
                        {
                            "filterType": "PROPERTY",
                            "property": "tierwise_tier",
                            "operation": {
                                "operationType": "ENUMERATION",
                                "operator": "IS_ANY_OF",
                                "values": ["tier_1"],
                            },
                        }
                    ],
                }
            ],
        },
    }

    created = hs.crm.lists.lists_api.create(body)
    found = hs.crm.lists.lists_api.get_by_name("tierwise: Tier 1", "0-2")
    with pytest.raises(ApiException) as raised:
        hs.crm.lists.lists_api.create(body)

    assert "DYNAMIC" == created.list.processing_type
    assert created.list.list_id == found.list.list_id
    assert 409 == raised.value.status


def test_owners_are_listed_with_ids_usable_as_hubspot_owner_id(
    sandbox: Sandbox, hs: hubspot.HubSpot
) -> None:
    owners = hs.crm.owners.owners_api.get_page()
    owner_ids = {o.id for o in owners.results}

    assert 6 == len(owner_ids)
    assert {
        c["properties"]["hubspot_owner_id"] for c in sandbox.hubspot.objects["companies"].values()
    } <= owner_ids


def test_seeded_hubspot_data_keeps_a_few_malformed_values(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(accounts=2000)
    props = [c["properties"] for c in sb.hubspot.objects["companies"].values()]

    def numeric(v: str | None) -> bool:
        try:
            float(v or "0")
        except ValueError:
            return False
        return True

    malformed = [p for p in props if not numeric(p["annualrevenue"])]
    assert 0 < len(malformed) < 100
    assert any(p["industry"] is None for p in props)
    assert any(p["total_money_raised"] == "undisclosed" for p in props)
    assert any(p["numberofemployees"] and p["numberofemployees"].startswith("-") for p in props)


def test_seeded_contacts_are_associated_with_their_companies(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
    from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInput as ContactBatch

    sb = make_sandbox()
    hs = hs_client(sb)
    companies = list(sb.hubspot.objects["companies"])[:10]

    links = hs.crm.associations.v4.batch_api.get_page(
        "companies",
        "contacts",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": c} for c in companies]),
    )
    contact_ids = [str(t.to_object_id) for row in links.results for t in row.to]
    result = hs.crm.contacts.batch_api.update(
        ContactBatch(inputs=[{"id": c, "properties": {"jobtitle": "Buyer"}} for c in contact_ids])
    )

    domains = {sb.hubspot.objects["companies"][c]["properties"]["domain"] for c in companies}
    emails = [sb.hubspot.objects["contacts"][c]["properties"]["email"] for c in contact_ids]
    assert contact_ids
    assert all(e.split("@")[1] in domains for e in emails)
    assert len(contact_ids) == len(result.results)
    assert {"Buyer"} == {
        sb.hubspot.objects["contacts"][c]["properties"]["jobtitle"] for c in contact_ids
    }


def test_daily_limit_is_counted_in_headers_and_then_refused(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    sb = make_sandbox(hubspot_daily_limit=2)
    api = hs_client(sb).crm.companies.basic_api
    _, _, headers = api.get_page_with_http_info(limit=1)
    api.get_page(limit=1)

    with pytest.raises(ApiException) as raised:
        api.get_page(limit=1)

    assert ("2", "1") == (
        headers["X-HubSpot-RateLimit-Daily"],
        headers["X-HubSpot-RateLimit-Daily-Remaining"],
    )
    assert '"policyName": "DAILY"' in raised.value.body


def test_search_stops_at_the_10000th_result_and_the_next_cursor_is_refused(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    sb = make_sandbox(accounts=10_050, hubspot_search_per_second=None)
    search = hs_client(sb).crm.companies.search_api

    last = search.do_search({"limit": 100, "after": "9900"})
    truncated = search.do_search({"limit": 200, "after": "9900"})
    with pytest.raises(ApiException) as raised:
        search.do_search({"limit": 100, "after": last.paging.next.after})

    assert 10_050 == last.total
    assert "10000" == last.paging.next.after
    assert 100 == len(truncated.results)
    assert 400 == raised.value.status


def test_search_page_size_over_200_and_oversized_bodies_are_400(hs: hubspot.HubSpot) -> None:
    from hubspot.crm.companies.exceptions import ApiException

    with pytest.raises(ApiException) as too_many:
        hs.crm.companies.search_api.do_search({"limit": 201})
    with pytest.raises(ApiException) as too_long:
        hs.crm.companies.search_api.do_search({"query": "x" * 3000})

    assert (400, 400) == (too_many.value.status, too_long.value.status)


def test_string_in_filters_match_only_lower_case_values(
    sandbox: Sandbox, hs: hubspot.HubSpot
) -> None:
    def total(values: list[str]) -> int:
        return int(
            hs.crm.companies.search_api.do_search(
                {
                    "filterGroups": [
                        {
                            "filters": [
                                {"propertyName": "country", "operator": "IN", "values": values}
                            ]
                        }
                    ]
                }
            ).total
        )

    germans = sum(
        1
        for c in sandbox.hubspot.objects["companies"].values()
        if c["properties"]["country"] == "Germany"
    )

    assert germans > 0
    assert (germans, 0) == (total(["germany"]), total(["Germany"]))


def test_hand_edits_validate_and_bump_the_modified_date(sandbox: Sandbox) -> None:
    from tierwise.sandbox.hs_schema import PropertyValueError

    company = next(iter(sandbox.hubspot.objects["companies"]))
    props = sandbox.hubspot.objects["companies"][company]["properties"]
    before = props["hs_lastmodifieddate"]

    sandbox.hubspot.edit("companies", company, {"industry": "RETAIL"})
    with pytest.raises(PropertyValueError):
        sandbox.hubspot.edit("companies", company, {"industry": "Retail"})  # a label

    assert "RETAIL" == props["industry"]
    assert props["hs_lastmodifieddate"] > before


def test_batch_upsert_with_a_repeated_key_is_400(make_sandbox: Callable[..., Sandbox]) -> None:
    from hubspot.crm.objects.tasks import BatchInputSimplePublicObjectBatchInputUpsert
    from hubspot.crm.objects.tasks.exceptions import ApiException

    sb = make_sandbox(hubspot_behaviour=HubSpotBehaviour(unique_task_properties=True))
    unique_task_key(sb)
    item = {"idProperty": "tierwise_key", "id": "k-1", "properties": {}}

    with pytest.raises(ApiException) as raised:
        hs_client(sb).crm.objects.tasks.batch_api.upsert(
            BatchInputSimplePublicObjectBatchInputUpsert(inputs=[item, item])
        )

    assert 400 == raised.value.status
    assert [] == list(sb.hubspot.objects["tasks"])
