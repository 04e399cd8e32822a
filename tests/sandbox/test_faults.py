# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Every fault kind, observed through the real clients."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from typing import Any

import pytest
import requests
import urllib3
from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput
from hubspot.crm.companies.exceptions import ApiException, ServiceException
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from tests.sandbox.conftest import hs_client, sf_client
from tierwise.sandbox import FaultRule, Sandbox

QUERY = "SELECT Id FROM Account LIMIT 1"


def test_nth_rule_fires_once_on_the_nth_matching_call(sandbox: Sandbox) -> None:
    sandbox.faults.add(
        FaultRule(
            system="hubspot", method="GET", path=r"/objects/companies$", kind="http_503", nth=2
        )
    )
    api = hs_client(sandbox).crm.companies.basic_api

    api.get_page(limit=1)
    with pytest.raises(ServiceException):
        api.get_page(limit=1)
    api.get_page(limit=1)

    assert [200, 503, 200] == [c.status for c in sandbox.calls]
    assert "http_503" == sandbox.calls[1].fault


def test_probability_rule_is_seeded_and_respects_times(make_sandbox: Any) -> None:
    def fired(seed: int) -> list[int]:
        sb = make_sandbox(seed=seed)
        sb.faults.add(FaultRule(system="salesforce", kind="http_500", probability=0.5, times=3))
        sf = sf_client(sb)
        for _ in range(12):
            with contextlib.suppress(SalesforceGeneralError):
                sf.query(QUERY)
        return [i for i, c in enumerate(sb.calls) if c.status == 500]

    first = fired(3)
    assert first == fired(3)
    assert 3 == len(first)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_salesforce_server_errors_surface_as_general_errors(sandbox: Sandbox, status: int) -> None:
    sandbox.faults.add(FaultRule(system="salesforce", kind=f"http_{status}"))

    with pytest.raises(SalesforceGeneralError) as raised:
        sf_client(sandbox).query(QUERY)

    assert status == raised.value.status


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_hubspot_server_errors_surface_as_service_exceptions(sandbox: Sandbox, status: int) -> None:
    sandbox.faults.add(FaultRule(system="hubspot", kind=f"http_{status}"))

    with pytest.raises(ServiceException) as raised:
        hs_client(sandbox).crm.companies.basic_api.get_page()

    assert status == raised.value.status


def test_hubspot_429_carries_policy_name_and_retry_after(sandbox: Sandbox) -> None:
    sandbox.faults.add(FaultRule(system="hubspot", kind="http_429", retry_after="7"))
    batch = BatchInputSimplePublicObjectBatchInput(inputs=[])

    with pytest.raises(ApiException) as raised:
        hs_client(sandbox).crm.companies.batch_api.update(batch)

    assert 429 == raised.value.status
    assert '"policyName": "TEN_SECONDLY_ROLLING"' in raised.value.body
    assert "7" == raised.value.headers["Retry-After"]


def test_hubspot_daily_limit_is_a_429_with_policy_daily(sandbox: Sandbox) -> None:
    sandbox.faults.add(FaultRule(system="hubspot", kind="daily_limit", retry_after=None))

    with pytest.raises(ApiException) as raised:
        hs_client(sandbox).crm.companies.basic_api.get_page()

    assert 429 == raised.value.status
    assert '"policyName": "DAILY"' in raised.value.body
    assert "Retry-After" not in raised.value.headers


@pytest.mark.parametrize(
    ("kind", "error", "code"),
    [
        ("invalid_session", SalesforceExpiredSession, "INVALID_SESSION_ID"),
        ("request_limit", SalesforceRefusedRequest, "REQUEST_LIMIT_EXCEEDED"),
        ("query_timeout", SalesforceMalformedRequest, "QUERY_TIMEOUT"),
    ],
)
def test_salesforce_error_faults_use_salesforce_bodies(
    sandbox: Sandbox, kind: str, error: type[Exception], code: str
) -> None:
    sandbox.faults.add(FaultRule(system="salesforce", kind=kind))

    with pytest.raises(error) as raised:
        sf_client(sandbox).query(QUERY)

    assert code == raised.value.content[0]["errorCode"]  # type: ignore[attr-defined]  # error is typed type[Exception]; the Salesforce errors carry content


def test_query_timeout_status_is_configurable(sandbox: Sandbox) -> None:
    sandbox.faults.add(FaultRule(system="salesforce", kind="query_timeout", status=500))

    with pytest.raises(SalesforceGeneralError) as raised:
        sf_client(sandbox).query(QUERY)

    assert 500 == raised.value.status


def test_latency_delays_the_answer(make_sandbox: Any) -> None:
    waits: list[float] = []
    sb = make_sandbox(sleep=waits.append)  # the delay asked for, not waited for
    sb.faults.add(FaultRule(system="salesforce", kind="latency", delay_ms=300))

    sf_client(sb).query(QUERY)

    assert [0.3] == waits


def test_timeout_holds_the_request_until_the_client_gives_up(sandbox: Sandbox) -> None:
    sandbox.faults.add(FaultRule(system="salesforce", kind="timeout", nth=1))
    sf = sf_client(sandbox)

    with pytest.raises(requests.exceptions.ReadTimeout):
        sf.query(QUERY, timeout=(2, 0.3))
    after = sf.query(QUERY, timeout=(2, 5))

    assert 1 == after["totalSize"]
    assert [0, 200] == [c.status for c in sandbox.calls]


def test_hubspot_timeout_raises_the_urllib3_read_timeout(sandbox: Sandbox) -> None:
    sandbox.faults.add(FaultRule(system="hubspot", kind="timeout"))

    with pytest.raises((urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.MaxRetryError)):
        hs_client(sandbox).crm.companies.basic_api.get_page(_request_timeout=(2, 0.3))


