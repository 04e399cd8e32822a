"""Default field mappings: CRM field names onto the model's canonical names.

The model never names a CRM field; these tables (merged with ``fields`` /
``tierwise_fields`` from settings) are the only place CRM names meet canonical ones.
Standard fields where the CRM has one, custom fields (``__c`` / lowercase custom
properties) where it does not.
"""

from __future__ import annotations

# canonical name -> Salesforce Account field API name
SALESFORCE_ACCOUNT_FIELDS: dict[str, str] = {
    "industry": "Industry",
    "employees": "NumberOfEmployees",
    "annual_revenue": "AnnualRevenue",
    "country": "BillingCountry",
    "tech_stack": "Tech_Stack__c",  # multi-select picklist, values separated by ';'
    "web_visits": "Web_Visits_30d__c",
    "intent_score": "Intent_Score__c",
    "intent_surge": "Intent_Surge__c",
    "last_activity": "LastActivityDate",
    "last_funding_amount": "Last_Funding_Amount__c",
    "last_funding_date": "Last_Funding_Date__c",
    "open_pipeline": "Open_Pipeline__c",
    "competitor_customer": "Competitor_Customer__c",
    "payment_risk": "Payment_Risk__c",
    # Customer-success fields, read for customer tiers.
    "health_score": "Health_Score__c",
    "product_adoption": "Product_Adoption__c",
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
