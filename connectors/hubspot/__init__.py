"""HubSpot connector (hubspot-api-client)."""

from __future__ import annotations

from tierwise.connectors.hubspot.connector import HubSpotConnector

__all__ = ["HubSpotConnector"]