def test_drop_closes_the_connection_without_an_answer(sandbox: Sandbox) -> None:
    sandbox.faults.add(FaultRule(system="salesforce", kind="drop", nth=1))
    sf = sf_client(sandbox)

    with pytest.raises(requests.exceptions.ConnectionError):
        sf.query(QUERY)

    assert 1 == sf.query(QUERY)["totalSize"]


def test_hubspot_drop_surfaces_as_a_urllib3_protocol_error(sandbox: Sandbox) -> None:
    sandbox.faults.add(FaultRule(system="hubspot", kind="drop"))

    with pytest.raises((urllib3.exceptions.ProtocolError, urllib3.exceptions.MaxRetryError)):
        hs_client(sandbox).crm.companies.basic_api.get_page()


def test_commit_then_drop_applies_the_write_but_loses_the_answer(sandbox: Sandbox) -> None:
    account_id = next(iter(sandbox.salesforce.objects["Account"]))
    sandbox.faults.add(FaultRule(system="salesforce", method="PATCH", kind="commit_then_drop"))

    with pytest.raises(requests.exceptions.ConnectionError):
        sf_client(sandbox).Account.update(account_id, {"Industry": "Logistics"})

    assert "Logistics" == sandbox.salesforce.objects["Account"][account_id]["Industry"]
    assert "commit_then_drop" == sandbox.calls[-1].fault


def test_salesforce_record_error_fails_only_the_named_records(sandbox: Sandbox) -> None:
    ids = list(sandbox.salesforce.objects["Account"])[:3]
    for account_id in ids:
        sandbox.salesforce.objects["Account"][account_id]["Industry"] = "Media"
    sandbox.faults.add(
        FaultRule(
            system="salesforce", path="composite/sobjects", kind="record_error", records=[ids[1]]
        )
    )
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Account"}, "Id": i, "Industry": "Energy"} for i in ids
        ],
    }

    results = sf_client(sandbox).restful("composite/sobjects", method="PATCH", json=body)

    assert [True, False, True] == [r["success"] for r in results]
    assert "UNABLE_TO_LOCK_ROW" == results[1]["errors"][0]["statusCode"]
    industries = [sandbox.salesforce.objects["Account"][i]["Industry"] for i in ids]
    assert ["Energy", "Media", "Energy"] == industries


def test_hubspot_record_error_becomes_a_207_error_entry(sandbox: Sandbox) -> None:
    ids = list(sandbox.hubspot.objects["companies"])[:3]
    sandbox.faults.add(
        FaultRule(
            system="hubspot",
            path="batch/update",
            kind="record_error",
            code="VALIDATION_ERROR",
            records=[ids[2]],
        )
    )

    result = hs_client(sandbox).crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": i, "properties": {"industry": "RETAIL"}} for i in ids]
        )
    )

    assert 1 == result.num_errors
    assert {"ids": [ids[2]]} == result.errors[0].context
    assert sorted(ids[:2]) == sorted(r.id for r in result.results)


def test_record_probability_fails_a_share_of_records(sandbox: Sandbox) -> None:
    ids = list(sandbox.salesforce.objects["Account"])[:40]
    sandbox.faults.add(
        FaultRule(
            system="salesforce",
            path="composite/sobjects",
            kind="record_error",
            record_probability=0.5,
            code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
        )
    )
    body = {"records": [{"attributes": {"type": "Account"}, "Id": i} for i in ids]}

    results = sf_client(sandbox).restful("composite/sobjects", method="PATCH", json=body)

    failed = [r for r in results if not r["success"]]
    assert 5 < len(failed) < 35
    assert {"FIELD_CUSTOM_VALIDATION_EXCEPTION"} == {r["errors"][0]["statusCode"] for r in failed}


def test_unknown_fault_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule(system="hubspot", kind="http_418")


def test_a_held_connection_is_released_when_the_sandbox_stops() -> None:
    sb = Sandbox(accounts=5, seed=1).start()
    sb.faults.add(FaultRule(system="hubspot", kind="timeout"))
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            requests.get(
                sb.hubspot_url + "/crm/v3/objects/companies",
                timeout=(2, 30),
                headers={"Authorization": f"Bearer {sb.hubspot_token}"},
            )
        except requests.exceptions.RequestException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while not sb.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    sb.stop()
    caller.join(timeout=10)

    assert time.monotonic() - started < 5
    assert not caller.is_alive()
    assert isinstance(outcome[0], requests.exceptions.ConnectionError)


def test_a_request_whose_body_stopped_short_is_not_acted_on(sandbox: Sandbox) -> None:
    """A client that gives up mid-body (its timeout) leaves an incomplete request: the
    server closes the connection and changes nothing (a partial body once reached a
    Bulk API job as half a CSV row)."""
    company_id = next(iter(sandbox.hubspot.objects["companies"]))
    update = {"inputs": [{"id": company_id, "properties": {"name": "Half Sent Inc"}}]}
    body = json.dumps(update).encode()
    host, port = sandbox.hubspot_url.removeprefix("http://").split(":")
    sandbox.reset_calls()

    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(
            b"POST /crm/v3/objects/companies/batch/update HTTP/1.1\r\n"
            + f"Host: {host}\r\nAuthorization: Bearer {sandbox.hubspot_token}\r\n".encode()
            + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[: len(body) // 2]
        )
        conn.shutdown(socket.SHUT_WR)
        answer = conn.recv(1024)

    assert b"" == answer
    assert [] == [c for c in sandbox.calls if c.path.endswith("/batch/update")]
    assert "Half Sent Inc" != sandbox.hubspot.objects["companies"][company_id]["properties"]["name"]
