# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The Salesforce emulator, driven through simple-salesforce over TLS loopback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from tests.provisioning import provisioned
from tests.sandbox.conftest import sf_client
from tests.sandbox.sf_support import (
    KEY_METADATA,
    TIER_METADATA,
    assign,
    grant,
    permission_set,
    visible_field,
)
from tierwise.sandbox import Sandbox
from tierwise.sandbox.sf_schema import INDUSTRY_VALUES

TIERWISE_KEY = {"FullName": "Activity.Tierwise_Key__c", "Metadata": KEY_METADATA}


def test_query_returns_records_with_attributes_and_salesforce_datetimes(sf: Salesforce) -> None:
    result = sf.query("SELECT Id, Name, SystemModstamp FROM Account LIMIT 3")

    assert 3 == result["totalSize"]
    assert result["done"] is True
    record = result["records"][0]
    assert "Account" == record["attributes"]["type"]
    assert record["attributes"]["url"].endswith("/sobjects/Account/" + record["Id"])
    assert 18 == len(record["Id"])
    datetime.strptime(record["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")


def test_query_all_iter_pages_across_2000_record_batches(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(accounts=4500)
    sf = sf_client(sb)

    ids = [r["Id"] for r in sf.query_all_iter("SELECT Id FROM Account")]

    assert 4500 == len(set(ids))
    pages = [c for c in sb.calls if c.path.startswith("/services/data/vXX.X/query")]
    assert [2000, 2000, 500] == [c.records for c in pages]


def test_query_honours_the_batch_size_query_option(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(accounts=450)
    sf = sf_client(sb)

    first = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"})

    assert 200 == len(first["records"])
    assert 450 == first["totalSize"]
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/")
    assert first["nextRecordsUrl"].endswith("-200")


def test_where_with_format_soql_escapes_and_datetime_literals_filters_rows(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    account_id = next(iter(sandbox.salesforce.objects["Account"]))
    sf.Account.update(account_id, {"Name": 'O\'Neil \\ "Quoted"\nLine'})
    since = datetime(2000, 1, 1, tzinfo=UTC)

    soql = format_soql(
        "SELECT Id, Name FROM Account WHERE Name = {} AND SystemModstamp >= {} AND Id IN {}",
        'O\'Neil \\ "Quoted"\nLine',
        since,
        [account_id, "001000000000000AAA"],
    )
    result = sf.query(soql)

    assert [account_id] == [r["Id"] for r in result["records"]]


def test_where_supports_or_not_like_in_and_order_by(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(profile="enriched")
    sf = sf_client(sandbox)
    accounts = sandbox.salesforce.objects["Account"].values()
    expected = sorted(
        (
            a
            for a in accounts
            if (a["Industry"] in ("Technology", "Retail") or (a["NumberOfEmployees"] or 0) > 1000)
            and not a["Bombora_Surge__c"]
        ),
        key=lambda a: (-(a["NumberOfEmployees"] or -(10**9)), a["Id"]),
    )

    result = sf.query(
        "SELECT Id FROM Account WHERE (Industry IN ('technology', 'Retail') OR NumberOfEmployees "
        "> 1000) AND NOT Bombora_Surge__c = true ORDER BY NumberOfEmployees DESC NULLS LAST, Id"
    )

    assert [a["Id"] for a in expected] == [r["Id"] for r in result["records"]]


def test_count_query_returns_total_size_without_records(sf: Salesforce) -> None:
    result = sf.query("SELECT COUNT() FROM Account WHERE Name LIKE '%a%'")

    assert result["records"] == []
    assert result["totalSize"] > 0


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id, Nope__c FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Account WHERE Name = 'a' AND Industry = 'b' OR Id = 'c'",
            "MALFORMED_QUERY",
        ),
        ("SELECT Id FROM Account WHERE SystemModstamp > '2024-01-01T00:00:00Z'", "MALFORMED_QUERY"),
        ("SELECT Id FROM Nothing__c", "INVALID_TYPE"),
    ],
)
def test_bad_soql_is_a_400_with_the_salesforce_error_code(
    sf: Salesforce, soql: str, code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query(soql)

    assert 400 == raised.value.status
    assert code == raised.value.content[0]["errorCode"]


def test_unknown_column_message_names_field_and_entity(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id, Nope__c FROM Account")

    assert "No such column 'Nope__c' on entity 'Account'" in raised.value.content[0]["message"]


def test_a_stock_org_has_standard_fields_and_standard_picklist_values_only(
    sf: Salesforce,
) -> None:
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}

    assert [] == [name for name, f in fields.items() if f["custom"]]
    assert list(INDUSTRY_VALUES) == [p["value"] for p in fields["Industry"]["picklistValues"]]
    assert "Customer - Direct" in [p["value"] for p in fields["Type"]["picklistValues"]]
    assert fields["LastActivityDate"]["updateable"] is False
    assert fields["SystemModstamp"]["updateable"] is False
    industries = {r["Industry"] for r in sf.query("SELECT Industry FROM Account")["records"]}
    assert industries - {None} <= set(INDUSTRY_VALUES)


def test_the_enriched_profile_adds_the_customers_own_fields(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sf = sf_client(make_sandbox(profile="enriched"))
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}

    assert "multipicklist" == fields["Technologies__c"]["type"]
    assert fields["Technologies__c"]["custom"] is True
    assert ["Low", "Medium", "High"] == [
        p["value"] for p in fields["Credit_Risk__c"]["picklistValues"]
    ]
    assert "Tierwise_Tier__c" not in fields


def test_tierwise_provision_creates_its_fields_and_the_activity_task_key() -> None:
    with provisioned(Sandbox(accounts=5, seed=3)) as sb:
        sf = sf_client(sb)
        account = {f["name"]: f for f in sf.Account.describe()["fields"]}
        task = {f["name"]: f for f in sf.Task.describe()["fields"]}
        event = {f["name"]: f for f in sf.Event.describe()["fields"]}

    assert ["tier_1", "tier_2", "tier_3", "tier_4", "unqualified"] == [
        p["value"] for p in account["Tierwise_Tier__c"]["picklistValues"]
    ]
    assert task["Tierwise_Key__c"]["externalId"] is True
    assert task["Tierwise_Key__c"]["unique"] is True
    assert "Tierwise_Key__c" in event  # an Activity field appears on Task and Event


def test_single_record_update_is_204_and_bumps_system_modstamp(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    account_id = next(iter(sandbox.salesforce.objects["Account"]))
    before = sandbox.salesforce.objects["Account"][account_id]["SystemModstamp"]

    status = sf.Account.update(account_id, {"Industry": "Energy"})

    record = sandbox.salesforce.objects["Account"][account_id]
    assert 204 == status
    assert "Energy" == record["Industry"]
    assert record["SystemModstamp"] > before


def test_write_to_an_unknown_field_is_a_400_invalid_field(sandbox: Sandbox, sf: Salesforce) -> None:
    account_id = next(iter(sandbox.salesforce.objects["Account"]))

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Account.update(account_id, {"Tierwise_Tier__c": "tier_1"})

    assert "INVALID_FIELD" == raised.value.content[0]["errorCode"]


def test_task_create_returns_201_and_derives_is_closed(sandbox: Sandbox, sf: Salesforce) -> None:
    account_id = next(iter(sandbox.salesforce.objects["Account"]))

    result = sf.Task.create(
        {
            "Subject": "Call",
            "Status": "Done",
            "Priority": "High",
            "ActivityDate": "2026-12-01",
            "WhatId": account_id,
        }
    )

    task = sandbox.salesforce.objects["Task"][result["id"]]
    assert result["success"] is True
    assert task["IsClosed"] is True
    assert account_id == task["WhatId"]
    assert account_id == task["AccountId"]
    assert "2026-12-01" == sandbox.salesforce.objects["Account"][account_id]["LastActivityDate"]


def test_task_statuses_are_the_orgs_own_and_an_insert_gets_its_defaults(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    rows = sf.query("SELECT ApiName, IsClosed, IsDefault FROM TaskStatus ORDER BY SortOrder")
    opportunity = next(iter(sandbox.salesforce.objects["Opportunity"].values()))

    created = sf.Task.create({"Subject": "No status given", "WhatId": opportunity["Id"]})
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Task.create({"Subject": "x", "Status": "Not Started"})

    task = sandbox.salesforce.objects["Task"][created["id"]]
    statuses = [(r["ApiName"], r["IsClosed"], r["IsDefault"]) for r in rows["records"]]
    assert ("Open", False, True) == statuses[0]  # not the usual "Not Started"
    assert [s for s, closed, _ in statuses if closed] == ["Done", "Cancelled"]
    assert ("Open", "Normal", False) == (task["Status"], task["Priority"], task["IsClosed"])
    assert opportunity["AccountId"] == task["AccountId"]  # derived from the opportunity
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" == raised.value.content[0]["errorCode"]


def test_the_usual_task_statuses_are_a_switch(make_sandbox: Callable[..., Sandbox]) -> None:
    sf = sf_client(make_sandbox(salesforce_usual_task_statuses=True))
    rows = sf.query("SELECT ApiName FROM TaskStatus WHERE IsDefault = true")["records"]
    assert ["Not Started"] == [r["ApiName"] for r in rows]


def test_upsert_by_external_id_creates_then_updates_then_reports_multiple(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox()
    sf = sf_client(sb)
    visible_field(sf, "Activity.Tierwise_Key__c", KEY_METADATA)

    created = sf.Task.upsert(
        "Tierwise_Key__c/k-1", {"Subject": "A", "Status": "Open", "Priority": "Normal"}
    )
    updated = sf.Task.upsert("Tierwise_Key__c/k-1", {"Subject": "B"})

    tasks = [t for t in sb.salesforce.objects["Task"].values() if t["Tierwise_Key__c"] == "k-1"]
    assert (201, 200) == (created, updated)
    assert ["B"] == [t["Subject"] for t in tasks]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Task.upsert("Nope__c/k-1", {"Subject": "C"})


def test_upsert_on_a_non_unique_external_id_matching_twice_is_300(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox()
    sf = sf_client(sb)
    visible_field(
        sf,
        "Activity.Legacy_Key__c",
        {"label": "Legacy Key", "type": "Text", "length": 40, "externalId": True},
    )
    for _ in range(2):
        sf.Task.create({"Subject": "dup", "Legacy_Key__c": "same"})

    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Task.upsert("Legacy_Key__c/same", {"Subject": "x"})


def test_collections_update_returns_per_record_results_in_order(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    ids = list(sandbox.salesforce.objects["Account"])[:3]
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Account"}, "Id": ids[0], "Industry": "Media"},
            {"attributes": {"type": "Account"}, "Id": ids[1], "Bogus__c": 1},
            {"attributes": {"type": "Account"}, "Id": ids[2], "Rating": "Hot"},
        ],
    }

    results = sf.restful("composite/sobjects", method="PATCH", json=body)

    assert [True, False, True] == [r["success"] for r in results]
    assert "INVALID_FIELD" == results[1]["errors"][0]["statusCode"]
    assert "Media" == sandbox.salesforce.objects["Account"][ids[0]]["Industry"]


def test_collections_all_or_none_rolls_back_every_record(sandbox: Sandbox, sf: Salesforce) -> None:
    ids = list(sandbox.salesforce.objects["Account"])[:2]
    before = sandbox.salesforce.objects["Account"][ids[0]]["Industry"]
    body = {
        "allOrNone": True,
        "records": [
            {"attributes": {"type": "Account"}, "Id": ids[0], "Industry": "Media"},
            {"attributes": {"type": "Account"}, "Id": ids[1], "Bogus__c": 1},
        ],
    }

    results = sf.restful("composite/sobjects", method="PATCH", json=body)

    assert "ALL_OR_NONE_OPERATION_ROLLED_BACK" == results[0]["errors"][0]["statusCode"]
    assert before == sandbox.salesforce.objects["Account"][ids[0]]["Industry"]


def test_collections_reject_201_records_with_exceeded_id_limit(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    account_id = next(iter(sandbox.salesforce.objects["Account"]))
    records = [{"attributes": {"type": "Account"}, "Id": account_id}] * 201

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.restful(
            "composite/sobjects", method="PATCH", json={"allOrNone": False, "records": records}
        )

    assert "EXCEEDED_ID_LIMIT" == raised.value.content[0]["errorCode"]


def test_collections_upsert_reports_created_flags(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox()
    sf = sf_client(sb)
    visible_field(sf, "Activity.Tierwise_Key__c", KEY_METADATA)
    sf.Task.upsert("Tierwise_Key__c/k-1", {"Subject": "old"})
    records = [
        {"attributes": {"type": "Task"}, "Tierwise_Key__c": key, "Subject": key}
        for key in ("k-1", "k-2")
    ]

    results = sf.restful(
        "composite/sobjects/Task/Tierwise_Key__c",
        method="PATCH",
        json={"allOrNone": False, "records": records},
    )

    assert [False, True] == [r["created"] for r in results]
    subjects = sorted(t["Subject"] for t in sb.salesforce.objects["Task"].values())
    assert ["k-1", "k-2"] == subjects


def test_collections_create_enforces_restricted_picklists(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(profile="enriched")
    sf = sf_client(sb)
    account_id = next(iter(sb.salesforce.objects["Account"]))

    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "Id": account_id, "Credit_Risk__c": "Severe"},
                {"attributes": {"type": "Account"}, "Id": account_id, "Industry": "Software"},
            ]
        },
    )

    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" == results[0]["errors"][0]["statusCode"]
    # The standard Industry picklist is not restricted: an unlisted value is stored.
    assert results[1]["success"] is True


def test_tooling_custom_field_becomes_describable_queryable_and_writable(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    result = sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        json={"FullName": "Account.Tierwise_Tier__c", "Metadata": TIER_METADATA},
    )
    ps = permission_set(sf)
    grant(sf, ps, "Account.Tierwise_Tier__c")
    assign(sf, ps)
    account_id = next(iter(sandbox.salesforce.objects["Account"]))
    sf.Account.update(account_id, {"Tierwise_Tier__c": "tier_1"})

    names = {f["name"] for f in sf.Account.describe()["fields"]}
    rows = sf.query("SELECT Id FROM Account WHERE Tierwise_Tier__c = 'tier_1'")["records"]
    assert result["success"] is True
    assert "Tierwise_Tier__c" in names
    assert [account_id] == [r["Id"] for r in rows]


@pytest.mark.parametrize("table", ["Task", "Event"])
def test_tooling_refuses_task_and_event_fields_which_live_on_activity(
    sf: Salesforce, table: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.toolingexecute(
            "sobjects/CustomField",
            method="POST",
            json={**TIERWISE_KEY, "FullName": f"{table}.Tierwise_Key__c"},
        )

    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" == raised.value.content[0]["errorCode"]
    assert f"bad value for restricted picklist field: {table}" in raised.value.content[0]["message"]


def test_an_activity_field_is_on_task_and_event_and_granted_per_object(sf: Salesforce) -> None:
    sf.toolingexecute("sobjects/CustomField", method="POST", json=TIERWISE_KEY)
    ps = permission_set(sf)
    assign(sf, ps)
    with pytest.raises(SalesforceMalformedRequest) as activity_grant:
        sf.FieldPermissions.create(
            {
                "ParentId": ps,
                "SobjectType": "Activity",
                "Field": "Activity.Tierwise_Key__c",
                "PermissionsRead": True,
            }
        )
    grant(sf, ps, "Activity.Tierwise_Key__c")  # Task.Tierwise_Key__c and Event.Tierwise_Key__c

    with pytest.raises(SalesforceMalformedRequest):  # a Tooling object, not plain REST
        sf.query("SELECT Id FROM CustomField WHERE DeveloperName = 'Tierwise_Key'")
    assert {"Tierwise_Key__c"} <= {f["name"] for f in sf.Task.describe()["fields"]}
    assert {"Tierwise_Key__c"} <= {f["name"] for f in sf.Event.describe()["fields"]}
    assert activity_grant.value.content[0]["errorCode"] in (
        "INVALID_FIELD",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    )
    assert 1 == len(
        sf.toolingexecute(
            "query/",
            params={
                "q": "SELECT Id, TableEnumOrId FROM "
                "CustomField WHERE DeveloperName = 'Tierwise_Key'"
            },
        )["records"]
    )


def test_tooling_duplicate_custom_field_is_rejected(sf: Salesforce) -> None:
    sf.toolingexecute("sobjects/CustomField", method="POST", json=TIERWISE_KEY)

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.toolingexecute("sobjects/CustomField", method="POST", json=TIERWISE_KEY)

    assert "DUPLICATE_DEVELOPER_NAME" == raised.value.content[0]["errorCode"]


def test_bad_token_is_401_invalid_session_id_as_a_json_list(sandbox: Sandbox) -> None:
    sf = sf_client(sandbox, token="00Dcanary!not-the-token")

    with pytest.raises(SalesforceExpiredSession) as raised:
        sf.query("SELECT Id FROM Account")

    assert [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}] == (
        raised.value.content
    )


def test_limits_and_the_limit_header_count_every_request(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(salesforce_daily_limit=5)
    sf = sf_client(sb)

    sf.query("SELECT Id FROM Account LIMIT 1")
    limits = sf.limits()

    assert {"Max": 5, "Remaining": 3} == limits["DailyApiRequests"]
    assert (2, 5) == (sf.api_usage["api-usage"].used, sf.api_usage["api-usage"].total)


def test_requests_over_the_daily_limit_get_403_request_limit_exceeded(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    from simple_salesforce.exceptions import SalesforceRefusedRequest

    sb = make_sandbox(salesforce_daily_limit=2)
    sf = sf_client(sb)
    sf.query("SELECT Id FROM Account LIMIT 1")
    sf.query("SELECT Id FROM Account LIMIT 1")

    with pytest.raises(SalesforceRefusedRequest) as raised:
        sf.query("SELECT Id FROM Account LIMIT 1")

    assert "REQUEST_LIMIT_EXCEEDED" == raised.value.content[0]["errorCode"]


def test_keyset_paging_by_id_reads_every_account_once(sandbox: Sandbox, sf: Salesforce) -> None:
    seen: list[str] = []
    last = ""
    while True:
        where = format_soql("WHERE Id > {}", last) if last else ""
        soql = f"SELECT Id FROM Account {where} ORDER BY Id LIMIT 7"  # noqa: S608 - format_soql
        page = [r["Id"] for r in sf.query(soql)["records"]]
        if not page:
            break
        seen += page
        last = page[-1]

    assert sorted(sandbox.salesforce.objects["Account"]) == sorted(seen)
    assert len(seen) == len(set(seen))


def test_a_15_character_id_matches_its_18_character_record(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    account_id = next(iter(sandbox.salesforce.objects["Account"]))

    rows = sf.query(format_soql("SELECT Id FROM Account WHERE Id = {}", account_id[:15]))

    assert [account_id] == [r["Id"] for r in rows["records"]]


def test_rotating_the_token_expires_the_old_session(sandbox: Sandbox) -> None:
    old = sf_client(sandbox)
    new_token = sandbox.rotate_salesforce_token()

    with pytest.raises(SalesforceExpiredSession):
        old.query("SELECT Id FROM Account LIMIT 1")
    rows = sf_client(sandbox, token=new_token).query("SELECT Id FROM Account LIMIT 1")

    assert 1 == rows["totalSize"]
    assert new_token == sandbox.env()["TIERWISE_SALESFORCE__ACCESS_TOKEN"]


def test_a_new_field_stays_hidden_until_a_granting_permission_set_is_assigned(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        json={
            "FullName": "Account.Tierwise_Score__c",
            "Metadata": {"label": "Tierwise Score", "type": "Number", "precision": 5, "scale": 2},
        },
    )
    ps = permission_set(sf)

    def visible() -> bool:
        return "Tierwise_Score__c" in {f["name"] for f in sf.Account.describe()["fields"]}

    created_hidden = visible()
    with pytest.raises(SalesforceMalformedRequest) as no_column:
        sf.query("SELECT Id, Tierwise_Score__c FROM Account LIMIT 1")
    with pytest.raises(SalesforceMalformedRequest) as edit_only:
        sf.FieldPermissions.create(
            {
                "ParentId": ps,
                "SobjectType": "Account",
                "Field": "Account.Tierwise_Score__c",
                "PermissionsEdit": True,
            }
        )
    grant(sf, ps, "Account.Tierwise_Score__c")
    granted_unassigned = visible()
    assign(sf, ps)
    rows = sf.query("SELECT Id, Tierwise_Score__c FROM Account LIMIT 1")["records"]
    with pytest.raises(SalesforceMalformedRequest) as twice:
        assign(sf, ps)

    assert (False, False, True) == (created_hidden, granted_unassigned, visible())
    assert "No such column 'Tierwise_Score__c'" in no_column.value.content[0]["message"]
    assert "FIELD_INTEGRITY_EXCEPTION" == edit_only.value.content[0]["errorCode"]
    assert [None] == [r["Tierwise_Score__c"] for r in rows]
    assert "DUPLICATE_VALUE" == twice.value.content[0]["errorCode"]
    # The Tooling API still knows the field exists while it is hidden (missing vs hidden).
    del sandbox


def test_field_security_enforcement_is_a_switch(make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(salesforce_require_field_permissions=False)
    sf = sf_client(sb)
    sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        json={
            "FullName": "Account.Tierwise_Play__c",
            "Metadata": {"label": "Tierwise Play", "type": "Text", "length": 80},
        },
    )
    assert "Tierwise_Play__c" in {f["name"] for f in sf.Account.describe()["fields"]}


def test_hand_edits_and_automation_stamp_records_differently(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    first, second = list(sandbox.salesforce.objects["Account"])[:2]
    accounts = sandbox.salesforce.objects["Account"]
    before = {
        i: (accounts[i]["LastModifiedDate"], accounts[i]["SystemModstamp"]) for i in (first, second)
    }

    sandbox.salesforce.edit("Account", first, {"Industry": "Retail"})
    sandbox.salesforce.edit("Account", second, {"Industry": "Retail"}, by_user=False)

    assert accounts[first]["LastModifiedDate"] > before[first][0]
    assert before[second][0] == accounts[second]["LastModifiedDate"]
    assert accounts[second]["SystemModstamp"] > before[second][1]
    assert [] == sandbox.calls


def test_an_emulator_failure_answers_500_in_the_salesforce_error_shape(
    sandbox: Sandbox, sf: Salesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simple_salesforce.exceptions import SalesforceGeneralError

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sandbox.salesforce.org, "run_query", broken)

    with pytest.raises(SalesforceGeneralError) as raised:
        sf.query("SELECT Id FROM Account")

    assert 500 == raised.value.status
    assert "UNKNOWN_EXCEPTION" == raised.value.content[0]["errorCode"]


def test_aggregate_count_by_what_id_over_last_n_days(sandbox: Sandbox, sf: Salesforce) -> None:
    from datetime import timedelta

    first, second, third = list(sandbox.salesforce.objects["Account"])[:3]
    today = sandbox.clock.peek().date()
    for what, days_ago in ((first, 0), (first, 5), (second, 3), (second, 45), (third, 60)):
        day = (today - timedelta(days=days_ago)).isoformat()
        sf.Task.create({"Subject": "Call", "WhatId": what, "ActivityDate": day})
    sf.Event.create(
        {
            "Subject": "Demo",
            "WhatId": first,
            "ActivityDate": today.isoformat(),
            "DurationInMinutes": 30,
        }
    )
    soql = format_soql(
        "SELECT WhatId, COUNT(Id) n FROM Task WHERE WhatId IN {} AND ActivityDate = "
        "LAST_N_DAYS:{:literal} GROUP BY WhatId",
        [first, second, third],
        "30",
    )

    tasks = {r["WhatId"]: r["n"] for r in sf.query(soql)["records"]}
    events = sf.query(
        format_soql(
            "SELECT WhatId, COUNT(Id) FROM Event WHERE ActivityDate = TODAY GROUP BY WhatId"
        )
    )
    overdue = sf.query("SELECT COUNT() FROM Task WHERE ActivityDate < TODAY")

    assert {first: 2, second: 1} == tasks
    assert [{"attributes": {"type": "AggregateResult"}, "WhatId": first, "expr0": 1}] == [
        dict(r) | {"attributes": dict(r["attributes"])} for r in events["records"]
    ]
    assert 4 == overdue["totalSize"]


def test_aggregate_with_an_ungrouped_field_is_malformed(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Name, COUNT(Id) FROM Account GROUP BY Industry")

    assert "MALFORMED_QUERY" == raised.value.content[0]["errorCode"]


def test_activity_history_seeds_past_meetings_ending_at_last_activity(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(activity_history=True)
    sf = sf_client(sb)

    rows = sf.query(
        "SELECT WhatId, MAX(ActivityDate) latest, COUNT(Id) n FROM Event GROUP BY WhatId"
    )["records"]

    accounts = sb.salesforce.objects["Account"]
    assert rows
    assert all(accounts[r["WhatId"]]["LastActivityDate"] == r["latest"] for r in rows)
    assert {a["Id"] for a in accounts.values() if a["LastActivityDate"]} == {
        r["WhatId"] for r in rows
    }


def test_a_get_uri_over_16k_characters_is_refused_with_414(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    from simple_salesforce.exceptions import SalesforceGeneralError

    ids = [f"001Hn{i:013d}" for i in range(900)]

    with pytest.raises(SalesforceGeneralError) as raised:
        sf.query(format_soql("SELECT Id FROM Account WHERE Id IN {}", ids))
    fits = sf.query(format_soql("SELECT Id FROM Account WHERE Id IN {}", ids[:200]))

    assert 414 == raised.value.status
    assert 0 == fits["totalSize"]


def test_the_runner_provisions_through_tierwise_not_a_sandbox_schema() -> None:
    # `tierwise sandbox --provisioned`: the CLI hands tierwise's provisioning to the
    # runner (the sandbox itself imports no tierwise).
    import threading

    from tierwise.sandbox import serve_forever
    from tierwise.sync.cli.sandbox_setup import provision_sandbox

    seen: dict[str, object] = {}
    stop = threading.Event()

    def on_started(sb: Sandbox) -> None:
        seen["before"] = "Tierwise_Tier__c" in sb.salesforce.org.schemas["Account"]
        provision_sandbox(sb)
        seen["fields"] = {f["name"] for f in sf_client(sb).Account.describe()["fields"]}
        stop.set()

    serve_forever(5, 3, profile="enriched", on_started=on_started, echo=lambda _: None, stop=stop)

    assert False is seen["before"]
    assert {"Tierwise_Tier__c", "Bombora_Surge__c"} <= seen["fields"]  # type: ignore[operator]  # seen holds object values; this one is a set of names
