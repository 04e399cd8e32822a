# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Salesforce request shapes and error handling, against `responses` (narrow unit tests).

The sandbox-backed tests cover behaviour end to end; these pin the exact wire shapes:
SOQL built by format_soql, batch-size header, timeouts on every request, Collections
bodies, per-record retries, one re-authentication and one replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from pydantic import SecretStr

from tests.connectors.conftest import CANARY_TOKEN, SleepRecorder
from tierwise.config.settings import SalesforceSettings
from tierwise.connectors.base import AccountUpdate, TaskRequest
from tierwise.connectors.errors import (
    AuthenticationError,
    FatalCrmError,
    QuotaExhaustedError,
    SchemaError,
)
from tierwise.connectors.retry import RetryPolicy
from tierwise.connectors.salesforce import SalesforceConnector

BASE = "https://sf.test/services/data/v59.0/"
LIMIT_HEADER = {"Sforce-Limit-Info": "api-usage=100/10000"}
MODEL_FIELDS = {
    "industry": "string",
    "employees": "number",
    "tech_stack": "list",
    "intent_surge": "bool",
    "last_funding_date": "date",
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# Custom data takes an explicit mapping: the default mapping names standard fields only.
CUSTOM_FIELDS = {
    "tech_stack": "Tech_Stack__c",
    "intent_surge": "Intent_Surge__c",
    "last_funding_date": "Last_Funding_Date__c",
}


def connector(login: Any = None, **kw: Any) -> SalesforceConnector:
    kw.setdefault("api_version", "59.0")
    kw.setdefault("fields", CUSTOM_FIELDS)
    settings = SalesforceSettings(
        instance_url="https://sf.test",
        access_token=None if login else SecretStr(CANARY_TOKEN),
        connect_timeout=2.0,
        read_timeout=7.0,
        **kw,
    )
    return SalesforceConnector(
        settings, MODEL_FIELDS, login=login, retry_policy=RetryPolicy(max_attempts=3)
    )


def sf_record(i: int, **extra: Any) -> dict[str, Any]:
    record = {
        "attributes": {"type": "Account"},
        "Id": f"001{i:015d}",
        "Name": f"Acme {i}",
        "Website": f"https://www.acme{i}.com/",
        "OwnerId": "005000000000001",
        "SystemModstamp": "2024-01-02T10:00:00.000+0000",
        "Industry": "Software",
        "NumberOfEmployees": 120,
        "Tech_Stack__c": "AWS;Okta",
        "Intent_Surge__c": True,
        "Last_Funding_Date__c": "2023-05-01",
        "Tierwise_Tier__c": "tier_2",
        "Tierwise_Score__c": 71.5,
        "Tierwise_SLA_Due__c": None,
    }
    record.update(extra)
    return record


def test_the_pull_query_quotes_the_watermark_via_format_soql_and_pages_at_2000(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        BASE + "query/",
        json={
            "totalSize": 3,
            "done": False,
            "nextRecordsUrl": "/services/data/v59.0/query/01g-2000",
            "records": [sf_record(1), sf_record(2)],
        },
        headers=LIMIT_HEADER,
    )
    rsps.get(
        BASE + "query/01g-2000",
        json={"totalSize": 3, "done": True, "records": [sf_record(3, NumberOfEmployees="n/a")]},
        headers=LIMIT_HEADER,
    )
    since = datetime(2024, 1, 2, 3, 4, 5, 999, tzinfo=UTC)

    accounts = list(connector().pull_accounts(since))

    soql = parse_qs(urlparse(rsps.calls[0].request.url).query)["q"][0]
    assert soql.endswith(
        "WHERE SystemModstamp >= 2024-01-02T03:04:05+00:00 ORDER BY SystemModstamp, Id"
    )
    assert soql.startswith("SELECT Id, Name, Website, OwnerId, SystemModstamp, ")
    for call in rsps.calls:
        assert "batchSize=2000" == call.request.headers["Sforce-Query-Options"]
        assert (2.0, 7.0) == call.request.req_kwargs["timeout"]
    assert 3 == len(accounts)
    first = accounts[0]
    assert "acme1.com" == first.domain
    assert {
        "industry": "Software",
        "employees": 120.0,
        "tech_stack": ("AWS", "Okta"),
        "intent_surge": True,
        "last_funding_date": date(2023, 5, 1),
    } == dict(first.fields)
    assert "tier_2" == first.written.tier
    assert 71.5 == first.written.score
    assert None is accounts[2].fields["employees"]
    assert "employees" in accounts[2].invalid


def test_a_read_that_times_out_midway_fails_instead_of_returning_a_partial_pull(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        BASE + "query/",
        json={
            "totalSize": 4,
            "done": False,
            "nextRecordsUrl": "/services/data/v59.0/query/01g-2000",
            "records": [sf_record(1)],
        },
    )
    rsps.get(
        BASE + "query/01g-2000",
        status=400,
        json=[
            {
                "errorCode": "QUERY_TIMEOUT",
                "message": "Your query request was running for too long.",
            }
        ],
    )
    pulled = connector().pull_accounts(None)
    assert "001000000000000001" == next(pulled).crm_id
    with pytest.raises(FatalCrmError, match="QUERY_TIMEOUT"):
        next(pulled)


def test_writes_go_out_as_collections_of_200_with_only_the_changed_fields(
    rsps: responses.RequestsMock,
) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        records = json.loads(request.body)["records"]
        return (
            200,
            LIMIT_HEADER,
            json.dumps([{"id": r["id"], "success": True, "errors": []} for r in records]),
        )

    rsps.add_callback(responses.PATCH, BASE + "composite/sobjects", callback=answer)
    updates = [
        AccountUpdate(f"001{i:015d}", {"tier": "tier_1", "sla_due": date(2024, 2, 1)})
        for i in range(450)
    ]
    updates.append(AccountUpdate("001nochange", {}))

    outcome = connector().write_accounts(updates)

    bodies = [json.loads(c.request.body) for c in rsps.calls]
    assert [200, 200, 50] == [len(b["records"]) for b in bodies]
    assert all(b["allOrNone"] is False for b in bodies)
    assert {
        "attributes": {"type": "Account"},
        "id": "001000000000000000",
        "Tierwise_Tier__c": "tier_1",
        "Tierwise_SLA_Due__c": "2024-02-01",
    } == bodies[0]["records"][0]
    assert 450 == len(outcome.written)
    assert [] == outcome.failed


def test_a_locked_row_is_retried_alone_and_a_validation_failure_is_reported(
    rsps: responses.RequestsMock, sleeps: SleepRecorder
) -> None:
    seen: list[list[str]] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        ids = [r["id"] for r in json.loads(request.body)["records"]]
        seen.append(ids)
        results = []
        for rid in ids:
            if rid == "001lock" and len(seen) == 1:
                results.append(
                    {
                        "success": False,
                        "errors": [
                            {"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain lock"}
                        ],
                    }
                )
            elif rid == "001bad":
                results.append(
                    {
                        "success": False,
                        "errors": [
                            {"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Region"}
                        ],
                    }
                )
            else:
                results.append({"id": rid, "success": True, "errors": []})
        return 200, LIMIT_HEADER, json.dumps(results)

    rsps.add_callback(responses.PATCH, BASE + "composite/sobjects", callback=answer)
    updates = [AccountUpdate(i, {"tier": "tier_3"}) for i in ("001a", "001lock", "001bad")]

    outcome = connector().write_accounts(updates)

    assert [["001a", "001lock", "001bad"], ["001lock"]] == seen
    assert ["001a", "001lock"] == outcome.written
    assert ["001bad"] == [f.crm_id for f in outcome.failed]
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in outcome.failed[0].reason
    assert 1 == len(sleeps.delays)


def test_a_chunk_whose_rows_stay_locked_costs_at_most_the_attempt_budget(
    rsps: responses.RequestsMock, sleeps: SleepRecorder
) -> None:
    sent: list[int] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        records = json.loads(request.body)["records"]
        sent.append(len(records))
        if len(sent) == 2:
            return 503, {}, json.dumps([{"errorCode": "SERVER_UNAVAILABLE", "message": "busy"}])
        locked = {
            "success": False,
            "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain lock"}],
        }
        return 200, LIMIT_HEADER, json.dumps([locked for _ in records])

    rsps.add_callback(responses.PATCH, BASE + "composite/sobjects", callback=answer)
    updates = [AccountUpdate(f"001{i:03d}", {"tier": "tier_3"}) for i in range(200)]

    outcome = connector().write_accounts(updates)  # max_attempts=3

    assert [200, 200, 200] == sent
    assert 2 == len(sleeps.delays)
    assert [] == outcome.written
    assert 200 == len(outcome.failed)
    assert all(f.transient and "UNABLE_TO_LOCK_ROW" in f.reason for f in outcome.failed)


