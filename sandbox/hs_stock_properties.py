"""The stock HubSpot property definitions: what a new portal holds, per object type.

Also the ``enriched`` profile's customer properties and the default property groups.
Kept apart from ``hs_schema.py`` (the ``PropertyDef`` type and the value rules writes
are checked by) because these are long data tables with their sources;
``HubSpotPortal.__init__`` (``hs_store.py``) builds its properties and groups from them.
"""

from __future__ import annotations

from typing import Any

from tierwise.sandbox.hs_schema import PropertyDef


def _opts(*values: str | tuple[str, str]) -> list[dict[str, Any]]:
    out = []
    for i, value in enumerate(values):
        v, label = value if isinstance(value, tuple) else (value, value)
        out.append({"label": label, "value": v, "displayOrder": i, "hidden": False})
    return out


def _base(group: str) -> list[PropertyDef]:
    return [
        PropertyDef("hs_object_id", "number", "Record ID", group=group),
        PropertyDef("createdate", "datetime", "Create Date", group=group),
        PropertyDef("hs_lastmodifieddate", "datetime", "Last Modified Date", group=group),
        PropertyDef("hubspot_owner_id", "enumeration", "Owner", group=group),
    ]


def _p(*args: Any, **kw: Any) -> PropertyDef:
    return PropertyDef(*args, **kw)


def _c(*args: Any, **kw: Any) -> PropertyDef:
    """A portal-defined (custom) company property."""
    kw["hubspot_defined"] = False
    return PropertyDef(*args, **kw)


# HubSpot's stock ``industry`` enumeration: internal value (upper-case code) -> label.
# A realistic subset of the ~150 undeletable options (148 in the portal export cited as
# [hs-company-export] in CRM-API-NOTES §2.15; upper-case values as sent by public code,
# [hs-industry-values]). Values and labels differ: filters and writes use the value.
INDUSTRY_OPTIONS: tuple[tuple[str, str], ...] = (
    ("ACCOUNTING", "Accounting"),
    ("AIRLINES_AVIATION", "Airlines/Aviation"),
    ("APPAREL_FASHION", "Apparel & Fashion"),
    ("AUTOMOTIVE", "Automotive"),
    ("BANKING", "Banking"),
    ("BIOTECHNOLOGY", "Biotechnology"),
    ("BROADCAST_MEDIA", "Broadcast Media"),
    ("BUILDING_MATERIALS", "Building Materials"),
    ("CAPITAL_MARKETS", "Capital Markets"),
    ("CHEMICALS", "Chemicals"),
    ("COMPUTER_HARDWARE", "Computer Hardware"),
    ("COMPUTER_NETWORK_SECURITY", "Computer & Network Security"),
    ("COMPUTER_SOFTWARE", "Computer Software"),
    ("CONSTRUCTION", "Construction"),
    ("CONSUMER_ELECTRONICS", "Consumer Electronics"),
    ("CONSUMER_GOODS", "Consumer Goods"),
    ("DEFENSE_SPACE", "Defense & Space"),
    ("E_LEARNING", "E-Learning"),
    ("EDUCATION_MANAGEMENT", "Education Management"),
    ("ELECTRICAL_ELECTRONIC_MANUFACTURING", "Electrical/Electronic Manufacturing"),
    ("ENTERTAINMENT", "Entertainment"),
    ("FINANCIAL_SERVICES", "Financial Services"),
    ("FOOD_BEVERAGES", "Food & Beverages"),
    ("GOVERNMENT_ADMINISTRATION", "Government Administration"),
    ("HIGHER_EDUCATION", "Higher Education"),
    ("HOSPITAL_HEALTH_CARE", "Hospital & Health Care"),
    ("HOSPITALITY", "Hospitality"),
    ("INDUSTRIAL_AUTOMATION", "Industrial Automation"),
    ("INFORMATION_TECHNOLOGY_AND_SERVICES", "Information Technology and Services"),
    ("INSURANCE", "Insurance"),
    ("INTERNET", "Internet"),
    ("INVESTMENT_MANAGEMENT", "Investment Management"),
    ("LOGISTICS_AND_SUPPLY_CHAIN", "Logistics and Supply Chain"),
    ("MACHINERY", "Machinery"),
    ("MANAGEMENT_CONSULTING", "Management Consulting"),
    ("MARKETING_AND_ADVERTISING", "Marketing and Advertising"),
    ("MEDICAL_DEVICES", "Medical Devices"),
    ("MEDICAL_PRACTICE", "Medical Practice"),
    ("MILITARY", "Military"),
    ("MINING_METALS", "Mining & Metals"),
    ("NON_PROFIT_ORGANIZATION_MANAGEMENT", "Non-Profit Organization Management"),
    ("OIL_ENERGY", "Oil & Energy"),
    ("ONLINE_MEDIA", "Online Media"),
    ("PACKAGE_FREIGHT_DELIVERY", "Package/Freight Delivery"),
    ("PHARMACEUTICALS", "Pharmaceuticals"),
    ("PRIMARY_SECONDARY_EDUCATION", "Primary/Secondary Education"),
    ("PUBLIC_POLICY", "Public Policy"),
    ("PUBLIC_SAFETY", "Public Safety"),
    ("PUBLISHING", "Publishing"),
    ("REAL_ESTATE", "Real Estate"),
    ("RENEWABLES_ENVIRONMENT", "Renewables & Environment"),
    ("RETAIL", "Retail"),
    ("SEMICONDUCTORS", "Semiconductors"),
    ("SUPERMARKETS", "Supermarkets"),
    ("TELECOMMUNICATIONS", "Telecommunications"),
    ("TRANSPORTATION_TRUCKING_RAILROAD", "Transportation/Trucking/Railroad"),
    ("UTILITIES", "Utilities"),
    ("WAREHOUSING", "Warehousing"),
    ("WHOLESALE", "Wholesale"),
)

