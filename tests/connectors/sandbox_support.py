"""Helpers for connector tests that run against the sandbox over loopback."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from tierwise.config.settings import HubSpotSettings, SalesforceSettings
from tierwise.connectors.hubspot import HubSpotConnector
from tierwise.connectors.retry import RetryPolicy
from tierwise.connectors.salesforce import SalesforceConnector

# The default model's canonical fields (DESIGN.md).
MODEL_FIELDS: dict[str, str] = {
    "industry": "string",
    "employees": "number",
    "annual_revenue": "number",
    "country": "string",
    "tech_stack": "list",
    "web_visits": "number",
    "intent_score": "number",
    "intent_surge": "bool",
    "last_activity": "date",
    "last_funding_amount": "number",
    "last_funding_date": "date",
    "open_pipeline": "number",
    "competitor_customer": "bool",
    "payment_risk": "string",
}

TIERS = {
    "tier_1": "Strategic",
    "tier_2": "Core",
    "tier_3": "Programmatic",
    "tier_4": "Nurture",
    "unqualified": "Unqualified",
}


OPENED: list[Any] = []


def close_all() -> None:
    while OPENED:
        OPENED.pop().close()


def salesforce(sb: Any, *, attempts: int = 4, login: Any = None, **kw: Any) -> SalesforceConnector:
    settings = SalesforceSettings(
        instance_url=sb.salesforce_url,
        access_token=None if login else SecretStr(sb.salesforce_token),
        ca_bundle=sb.ca_file,
        **kw,
    )
    connector = SalesforceConnector(
        settings,
        MODEL_FIELDS,
        login=login,
        retry_policy=RetryPolicy(max_attempts=attempts),
    )
    OPENED.append(connector)
    return connector


def salesforce_login(sb: Any) -> Any:
    """A stand-in for the SOAP/OAuth login: hands out the sandbox's session id."""
    host = sb.salesforce_url.removeprefix("https://")
    logins: list[str] = []

    def login() -> tuple[str, str]:
        logins.append(host)
        return sb.salesforce_token, host

    login.calls = logins  # type: ignore[attr-defined]  # a function attribute tests read back
    return login


def hubspot(
    sb: Any, *, attempts: int = 4, search_limiter: Any = None, limiter: Any = None, **kw: Any
) -> HubSpotConnector:
    settings = HubSpotSettings(
        access_token=SecretStr(sb.hubspot_token), base_url=sb.hubspot_url, **kw
    )
    connector = HubSpotConnector(
        settings,
        MODEL_FIELDS,
        retry_policy=RetryPolicy(max_attempts=attempts),
        search_limiter=search_limiter,
        limiter=limiter,
    )
    OPENED.append(connector)
    return connector


def calls(sb: Any, system: str, method: str, fragment: str) -> list[Any]:
    return [c for c in sb.calls if c.system == system and c.method == method and fragment in c.path]