def test_a_row_locked_in_every_answer_is_sent_four_times_as_before_the_one_engine(
    rsps: responses.RequestsMock, sleeps: SleepRecorder
) -> None:
    sent: list[list[str]] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        ids = [r["id"] for r in json.loads(request.body)["records"]]
        sent.append(ids)
        results = [
            {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "x"}]}
            if rid == "001lock"
            else {"id": rid, "success": True, "errors": []}
            for rid in ids
        ]
        return 200, LIMIT_HEADER, json.dumps(results)

    rsps.add_callback(responses.PATCH, BASE + "composite/sobjects", callback=answer)
    settings = SalesforceSettings(
        instance_url="https://sf.test",
        api_version="59.0",
        access_token=SecretStr(CANARY_TOKEN),
        fields=CUSTOM_FIELDS,
    )
    sf = SalesforceConnector(settings, MODEL_FIELDS)  # the default budget of 5

    outcome = sf.write_accounts([AccountUpdate(i, {"tier": "tier_1"}) for i in ("001a", "001lock")])

    assert [["001a", "001lock"], ["001lock"], ["001lock"], ["001lock"]] == sent
    assert ["001a"] == outcome.written
    assert [("001lock", True)] == [(f.crm_id, f.transient) for f in outcome.failed]


def test_a_session_expiring_in_a_requeue_round_reauthenticates_within_the_same_budget(
    rsps: responses.RequestsMock, sleeps: SleepRecorder
) -> None:
    seen: list[list[str]] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        ids = [r["id"] for r in json.loads(request.body)["records"]]
        seen.append(ids)
        if len(seen) == 2:
            return (
                401,
                {},
                json.dumps([{"errorCode": "INVALID_SESSION_ID", "message": "Session expired"}]),
            )
        results = [
            {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "x"}]}
            if rid == "001lock" and len(seen) == 1
            else {"id": rid, "success": True, "errors": []}
            for rid in ids
        ]
        return 200, LIMIT_HEADER, json.dumps(results)

    rsps.add_callback(responses.PATCH, BASE + "composite/sobjects", callback=answer)
    tokens = iter(["first-session", "second-session"])
    sf = connector(login=lambda: (next(tokens), "sf.test"))

    outcome = sf.write_accounts([AccountUpdate(i, {"tier": "tier_1"}) for i in ("001a", "001lock")])

    assert [["001a", "001lock"], ["001lock"], ["001lock"]] == seen
    assert ["001a", "001lock"] == outcome.written
    assert 2 == sf.usage().calls["login"]
    assert 1 == len(sleeps.delays)


