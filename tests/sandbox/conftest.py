from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hubspot
import pytest
import requests
from simple_salesforce import Salesforce

from tierwise.sandbox import Sandbox
from tierwise.sandbox.pytest_plugin import make_sandbox, salesforce_session, sandbox

__all__ = ["make_sandbox", "sandbox"]


_SESSIONS: list[requests.Session] = []


def sf_client(sb: Sandbox, **kwargs: Any) -> Salesforce:
    session = salesforce_session(sb)
    _SESSIONS.append(session)
    return Salesforce(
        instance_url=sb.salesforce_url,
        session_id=kwargs.pop("token", sb.salesforce_token),
        session=session,
        **kwargs,
    )


@pytest.fixture(autouse=True)
def _close_sessions() -> Iterator[None]:
    """Client sockets are closed after each test (unclosed sockets warn, warnings fail)."""
    yield
    while _SESSIONS:
        _SESSIONS.pop().close()


def hs_client(sb: Sandbox, token: str | None = None) -> hubspot.HubSpot:
    from urllib3.util.retry import Retry

    return hubspot.HubSpot(
        access_token=token or sb.hubspot_token, host=sb.hubspot_url, retry=Retry(total=0)
    )


@pytest.fixture
def sf(sandbox: Sandbox) -> Salesforce:
    return sf_client(sandbox)


@pytest.fixture
def hs(sandbox: Sandbox) -> hubspot.HubSpot:
    return hs_client(sandbox)
