"""Salesforce object schemas: the fields describe shows and writes validate against.

Stock profile: the standard fields and standard picklist values of a new org (sources in
sandbox/README.md). Enriched profile: plus one customer's own custom fields under that
customer's names. tierwise's own fields (``Tierwise_*__c``) never exist until tierwise's
``provision`` creates them through the Tooling API.

This module holds the standard value sets and the business objects tierwise reads and
writes (Account, Task, Event, Opportunity), with each object's key prefix and labels.
The field definition itself (``FieldDef``, Tooling metadata) is in ``sf_schema_fields``;
the setup objects (User, permissions, TaskStatus, OpportunityStage, CustomField) are in
``sf_schema_setup``. Both are re-exported here for the modules that import them from here.
"""

from __future__ import annotations

from collections.abc import Sequence

from tierwise.sandbox.sf_schema_fields import NUMERIC_TYPES as NUMERIC_TYPES
from tierwise.sandbox.sf_schema_fields import FieldDef as FieldDef
from tierwise.sandbox.sf_schema_fields import system_fields
from tierwise.sandbox.sf_schema_setup import custom_field_fields as custom_field_fields
from tierwise.sandbox.sf_schema_setup import field_permissions_fields as field_permissions_fields
from tierwise.sandbox.sf_schema_setup import opportunity_stage_fields as opportunity_stage_fields
from tierwise.sandbox.sf_schema_setup import (
    permission_set_assignment_fields as permission_set_assignment_fields,
)
from tierwise.sandbox.sf_schema_setup import permission_set_fields as permission_set_fields
from tierwise.sandbox.sf_schema_setup import task_status_fields as task_status_fields
from tierwise.sandbox.sf_schema_setup import user_fields as user_fields

TECH_VALUES = (
    "Salesforce",
    "Snowflake",
    "AWS",
    "HubSpot",
    "Marketo",
    "Segment",
    "Azure",
    "GCP",
    "Okta",
    "Workday",
)
# Standard value sets of a new org [sf-industry-svs] [sf-accounttype-svs]: trailheadapps/
# dreamhouse-lwc force-app/main/default/standardValueSets/Industry.standardValueSet-meta.xml
# and AccountType.standardValueSet-meta.xml; Rating per the Account object reference
# (developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_account.htm).
INDUSTRY_VALUES = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
)
ACCOUNT_TYPES = (
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
)
RATINGS = ("Hot", "Warm", "Cold")
# TaskStatus rows are org-specific [sf-taskstatus]: this org renamed the default open status
# and has two closed ones, so code that hard-codes "Not Started"/"Completed" fails here.
# (ApiName, IsClosed, IsDefault). ``USUAL_TASK_STATUSES`` is the common default set
# (Task schema as transcribed by api-evangelist; a guess, selectable per sandbox).
ORG_TASK_STATUSES = (
    ("Open", False, True),
    ("In Progress", False, False),
    ("Waiting on someone else", False, False),
    ("Deferred", False, False),
    ("Done", True, False),
    ("Cancelled", True, False),
)
USUAL_TASK_STATUSES = (
    ("Not Started", False, True),
    ("In Progress", False, False),
    ("Completed", True, False),
    ("Waiting on someone else", False, False),
    ("Deferred", False, False),
)
TASK_PRIORITIES = ("High", "Normal", "Low")


def account_fields() -> list[FieldDef]:
    """Standard Account fields of a new org (no custom field at all)."""
    return [
        *system_fields(),
        FieldDef("Name", "string", "Account Name", 255, nillable=False),
        FieldDef("Website", "url", "Website", 255),
        FieldDef("Industry", "picklist", "Industry", 255, picklist=INDUSTRY_VALUES),
        FieldDef("Type", "picklist", "Account Type", 255, picklist=ACCOUNT_TYPES),
        FieldDef("Rating", "picklist", "Account Rating", 255, picklist=RATINGS),
        FieldDef("NumberOfEmployees", "int", "Employees", precision=8),
        FieldDef("AnnualRevenue", "currency", "Annual Revenue", precision=18),
        FieldDef("BillingCountry", "string", "Billing Country", 80),
        FieldDef("OwnerId", "reference", "Owner ID", 18, nillable=False, reference_to=("User",)),
        FieldDef("LastActivityDate", "date", "Last Activity", updateable=False, createable=False),
    ]


def enriched_account_fields() -> list[FieldDef]:
    """One customer's own custom fields (CONTRACT.md item 1), not tierwise's names."""
    return [
        FieldDef(
            "Technologies__c",
            "multipicklist",
            "Technologies",
            4099,
            custom=True,
            picklist=TECH_VALUES,
        ),
        FieldDef(
            "Website_Sessions_30d__c", "double", "Website Sessions (30d)", custom=True, precision=18
        ),
        FieldDef(
            "Bombora_Composite_Score__c",
            "double",
            "Bombora Composite Score",
            custom=True,
            precision=3,
        ),
        FieldDef(
            "Bombora_Surge__c",
            "boolean",
            "Bombora Surge",
            custom=True,
            nillable=False,
            default=False,
        ),
        FieldDef("Funding_Total__c", "currency", "Funding Total", custom=True, precision=18),
        FieldDef("Last_Funding_Round_Date__c", "date", "Last Funding Round Date", custom=True),
        FieldDef(
            "Competitor_Install__c",
            "boolean",
            "Competitor Install",
            custom=True,
            nillable=False,
            default=False,
        ),
        FieldDef(
            "Credit_Risk__c",
            "picklist",
            "Credit Risk",
            255,
            custom=True,
            picklist=("Low", "Medium", "High"),
            restricted=True,
        ),
        FieldDef("Customer_Health__c", "double", "Customer Health", custom=True, precision=3),
        FieldDef("Adoption_Pct__c", "percent", "Adoption %", custom=True, precision=3),
    ]


