"""HubSpot connector (hubspot-api-client)."""

from __future__ import annotations

from connectors.hubspot.connector import HubSpotConnector

__all__ = ["HubSpotConnector"]
