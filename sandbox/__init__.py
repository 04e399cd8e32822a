"""A local Salesforce + HubSpot API emulator: seeded data, fault injection, call accounting."""
