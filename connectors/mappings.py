"""Default field mappings: CRM field names onto the model's canonical names.

The model never names a CRM field; these tables (merged with ``fields`` /
``tierwise_fields`` from settings) are the only place CRM names meet canonical ones.
Standard fields where the CRM has one, custom fields (``__c`` / lowercase custom
properties) where it does not.
"""

from __future__ import annotations

# canonical name -> Salesforce Account field API name: standard fields only (every org has
# them). Custom data (intent, technographics, funding, ...) takes an explicit mapping
# (settings ``fields`` / mapping file); open_pipeline and open_deals are derived from open
# Opportunities by the connector unless mapped to an Account field.
SALESFORCE_ACCOUNT_FIELDS: dict[str, str] = {
    "industry": "Industry",
    "employees": "NumberOfEmployees",
    "annual_revenue": "AnnualRevenue",
    "country": "BillingCountry",
    "last_activity": "LastActivityDate",
}

# Model inputs the Salesforce connector derives from open Opportunities (one relationship
# subquery in the account query) when not mapped to an Account field.
SALESFORCE_DERIVED_INPUTS = ("open_pipeline", "open_deals")

# model input -> {Salesforce stored value: model category}. The stock Industry picklist
# (CRM-API-NOTES §1.17) onto the model's categories; values not listed pass through.
SALESFORCE_VALUE_MAPS: dict[str, dict[str, str]] = {
    "industry": {
        "Technology": "Software",
        "Telecommunications": "Software",
        "Communications": "Media",
        "Electronics": "Manufacturing",
        "Finance": "Financial Services",
        "Banking": "Financial Services",
        "Insurance": "Financial Services",
        "Healthcare": "Healthcare",
        "Biotechnology": "Healthcare",
        "Media": "Media",
        "Entertainment": "Media",
        "Transportation": "Logistics",
        "Shipping": "Logistics",
        "Manufacturing": "Manufacturing",
        "Machinery": "Manufacturing",
        "Chemicals": "Manufacturing",
        "Apparel": "Retail",
        "Retail": "Retail",
        "Food & Beverage": "Retail",
        "Energy": "Energy",
        "Utilities": "Energy",
        "Education": "Education",
        "Government": "Government",
    },
}

# Identity fields every pull reads (not canonical model fields).
SALESFORCE_IDENTITY_FIELDS: dict[str, str] = {
    "id": "Id",
    "name": "Name",
    "website": "Website",
    "owner": "OwnerId",
    "modified": "SystemModstamp",
    "override_tier": "Tierwise_Tier_Override__c",
    "override_until": "Tierwise_Override_Until__c",
}

# tierwise logical field -> Salesforce Account field API name
SALESFORCE_TIERWISE_FIELDS: dict[str, str] = {
    "tier": "Tierwise_Tier__c",
    "score": "Tierwise_Score__c",
    "reason": "Tierwise_Reason__c",
    "play": "Tierwise_Play__c",
    "sla_due": "Tierwise_SLA_Due__c",
    "tier_changed": "Tierwise_Tier_Changed__c",
}

# customer-tier logical field -> Salesforce Account field API name (customer tiers on)
SALESFORCE_CUSTOMER_FIELDS: dict[str, str] = {
    "customer_tier": "Tierwise_Customer_Tier__c",
    "customer_score": "Tierwise_Customer_Score__c",
    "customer_reason": "Tierwise_Customer_Reason__c",
    "customer_play": "Tierwise_Customer_Play__c",
    "customer_tier_changed": "Tierwise_Customer_Tier_Changed__c",
}

SALESFORCE_TASK_KEY_FIELD = "Tierwise_Key__c"

# canonical name -> HubSpot company property
HUBSPOT_COMPANY_FIELDS: dict[str, str] = {
    "industry": "industry",
    "employees": "numberofemployees",
    "annual_revenue": "annualrevenue",
    "country": "country",
    "tech_stack": "web_technologies",  # multi-checkbox, values separated by ';'
    "web_visits": "web_visits_30d",
    "intent_score": "intent_score",
    "intent_surge": "intent_surge",
    "last_activity": "notes_last_updated",
    "last_funding_amount": "last_funding_amount",
    "last_funding_date": "last_funding_date",
    "open_pipeline": "open_pipeline_amount",
    "competitor_customer": "competitor_customer",
    "payment_risk": "payment_risk",
    "health_score": "health_score",
    "product_adoption": "product_adoption",
}

HUBSPOT_IDENTITY_FIELDS: dict[str, str] = {
    "id": "hs_object_id",
    "name": "name",
    "website": "domain",
    "owner": "hubspot_owner_id",
    "modified": "hs_lastmodifieddate",
    "override_tier": "tierwise_tier_override",
    "override_until": "tierwise_override_until",
}

HUBSPOT_TIERWISE_FIELDS: dict[str, str] = {
    "tier": "tierwise_tier",
    "score": "tierwise_score",
    "reason": "tierwise_reason",
    "play": "tierwise_play",
    "sla_due": "tierwise_sla_due",
    "tier_changed": "tierwise_tier_changed",
}

HUBSPOT_CUSTOMER_FIELDS: dict[str, str] = {
    "customer_tier": "tierwise_customer_tier",
    "customer_score": "tierwise_customer_score",
    "customer_reason": "tierwise_customer_reason",
    "customer_play": "tierwise_customer_play",
    "customer_tier_changed": "tierwise_customer_tier_changed",
}

HUBSPOT_TASK_KEY_PROPERTY = "tierwise_key"
HUBSPOT_PROPERTY_GROUP = "tierwise"