# ``web_technologies`` (checkbox, 712 options in the export, set by enrichment). Its
# internal values are unconfirmed (CRM-API-NOTES §2.15): GUESS - values are snake-case
# vendor slugs that differ from the labels, so a client that matches on values alone
# misses (sandbox/README.md lists this as a guess).
WEB_TECHNOLOGY_OPTIONS: tuple[tuple[str, str], ...] = (
    ("salesforce_crm", "Salesforce"),
    ("snowflake_data_cloud", "Snowflake"),
    ("amazon_web_services", "AWS"),
    ("hubspot_crm", "HubSpot"),
    ("marketo", "Marketo"),
    ("segment_io", "Segment"),
    ("microsoft_azure", "Azure"),
    ("google_cloud_platform", "GCP"),
    ("okta", "Okta"),
    ("workday", "Workday"),
    ("google_analytics", "Google Analytics"),
    ("wordpress", "WordPress"),
    ("shopify", "Shopify"),
    ("zendesk", "Zendesk"),
)

_ICP_TIERS = (("tier_1", "Tier 1"), ("tier_2", "Tier 2"), ("tier_3", "Tier 3"))
_YES_NO = (("true", "Yes"), ("false", "No"))


def _ro(*args: Any, **kw: Any) -> PropertyDef:
    """A HubSpot-calculated property (rollups, analytics): the API refuses writes."""
    kw["read_only"] = True
    return PropertyDef(*args, **kw)


def company_properties() -> list[PropertyDef]:
    """What a new portal holds (CRM-API-NOTES §2.12, §2.15: [hs-company-export],
    [hs-default-company-props]); nothing only tierwise's defaults would want."""
    return [
        *_base("companyinformation"),
        _p("name", "string", "Company name"),
        _p("domain", "string", "Company Domain Name"),
        _p(
            "industry",
            "enumeration",
            "Industry",
            field_type="select",
            options=_opts(*INDUSTRY_OPTIONS),
        ),
        _p("numberofemployees", "number", "Number of Employees"),
        _p("annualrevenue", "number", "Annual Revenue"),
        _p("country", "string", "Country/Region"),
        _p("hs_country_code", "string", "Country/Region Code"),
        _p("founded_year", "string", "Year Founded"),
        _p("is_public", "bool", "Is Public", field_type="booleancheckbox", options=_opts(*_YES_NO)),
        _p("total_money_raised", "string", "Total Money Raised"),
        _p(
            "web_technologies",
            "enumeration",
            "Web Technologies",
            field_type="checkbox",
            options=_opts(*WEB_TECHNOLOGY_OPTIONS),
        ),
        _ro("hs_num_open_deals", "number", "Number of open deals"),
        _ro("hs_total_deal_value", "number", "Total open deal value"),
        _ro("num_associated_deals", "number", "Number of Associated Deals"),
        _ro("total_revenue", "number", "Total Revenue"),
        _ro("recent_deal_amount", "number", "Recent Deal Amount"),
        _ro("recent_deal_close_date", "datetime", "Recent Deal Close Date"),
        _ro("num_associated_contacts", "number", "Number of Associated Contacts"),
        _ro("notes_last_updated", "datetime", "Last Activity Date"),
        _ro("notes_last_contacted", "datetime", "Last Contacted"),
        _ro("hs_last_sales_activity_timestamp", "datetime", "Last Engagement Date"),
        _ro("hs_analytics_num_visits", "number", "Number of Sessions"),
        _ro("hs_analytics_num_page_views", "number", "Number of Pageviews"),
        _ro("hs_analytics_last_visit_timestamp", "datetime", "Time of Last Session"),
        _p(
            "hs_csm_sentiment",
            "enumeration",
            "CSM Sentiment",
            field_type="select",
            options=_opts(("at_risk", "At risk"), ("neutral", "Neutral"), ("healthy", "Healthy")),
        ),
        # Three ABM/ICP properties; two share the label "Target Account" (§2.12).
        _p(
            "hs_ideal_customer_profile",
            "enumeration",
            "Ideal Customer Profile Tier",
            field_type="radio",
            options=_opts(*_ICP_TIERS),
        ),
        _p(
            "hs_is_target_account",
            "bool",
            "Target Account",
            field_type="booleancheckbox",
            options=_opts(("true", "True"), ("false", "False")),
        ),
        _p(
            "hs_target_account",
            "enumeration",
            "Target Account",
            field_type="radio",
            options=_opts(*_ICP_TIERS),
        ),
    ]


