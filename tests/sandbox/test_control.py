"""The test-only controls a sandbox in another process is driven through (issue 15)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tierwise.sandbox.pytest_plugin import SandboxFactory


def control(url: str, method: str, path: str, token: str, body: Any = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback sandbox
        f"{url}/__sandbox/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def test_controls_move_the_clock_read_and_reset_the_ledger_and_list_seed_ids(
    make_sandbox: SandboxFactory,
) -> None:
    sb = make_sandbox(accounts=5, test_controls=True)
    before = sb.clock.peek()
    moved = control(sb.hubspot_url, "POST", "clock/advance", sb.hubspot_token, {"seconds": 3600})
    assert (sb.clock.peek() - before).total_seconds() >= 3600
    assert control(sb.hubspot_url, "GET", "clock", sb.hubspot_token)["now"] >= moved["now"]
    listing = urllib.request.Request(  # noqa: S310 - loopback; one CRM call for the ledger
        f"{sb.hubspot_url}/crm/v3/objects/companies?limit=2",
        headers={"Authorization": f"Bearer {sb.hubspot_token}"},
    )
    with urllib.request.urlopen(listing, timeout=10) as answer:  # noqa: S310 - loopback
        answer.read()
    calls = control(sb.hubspot_url, "GET", "calls", sb.hubspot_token)["calls"]
    # The CRM call is in the ledger; the control calls are not (they are not CRM calls).
    assert calls == [["hubspot", "GET", "/crm/v3/objects/companies", 2, 200]]
    control(sb.hubspot_url, "POST", "calls/reset", sb.hubspot_token, {})
    assert sb.calls == []
    ids = control(sb.hubspot_url, "GET", "companies?count=3", sb.hubspot_token)["ids"]
    assert [list(pair) for pair in list(sb.company_ids.values())[:3]] == ids


def test_controls_refuse_a_caller_without_the_hubspot_token(make_sandbox: SandboxFactory) -> None:
    sb = make_sandbox(accounts=1, test_controls=True)
    with pytest.raises(urllib.error.HTTPError) as refused:
        control(sb.hubspot_url, "GET", "calls", "pat-wrong")
    refused.value.close()
    assert refused.value.code == 401


def test_controls_are_off_unless_asked_for(make_sandbox: SandboxFactory) -> None:
    sb = make_sandbox(accounts=1)
    with pytest.raises(urllib.error.HTTPError) as answered:
        control(sb.hubspot_url, "POST", "clock/advance", sb.hubspot_token, {"seconds": 60})
    answered.value.close()
    # Without the switch the path is just an unknown HubSpot path, and it is counted.
    assert answered.value.code == 404
    assert len(sb.calls) == 1