def test_a_write_stops_as_deferred_before_passing_the_daily_api_share(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(BASE + "limits/", json={"DailyApiRequests": {"Max": 10000, "Remaining": 5000}})
    sf = connector(max_daily_api_share=0.5)
    sf.check_access()
    with pytest.raises(QuotaExhaustedError, match="MAX_DAILY_API_SHARE"):
        sf.write_accounts([AccountUpdate("001a", {"tier": "tier_1"})])
    assert 1 == len(rsps.calls)
    assert (5000, 10000) == (sf.usage().daily_used, sf.usage().daily_max)


def test_request_limit_exceeded_is_quota_exhaustion_without_a_relogin(
    rsps: responses.RequestsMock,
) -> None:
    logins: list[int] = []
    rsps.patch(
        BASE + "composite/sobjects",
        status=403,
        json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit"}],
    )
    sf = connector(login=lambda: logins.append(1) or ("tok", "sf.test"))
    with pytest.raises(QuotaExhaustedError):
        sf.write_accounts([AccountUpdate("001a", {"tier": "tier_1"})])
    assert 1 == len(logins)  # the initial login only
    assert 1 == len(rsps.calls)


def test_an_expired_session_is_reauthenticated_once_and_the_call_replayed_once(
    rsps: responses.RequestsMock,
) -> None:
    tokens = iter(["first-session", "second-session", "third-session"])
    rsps.patch(
        BASE + "composite/sobjects",
        status=401,
        json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired"}],
    )
    rsps.patch(BASE + "composite/sobjects", json=[{"id": "001a", "success": True, "errors": []}])
    sf = connector(login=lambda: (next(tokens), "sf.test"))

    outcome = sf.write_accounts([AccountUpdate("001a", {"tier": "tier_1"})])

    assert ["001a"] == outcome.written
    auths = [c.request.headers["Authorization"] for c in rsps.calls]
    assert ["Bearer first-session", "Bearer second-session"] == auths
    assert 2 == sf.usage().calls["login"]


def test_a_session_that_expires_again_after_reauthentication_is_an_authentication_error(
    rsps: responses.RequestsMock,
) -> None:
    rsps.patch(
        BASE + "composite/sobjects",
        status=401,
        json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired"}],
    )
    sf = connector(login=lambda: ("session", "sf.test"))
    with pytest.raises(AuthenticationError):
        sf.write_accounts([AccountUpdate("001a", {"tier": "tier_1"})])
    assert 2 == len(rsps.calls)


def test_a_bare_access_token_that_expires_raises_without_echoing_the_token(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        BASE + "limits/",
        status=401,
        json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}],
    )
    with pytest.raises(AuthenticationError) as caught:
        connector().check_access()
    message = str(caught.value)
    assert "Salesforce rejected the access token" in message
    assert "TIERWISE_SALESFORCE__ACCESS_TOKEN" in message
    assert CANARY_TOKEN[:10] not in message
    assert caught.value.__cause__ is None