def company_enriched_properties() -> list[PropertyDef]:
    """A realistic customer's own custom properties (profile ``enriched``), under that
    customer's names - not tierwise's defaults (CONTRACT.md item 1)."""
    g = "customer_data"
    return [
        _c(
            "technologies_used",
            "enumeration",
            "Technologies used",
            field_type="checkbox",
            group=g,
            options=_opts(*((label, label) for _, label in WEB_TECHNOLOGY_OPTIONS)),
        ),
        _c("site_sessions_30d", "number", "Site sessions (30 days)", group=g),
        _c("bombora_composite_score", "number", "Bombora composite score", group=g),
        _c(
            "bombora_surge",
            "bool",
            "Bombora surge",
            field_type="booleancheckbox",
            group=g,
            options=_opts(*_YES_NO),
        ),
        _c("funding_total", "number", "Funding total", group=g),
        _c("last_funding_round_date", "date", "Last funding round date", group=g),
        _c(
            "competitor_install",
            "bool",
            "Competitor install",
            field_type="booleancheckbox",
            group=g,
            options=_opts(*_YES_NO),
        ),
        _c(
            "credit_risk",
            "enumeration",
            "Credit risk",
            field_type="select",
            group=g,
            options=_opts(("low", "Low"), ("medium", "Medium"), ("high", "High")),
        ),
        _c("customer_health", "number", "Customer health", group=g),
        _c("adoption_pct", "number", "Adoption (%)", group=g),
    ]


def contact_properties() -> list[PropertyDef]:
    g = "contactinformation"
    return [
        *_base(g),
        PropertyDef("lastmodifieddate", "datetime", "Last Modified Date", group=g),
        PropertyDef("email", "string", "Email", group=g, unique=True),
        PropertyDef("firstname", "string", "First Name", group=g),
        PropertyDef("lastname", "string", "Last Name", group=g),
        PropertyDef("jobtitle", "string", "Job Title", group=g),
        PropertyDef("associatedcompanyid", "number", "Primary Associated Company ID", group=g),
    ]


DEAL_STAGES = (
    ("appointmentscheduled", "Appointment scheduled"),
    ("qualifiedtobuy", "Qualified to buy"),
    ("presentationscheduled", "Presentation scheduled"),
    ("decisionmakerboughtin", "Decision maker bought-in"),
    ("contractsent", "Contract sent"),
    ("closedwon", "Closed won"),
    ("closedlost", "Closed lost"),
)


def deal_properties() -> list[PropertyDef]:
    g = "dealinformation"
    return [
        *_base(g),
        PropertyDef("dealname", "string", "Deal Name", group=g),
        PropertyDef("amount", "number", "Amount", group=g),
        PropertyDef(
            "dealstage",
            "enumeration",
            "Deal Stage",
            group=g,
            field_type="radio",
            options=_opts(*DEAL_STAGES),
        ),
        PropertyDef(
            "pipeline",
            "enumeration",
            "Pipeline",
            group=g,
            field_type="select",
            options=_opts(("default", "Sales Pipeline")),
        ),
        PropertyDef("closedate", "datetime", "Close Date", group=g),
        PropertyDef("hs_is_closed", "bool", "Is Deal Closed?", group=g),
        PropertyDef("hs_is_closed_won", "bool", "Is Closed Won", group=g),
    ]


def task_properties() -> list[PropertyDef]:
    g = "task"
    return [
        *_base(g),
        PropertyDef("hs_timestamp", "datetime", "Due date", group=g),
        PropertyDef("hs_task_subject", "string", "Task Title", group=g),
        PropertyDef("hs_task_body", "string", "Notes", group=g, field_type="textarea"),
        PropertyDef(
            "hs_task_status",
            "enumeration",
            "Task Status",
            group=g,
            options=_opts(
                ("NOT_STARTED", "Not started"),
                ("IN_PROGRESS", "In progress"),
                ("WAITING", "Waiting"),
                ("COMPLETED", "Completed"),
                ("DEFERRED", "Deferred"),
            ),
        ),
        PropertyDef(
            "hs_task_priority",
            "enumeration",
            "Priority",
            group=g,
            options=_opts(("NONE", "None"), ("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High")),
        ),
        PropertyDef(
            "hs_task_type",
            "enumeration",
            "Task Type",
            group=g,
            options=_opts(("TODO", "To-do"), ("CALL", "Call"), ("EMAIL", "Email")),
        ),
    ]


DEFAULT_GROUPS: dict[str, list[tuple[str, str | None]]] = {
    "companies": [("companyinformation", "Company information")],
    "contacts": [("contactinformation", "Contact information")],
    "tasks": [("task", "Task information")],
    "deals": [("dealinformation", "Deal information")],
}
