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
# open_deals_at_stage: those at or past the model's pipeline.stage (issue 16).
SALESFORCE_DERIVED_INPUTS = ("open_pipeline", "open_deals", "open_deals_at_stage")

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

# canonical name -> HubSpot company property. Standard properties of every portal only
# (CONTRACT.md item 4, CRM-API-NOTES §2.15); optional inputs (intent_score, ...) have no
# stock property and stay unmapped until the operator maps them (TIERWISE_HUBSPOT__FIELDS
# or the mapping file).
HUBSPOT_COMPANY_FIELDS: dict[str, str] = {
    "industry": "industry",  # enumeration of codes (COMPUTER_SOFTWARE): value map below
    "employees": "numberofemployees",
    "annual_revenue": "annualrevenue",
    "country": "country",
    "last_activity": "notes_last_updated",  # "Last Activity Date"
    "open_pipeline": "hs_total_deal_value",  # "Total open deal value" (HubSpot rollup)
    "open_deals": "hs_num_open_deals",
    "web_visits": "hs_analytics_num_visits",  # lifetime sessions of associated contacts
    "tech_stack": "web_technologies",  # checkbox enumeration: read as option labels
    "last_funding_amount": "total_money_raised",  # a string: parsed leniently
}

# HubSpot's stock industry codes and their labels -> the default model's categories.
# Codes and labels from a real portal's export [hs-company-export]; both map, so a
# portal (or an import) that stores labels works too. Case-insensitive (parsing.value_map).
_HUBSPOT_INDUSTRY: dict[str, tuple[tuple[str, str], ...]] = {
    "Software": (
        ("COMPUTER_SOFTWARE", "Computer Software"),
        ("INFORMATION_TECHNOLOGY_AND_SERVICES", "Information Technology and Services"),
        ("INTERNET", "Internet"),
        ("COMPUTER_NETWORK_SECURITY", "Computer & Network Security"),
        ("COMPUTER_HARDWARE", "Computer Hardware"),
        ("SEMICONDUCTORS", "Semiconductors"),
    ),
    "Financial Services": (
        ("FINANCIAL_SERVICES", "Financial Services"),
        ("BANKING", "Banking"),
        ("INSURANCE", "Insurance"),
        ("CAPITAL_MARKETS", "Capital Markets"),
        ("INVESTMENT_MANAGEMENT", "Investment Management"),
        ("ACCOUNTING", "Accounting"),
    ),
    "Healthcare": (
        ("HOSPITAL_HEALTH_CARE", "Hospital & Health Care"),
        ("MEDICAL_DEVICES", "Medical Devices"),
        ("PHARMACEUTICALS", "Pharmaceuticals"),
        ("MEDICAL_PRACTICE", "Medical Practice"),
        ("BIOTECHNOLOGY", "Biotechnology"),
    ),
    "Media": (
        ("ONLINE_MEDIA", "Online Media"),
        ("BROADCAST_MEDIA", "Broadcast Media"),
        ("PUBLISHING", "Publishing"),
        ("ENTERTAINMENT", "Entertainment"),
        ("MARKETING_AND_ADVERTISING", "Marketing and Advertising"),
    ),
    "Logistics": (
        ("LOGISTICS_AND_SUPPLY_CHAIN", "Logistics and Supply Chain"),
        ("TRANSPORTATION_TRUCKING_RAILROAD", "Transportation/Trucking/Railroad"),
        ("PACKAGE_FREIGHT_DELIVERY", "Package/Freight Delivery"),
        ("WAREHOUSING", "Warehousing"),
        ("AIRLINES_AVIATION", "Airlines/Aviation"),
    ),
    "Manufacturing": (
        ("MACHINERY", "Machinery"),
        ("INDUSTRIAL_AUTOMATION", "Industrial Automation"),
        ("ELECTRICAL_ELECTRONIC_MANUFACTURING", "Electrical/Electronic Manufacturing"),
        ("AUTOMOTIVE", "Automotive"),
        ("CHEMICALS", "Chemicals"),
        ("BUILDING_MATERIALS", "Building Materials"),
    ),
    "Retail": (
        ("RETAIL", "Retail"),
        ("CONSUMER_GOODS", "Consumer Goods"),
        ("SUPERMARKETS", "Supermarkets"),
        ("APPAREL_FASHION", "Apparel & Fashion"),
        ("WHOLESALE", "Wholesale"),
    ),
    "Energy": (
        ("OIL_ENERGY", "Oil & Energy"),
        ("RENEWABLES_ENVIRONMENT", "Renewables & Environment"),
        ("UTILITIES", "Utilities"),
        ("MINING_METALS", "Mining & Metals"),
    ),
    "Education": (
        ("EDUCATION_MANAGEMENT", "Education Management"),
        ("HIGHER_EDUCATION", "Higher Education"),
        ("E_LEARNING", "E-Learning"),
        ("PRIMARY_SECONDARY_EDUCATION", "Primary/Secondary Education"),
    ),
    "Government": (
        ("GOVERNMENT_ADMINISTRATION", "Government Administration"),
        ("PUBLIC_POLICY", "Public Policy"),
        ("PUBLIC_SAFETY", "Public Safety"),
        ("MILITARY", "Military"),
        ("DEFENSE_SPACE", "Defense & Space"),
    ),
}

# model input -> {HubSpot value or label: model category}; settings.hubspot.value_maps is
# merged over it per input. web_technologies needs no table: the connector reads the
# property's options and turns stored values into their labels.
HUBSPOT_VALUE_MAPS: dict[str, dict[str, str]] = {
    "industry": {
        key: category
        for category, pairs in _HUBSPOT_INDUSTRY.items()
        for pair in pairs
        for key in pair
    },
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
