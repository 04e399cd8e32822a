"""Salesforce connector (simple-salesforce)."""

from __future__ import annotations

from tierwise.connectors.salesforce.connector import SalesforceConnector, make_login

__all__ = ["SalesforceConnector", "make_login"]