def test_password_login_posts_the_soap_login_and_never_leaks_the_password(
    rsps: responses.RequestsMock,
) -> None:
    # Legacy login: SOAP login() exists only up to API 64.0, so the login call pins it.
    rsps.post(
        "https://login.salesforce.com/services/Soap/u/64.0",
        status=500,
        body="<soapenv:Envelope><soapenv:Body><soapenv:Fault><faultcode>"
        "INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username"
        "</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
    )
    settings = SalesforceSettings(
        username="ops@example.com",
        password=SecretStr("canary-pw-1a2b3c4d5e6f"),
        security_token=SecretStr("canary-st-0a9b8c7d"),
    )
    sf = SalesforceConnector(settings, MODEL_FIELDS)
    with pytest.raises(AuthenticationError) as caught:
        sf.check_access()
    assert "canary-pw" not in str(caught.value)
    assert "canary-st" not in str(caught.value)
    assert (5.0, 60.0) == rsps.calls[0].request.req_kwargs["timeout"]


def describe(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "Account", "fields": fields}


def field(name: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "updateable": True, "externalId": False, **kw}


ACCOUNT_FIELDS = [
    field(n)
    for n in (
        "Id",
        "Name",
        "Website",
        "OwnerId",
        "SystemModstamp",
        "Industry",
        "NumberOfEmployees",
        "Tech_Stack__c",
        "Intent_Surge__c",
        "Last_Funding_Date__c",
        "Tierwise_Tier__c",
        "Tierwise_Score__c",
        "Tierwise_Reason__c",
        "Tierwise_Play__c",
        "Tierwise_SLA_Due__c",
        "Tierwise_Tier_Changed__c",
        "Tierwise_Tier_Override__c",
        "Tierwise_Override_Until__c",
    )
]


def test_validate_schema_names_the_missing_field_and_the_fix(
    rsps: responses.RequestsMock,
) -> None:
    fields = [f for f in ACCOUNT_FIELDS if f["name"] != "Tierwise_Tier__c"]
    rsps.get(BASE + "sobjects/Account/describe", json=describe(fields))
    rsps.get(
        BASE + "sobjects/Task/describe", json=describe([field("Tierwise_Key__c", externalId=True)])
    )
    rsps.get(BASE + "tooling/query/", json={"totalSize": 0, "done": True, "records": []})
    with pytest.raises(SchemaError) as caught:
        connector().validate_schema()
    assert (
        "Salesforce Account field Tierwise_Tier__c does not exist; run 'tierwise "
        "provision' to create it"
    ) == str(caught.value)
    lookup = parse_qs(urlparse(rsps.calls[2].request.url).query)["q"][0]
    assert (
        "SELECT DeveloperName, TableEnumOrId FROM CustomField WHERE DeveloperName IN "
        "('Tierwise_Tier')"
    ) == lookup


def test_validate_schema_tells_a_hidden_field_from_a_missing_one(
    rsps: responses.RequestsMock,
) -> None:
    fields = [f for f in ACCOUNT_FIELDS if f["name"] != "Tierwise_Tier__c"]
    rsps.get(BASE + "sobjects/Account/describe", json=describe(fields))
    rsps.get(
        BASE + "sobjects/Task/describe", json=describe([field("Tierwise_Key__c", externalId=True)])
    )
    rsps.get(
        BASE + "tooling/query/",
        json={
            "totalSize": 1,
            "done": True,
            "records": [{"DeveloperName": "Tierwise_Tier", "TableEnumOrId": "Account"}],
        },
    )
    with pytest.raises(SchemaError) as caught:
        connector().validate_schema()
    message = str(caught.value)
    assert "Tierwise_Tier__c exists but is not visible to the API user" in message
    assert "Tierwise_Integration" in message
    assert "does not exist" not in message


