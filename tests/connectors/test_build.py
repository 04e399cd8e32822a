# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""build_connectors: which connectors, and configuration rejected before any request."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from tests.connectors.conftest import CANARY_TOKEN
from tierwise.config.settings import HubSpotSettings, SalesforceSettings, Settings
from tierwise.connectors import build_connectors
from tierwise.connectors.errors import ConfigurationError
from tierwise.connectors.hubspot import HubSpotConnector
from tierwise.connectors.salesforce import SalesforceConnector

MODEL_FIELDS = {"industry": "string", "employees": "number", "tech_stack": "list"}


def sf_settings(**kw: Any) -> SalesforceSettings:
    return SalesforceSettings(
        instance_url="https://example.my.salesforce.com",
        access_token=SecretStr(CANARY_TOKEN),
        **kw,
    )


def hs_settings(**kw: Any) -> HubSpotSettings:
    return HubSpotSettings(access_token=SecretStr(CANARY_TOKEN), **kw)


def test_salesforce_comes_first_when_both_crms_are_configured() -> None:
    settings = Settings(salesforce=sf_settings(), hubspot=hs_settings())
    connectors = build_connectors(settings, MODEL_FIELDS)
    assert ["salesforce", "hubspot"] == [c.system for c in connectors]
    assert isinstance(connectors[0], SalesforceConnector)
    assert isinstance(connectors[1], HubSpotConnector)


def test_a_crm_left_out_gets_no_connector() -> None:
    connectors = build_connectors(Settings(hubspot=hs_settings()), MODEL_FIELDS)
    assert ["hubspot"] == [c.system for c in connectors]


def test_no_crm_configured_names_the_settings_to_set() -> None:
    with pytest.raises(ConfigurationError) as caught:
        build_connectors(Settings(), MODEL_FIELDS)
    assert "TIERWISE_SALESFORCE__" in str(caught.value)
    assert "TIERWISE_HUBSPOT__ACCESS_TOKEN" in str(caught.value)


def test_salesforce_without_credentials_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="TIERWISE_SALESFORCE__ACCESS_TOKEN"):
        build_connectors(Settings(salesforce=SalesforceSettings()), MODEL_FIELDS)


@pytest.mark.parametrize(
    "settings",
    [
        Settings(salesforce=sf_settings(fields={"industry": "Tier__c FROM Account--"})),
        Settings(salesforce=sf_settings(tierwise_fields={"tier": "Tier__c, Name"})),
        Settings(salesforce=sf_settings(account_object="Account WHERE Id != null")),
        Settings(salesforce=sf_settings(fields={"industry": "1Industry"})),
        Settings(hubspot=hs_settings(fields={"industry": "industry&limit=1"})),
        Settings(hubspot=hs_settings(tierwise_fields={"tier": "tier tier"})),
    ],
)
def test_field_and_object_names_that_are_not_plain_identifiers_are_rejected_at_start_up(
    settings: Settings,
) -> None:
    with pytest.raises(ConfigurationError, match="plain field/object name"):
        build_connectors(settings, MODEL_FIELDS)


def test_only_mapped_fields_the_model_uses_are_pulled() -> None:
    (connector,) = build_connectors(Settings(salesforce=sf_settings()), MODEL_FIELDS)
    assert isinstance(connector, SalesforceConnector)
    # tech_stack has no standard Salesforce field: unmapped by default, scored as missing.
    assert {"industry", "employees"} == set(connector.model_fields)
    assert {"tech_stack": "not mapped"} == connector.unmapped_inputs()
    soql = connector.account_soql(None)
    assert "NumberOfEmployees" in soql
    assert "AnnualRevenue" not in soql


def test_an_unknown_model_field_type_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown type"):
        build_connectors(Settings(hubspot=hs_settings()), {"industry": "text"})


def test_no_secret_appears_in_reprs_of_settings_or_connectors() -> None:
    settings = Settings(salesforce=sf_settings(), hubspot=hs_settings())
    connectors = build_connectors(settings, MODEL_FIELDS)
    for text in [repr(settings), str(settings), *(repr(c) for c in connectors)]:
        assert CANARY_TOKEN[:12] not in text
