"""Salesforce and HubSpot connectors behind one interface (``connectors.base.Connector``)."""