def test_validate_schema_rejects_a_read_only_written_field_and_a_plain_task_key(
    rsps: responses.RequestsMock,
) -> None:
    fields = [field(f["name"], updateable=f["name"] != "Tierwise_Score__c") for f in ACCOUNT_FIELDS]
    rsps.get(BASE + "sobjects/Account/describe", json=describe(fields))
    rsps.get(BASE + "sobjects/Task/describe", json=describe([field("Tierwise_Key__c")]))
    with pytest.raises(SchemaError) as caught:
        connector().validate_schema()
    assert "Tierwise_Score__c is visible but not editable" in str(caught.value)
    assert "Tierwise_Key__c is not an External ID" in str(caught.value)


def test_validate_schema_passes_on_a_provisioned_org(rsps: responses.RequestsMock) -> None:
    rsps.get(BASE + "sobjects/Account/describe", json=describe(ACCOUNT_FIELDS))
    rsps.get(
        BASE + "sobjects/Task/describe", json=describe([field("Tierwise_Key__c", externalId=True)])
    )
    connector().validate_schema()


def test_tasks_are_upserted_by_external_id_and_existing_keys_are_left_alone(
    rsps: responses.RequestsMock,
) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        soql = parse_qs(urlparse(request.url).query)["q"][0]
        rows = (
            [
                {"ApiName": "Open", "IsClosed": False, "IsDefault": True},
                {"ApiName": "Done", "IsClosed": True, "IsDefault": False},
            ]
            if ("TaskStatus" in soql)
            else [{"Id": "00T1", "Tierwise_Key__c": "k-1", "WhatId": "001a", "ActivityDate": None}]
        )
        return 200, {}, json.dumps({"totalSize": len(rows), "done": True, "records": rows})

    rsps.add_callback(responses.GET, BASE + "query/", callback=answer)
    rsps.patch(
        BASE + "composite/sobjects/Task/Tierwise_Key__c",
        json=[{"id": "00T2", "success": True, "errors": [], "created": True}],
    )
    tasks = [
        TaskRequest(f"k-{i}", "001a", "005x", f"Call {i}", date(2024, 3, 1), "high", "b")
        for i in (1, 2)
    ]

    outcome = connector().ensure_tasks(tasks)

    soql = parse_qs(urlparse(rsps.calls[0].request.url).query)["q"][0]
    assert soql.endswith("WHERE Tierwise_Key__c IN ('k-1','k-2')")
    statuses = parse_qs(urlparse(rsps.calls[1].request.url).query)["q"][0]
    assert "SELECT ApiName, IsClosed, IsDefault FROM TaskStatus ORDER BY SortOrder" == statuses
    body = json.loads(rsps.calls[2].request.body)
    # The org's default open status, read from TaskStatus, not a hard-coded "Not Started".
    assert [
        {
            "attributes": {"type": "Task"},
            "Tierwise_Key__c": "k-2",
            "Subject": "Call 2",
            "ActivityDate": "2024-03-01",
            "WhatId": "001a",
            "Status": "Open",
            "Priority": "High",
            "Description": "b",
            "OwnerId": "005x",
        }
    ] == body["records"]
    assert {"k-2": "00T2"} == outcome.created
    assert {"k-1": "00T1"} == outcome.existing


def test_provision_creates_only_missing_fields_through_the_tooling_api(
    rsps: responses.RequestsMock,
) -> None:
    present = [
        f for f in ACCOUNT_FIELDS if f["name"] not in ("Tierwise_Tier__c", "Tierwise_Score__c")
    ]
    rsps.get(BASE + "sobjects/Account/describe", json=describe(present))
    rsps.get(
        BASE + "sobjects/Task/describe", json=describe([field("Tierwise_Key__c", externalId=True)])
    )
    rsps.post(
        BASE + "tooling/sobjects/CustomField", json={"id": "00N1", "success": True}, status=201
    )

    steps = connector(permission_set=None).provision(
        {"tier_1": "Strategic", "unqualified": "Unqualified"}, dry_run=False
    )

    created = [s.name for s in steps if not s.exists]
    assert ["Tierwise_Tier__c", "Tierwise_Score__c"] == created
    posts = [json.loads(c.request.body) for c in rsps.calls if c.request.method == "POST"]
    assert "Account.Tierwise_Tier__c" == posts[0]["FullName"]
    values = posts[0]["Metadata"]["valueSet"]["valueSetDefinition"]["value"]
    assert [("tier_1", "Strategic"), ("unqualified", "Unqualified")] == [
        (v["fullName"], v["label"]) for v in values
    ]
    assert {"label": "Tierwise Score", "type": "Number", "precision": 5, "scale": 1} == posts[1][
        "Metadata"
    ]