def task_fields(statuses: Sequence[tuple[str, bool, bool]] = ORG_TASK_STATUSES) -> list[FieldDef]:
    """Task per the object reference [sf-task]: Status and Priority required (an insert
    without them gets the org's defaults), AccountId and IsClosed derived, read-only."""
    return [
        *system_fields(),
        FieldDef("Subject", "string", "Subject", 255),
        # Only the org's TaskStatus values are accepted (restricted: a GUESS, the reference
        # says each status "implies IsClosed", so an unknown one has no meaning).
        FieldDef(
            "Status",
            "picklist",
            "Status",
            255,
            nillable=False,
            restricted=True,
            picklist=tuple(s[0] for s in statuses),
            default=next(s[0] for s in statuses if s[2]),
        ),
        FieldDef(
            "Priority",
            "picklist",
            "Priority",
            255,
            nillable=False,
            picklist=TASK_PRIORITIES,
            default="Normal",
        ),
        FieldDef("ActivityDate", "date", "Due Date Only"),
        FieldDef(
            "WhatId", "reference", "Related To ID", 18, reference_to=("Account", "Opportunity")
        ),
        FieldDef("WhoId", "reference", "Name ID", 18, reference_to=("Contact", "Lead")),
        FieldDef(
            "AccountId",
            "reference",
            "Account ID",
            18,
            updateable=False,
            createable=False,
            reference_to=("Account",),
        ),
        FieldDef(
            "OwnerId", "reference", "Assigned To ID", 18, nillable=False, reference_to=("User",)
        ),
        FieldDef("Description", "textarea", "Description", 32000),
        FieldDef(
            "IsClosed", "boolean", "Closed", nillable=False, updateable=False, createable=False
        ),
    ]


def event_fields() -> list[FieldDef]:
    return [
        *system_fields(),
        FieldDef("Subject", "string", "Subject", 255),
        FieldDef("ActivityDate", "date", "Due Date Only"),
        FieldDef("ActivityDateTime", "datetime", "Due Date Time"),
        FieldDef("DurationInMinutes", "int", "Duration", precision=8),
        FieldDef(
            "WhatId", "reference", "Related To ID", 18, reference_to=("Account", "Opportunity")
        ),
        FieldDef(
            "AccountId",
            "reference",
            "Account ID",
            18,
            updateable=False,
            createable=False,
            reference_to=("Account",),
        ),
        FieldDef(
            "OwnerId", "reference", "Assigned To ID", 18, nillable=False, reference_to=("User",)
        ),
        FieldDef("Description", "textarea", "Description", 32000),
    ]


# A new org's stock Opportunity stages, in SortOrder [sf-oppstage]: (name, IsClosed, IsWon,
# DefaultProbability). Names: the standard sales process as third parties list it
# (crmnewstoday.com/?p=553, garysmithpartnership.com/track-opportunity-competitors-salesforce).
# The probabilities are a GUESS (the usual defaults; no official page found that lists them).
# ApiName = MasterLabel here, as in an org whose stages were never renamed.
STOCK_OPPORTUNITY_STAGES: tuple[tuple[str, bool, bool, int], ...] = (
    ("Prospecting", False, False, 10),
    ("Qualification", False, False, 10),
    ("Needs Analysis", False, False, 20),
    ("Value Proposition", False, False, 50),
    ("Id. Decision Makers", False, False, 60),
    ("Perception Analysis", False, False, 70),
    ("Proposal/Price Quote", False, False, 75),
    ("Negotiation/Review", False, False, 90),
    ("Closed Won", True, True, 100),
    ("Closed Lost", True, False, 0),
)
OPPORTUNITY_STAGES = tuple(stage[0] for stage in STOCK_OPPORTUNITY_STAGES)


def opportunity_fields() -> list[FieldDef]:
    return [
        *system_fields(),
        FieldDef("Name", "string", "Opportunity Name", 120, nillable=False),
        FieldDef("AccountId", "reference", "Account ID", 18, reference_to=("Account",)),
        FieldDef("Amount", "currency", "Amount", precision=18, scale=2),
        FieldDef(
            "StageName", "picklist", "Stage", 255, nillable=False, picklist=OPPORTUNITY_STAGES
        ),
        FieldDef("CloseDate", "date", "Close Date", nillable=False),
        FieldDef(
            "IsClosed", "boolean", "Closed", nillable=False, updateable=False, createable=False
        ),
        FieldDef("IsWon", "boolean", "Won", nillable=False, updateable=False, createable=False),
        FieldDef("OwnerId", "reference", "Owner ID", 18, nillable=False, reference_to=("User",)),
    ]


KEY_PREFIX = {
    "Account": "001",
    "Opportunity": "006",
    "Task": "00T",
    "Event": "00U",
    "User": "005",
    "CustomField": "00N",
    "Job": "750",
    "FieldPermissions": "01k",
    "PermissionSet": "0PS",
    "PermissionSetAssignment": "0Pa",
    "TaskStatus": "01J",
    "OpportunityStage": "01J",  # picklist master rows share the prefix (a GUESS)
}
LABELS = {
    "Account": ("Account", "Accounts"),
    "Task": ("Task", "Tasks"),
    "Event": ("Event", "Events"),
    "User": ("User", "Users"),
    "Opportunity": ("Opportunity", "Opportunities"),
}
