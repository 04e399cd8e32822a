"""Salesforce and HubSpot connectors behind one interface (``tierwise.connectors.base.Connector``).

``build_connectors`` is the only constructor the rest of tierwise uses: it validates
configuration (credentials present, every configured field/object name a plain
identifier) without any network call; ``check_access`` and ``validate_schema`` on each
connector then confirm it against the CRM.
"""

from __future__ import annotations

from collections.abc import Mapping

from tierwise.config.settings import HubSpotSettings, SalesforceSettings, Settings
from tierwise.connectors.base import Connector
from tierwise.connectors.errors import ConfigurationError
from tierwise.connectors.retry import RetryPolicy
from tierwise.tiering.model import PipelineStage

__all__ = ["build_connectors"]


def _salesforce_auth_configured(sf: SalesforceSettings) -> bool:
    token = sf.access_token is not None and bool(sf.instance_url)
    password = bool(sf.username) and sf.password is not None
    jwt = bool(sf.username) and sf.consumer_key is not None and sf.private_key_file is not None
    return token or password or jwt


def build_connectors(
    settings: Settings,
    model_fields: Mapping[str, str],
    *,
    customer_tiers: Mapping[str, str] | None = None,
    pipeline_stage: PipelineStage | None = None,
) -> list[Connector]:
    """One connector per configured CRM, Salesforce first; none for a CRM left out.

    ``customer_tiers`` (customer tier id -> label, customer tiers on) adds the customer
    tier fields to what each connector validates, pulls, writes and provisions.
    ``pipeline_stage`` (the model's ``pipeline.stage``) lets each connector derive
    ``open_deals_at_stage`` from its CRM's stage order.
    """
    from tierwise.connectors.hubspot import HubSpotConnector
    from tierwise.connectors.salesforce import SalesforceConnector

    connectors: list[Connector] = []
    sf: SalesforceSettings | None = settings.salesforce
    hs: HubSpotSettings | None = settings.hubspot
    if sf is not None:
        if not _salesforce_auth_configured(sf):
            raise ConfigurationError(
                "Salesforce is configured but has no usable credentials: set "
                "TIERWISE_SALESFORCE__INSTANCE_URL + TIERWISE_SALESFORCE__ACCESS_TOKEN, or "
                "TIERWISE_SALESFORCE__USERNAME + __PASSWORD + __SECURITY_TOKEN, or "
                "TIERWISE_SALESFORCE__USERNAME + __CONSUMER_KEY + __PRIVATE_KEY_FILE",
                system="salesforce",
            )
        connectors.append(
            SalesforceConnector(
                sf,
                model_fields,
                retry_policy=RetryPolicy(sf.max_attempts),
                customer_tiers=customer_tiers,
                pipeline_stage=pipeline_stage,
            )
        )
    if hs is not None:
        if hs.access_token is None or not hs.access_token.get_secret_value():
            raise ConfigurationError(
                "HubSpot is configured but TIERWISE_HUBSPOT__ACCESS_TOKEN is not set",
                system="hubspot",
            )
        connectors.append(
            HubSpotConnector(
                hs,
                model_fields,
                retry_policy=RetryPolicy(hs.max_attempts),
                customer_tiers=customer_tiers,
                pipeline_stage=pipeline_stage,
            )
        )
    if not connectors:
        raise ConfigurationError(
            "No CRM is configured: set TIERWISE_SALESFORCE__* (INSTANCE_URL + ACCESS_TOKEN, "
            "or USERNAME + PASSWORD + SECURITY_TOKEN) and/or TIERWISE_HUBSPOT__ACCESS_TOKEN",
            system="tierwise",
        )
    return connectors