def test_jwt_bearer_login_exchanges_a_signed_assertion_for_a_session(
    rsps: responses.RequestsMock, tmp_path: Any
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "server.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    rsps.post(
        "https://test.salesforce.com/services/oauth2/token",
        json={"access_token": "jwt-session", "instance_url": "https://sf.test"},
    )
    rsps.get(BASE + "limits/", json={"DailyApiRequests": {"Max": 100, "Remaining": 90}})
    settings = SalesforceSettings(
        username="ops@example.com",
        domain="test",
        api_version="59.0",
        consumer_key=SecretStr("3MVG9-canary-consumer"),
        private_key_file=key_file,
    )
    sf = SalesforceConnector(settings, MODEL_FIELDS)

    sf.check_access()

    form = parse_qs(rsps.calls[0].request.body)
    assert ["urn:ietf:params:oauth:grant-type:jwt-bearer"] == form["grant_type"]
    assert "Bearer jwt-session" == rsps.calls[1].request.headers["Authorization"]
    assert (10, 100) == (sf.usage().daily_used, sf.usage().daily_max)


def test_a_naive_watermark_is_read_as_utc_not_local_time(rsps: responses.RequestsMock) -> None:
    soql = connector().account_soql(datetime(2024, 1, 2, 3, 4, 5))
    assert "SystemModstamp >= 2024-01-02T03:04:05+00:00" in soql


def test_check_access_falls_back_to_describe_without_view_setup_permission(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(
        BASE + "limits/",
        status=403,
        json=[{"errorCode": "INSUFFICIENT_ACCESS", "message": "no View Setup"}],
    )
    rsps.get(BASE + "sobjects/Account/describe", json=describe(ACCOUNT_FIELDS))
    connector().check_access()
    assert [BASE + "limits/", BASE + "sobjects/Account/describe"] == [
        c.request.url for c in rsps.calls
    ]


def test_the_optional_activity_aggregate_counts_tasks_and_events_per_account(
    rsps: responses.RequestsMock,
) -> None:
    queries: list[str] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        soql = parse_qs(urlparse(request.url).query)["q"][0]
        queries.append(soql)
        if soql.startswith("SELECT AccountId"):
            n = 2 if "FROM Task" in soql else 1
            rows = [
                {
                    "attributes": {"type": "AggregateResult"},
                    "AccountId": "001000000000000001",
                    "n": n,
                }
            ]
        else:
            rows = [sf_record(1), sf_record(2)]
        return (
            200,
            LIMIT_HEADER,
            json.dumps({"totalSize": len(rows), "done": True, "records": rows}),
        )

    rsps.add_callback(responses.GET, BASE + "query/", callback=answer)
    settings = SalesforceSettings(
        instance_url="https://sf.test",
        access_token=SecretStr(CANARY_TOKEN),
        api_version="59.0",
        fields=CUSTOM_FIELDS,
        activity_aggregate_days=90,
    )
    fields = {**MODEL_FIELDS, "activity_count": "number"}
    sf = SalesforceConnector(settings, fields)

    accounts = list(sf.pull_accounts(None))

    assert [3.0, 0.0] == [a.fields["activity_count"] for a in accounts]
    # AccountId (not WhatId) also counts activities on the account's contacts/opportunities.
    assert (
        "SELECT AccountId, COUNT(Id) n FROM Event WHERE AccountId IN ('001000000000000001',"
        "'001000000000000002') AND ActivityDate = LAST_N_DAYS:90 GROUP BY AccountId"
    ) == queries[2]


def test_no_activity_aggregate_is_queried_when_the_model_does_not_use_it(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(BASE + "query/", json={"totalSize": 1, "done": True, "records": [sf_record(1)]})
    sf = connector(activity_aggregate_days=90)
    assert 1 == len(list(sf.pull_accounts(None)))
    assert 1 == len(rsps.calls)
