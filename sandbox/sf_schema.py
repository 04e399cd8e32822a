"""Salesforce object schemas: the fields describe shows and writes validate against.

Stock profile: the standard fields and standard picklist values of a new org (sources in
sandbox/README.md). Enriched profile: plus one customer's own custom fields under that
customer's names. tierwise's own fields (``Tierwise_*__c``) never exist until tierwise's
``provision`` creates them through the Tooling API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

NUMERIC_TYPES = frozenset({"double", "int", "currency", "percent"})
TEXT_TYPES = frozenset({"string", "textarea", "url", "picklist", "multipicklist", "email", "phone"})
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "string": "xsd:string",
    "textarea": "xsd:string",
    "url": "xsd:string",
    "picklist": "xsd:string",
    "multipicklist": "xsd:string",
    "email": "xsd:string",
    "phone": "xsd:string",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


@dataclass
class FieldDef:
    name: str
    type: str
    label: str = ""
    length: int = 0
    custom: bool = False
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    external_id: bool = False
    unique: bool = False
    picklist: Sequence[str] = ()
    restricted: bool = False
    reference_to: Sequence[str] = ()
    precision: int = 0
    scale: int = 0
    default: Any = None
    hidden: bool = False  # created but not yet readable (no field-level security)
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        text = self.type in TEXT_TYPES or self.type in ("id", "reference")
        return {
            "name": self.name,
            "label": self.label or self.name.removesuffix("__c").replace("_", " "),
            "type": self.type,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "length": self.length if text else 0,
            "byteLength": self.length * 3 if text else 0,
            "precision": self.precision,
            "scale": self.scale,
            "digits": 9 if self.type == "int" else 0,
            "custom": self.custom,
            "updateable": self.updateable,
            "createable": self.createable,
            "nillable": self.nillable,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.name == "Id" or self.external_id,
            "filterable": self.type != "textarea" or self.length <= 255,
            "sortable": self.type not in ("multipicklist", "textarea"),
            "calculated": False,
            "defaultedOnCreate": not self.nillable and not self.createable,
            "defaultValue": self.default,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {
                    "active": True,
                    "defaultValue": value == self.default,
                    "label": value,
                    "value": value,
                    "validFor": None,
                }
                for value in self.picklist
            ],
            "referenceTo": list(self.reference_to),
            "relationshipName": (
                self.name[:-2] if self.type == "reference" and self.name.endswith("Id") else None
            ),
        }


def _ro(name: str, ftype: str, label: str, length: int = 0) -> FieldDef:
    return FieldDef(name, ftype, label, length, nillable=False, updateable=False, createable=False)


def _system_fields() -> list[FieldDef]:
    return [
        _ro("Id", "id", "Record ID", 18),
        _ro("CreatedDate", "datetime", "Created Date"),
        _ro("LastModifiedDate", "datetime", "Last Modified Date"),
        _ro("SystemModstamp", "datetime", "System Modstamp"),
        _ro("IsDeleted", "boolean", "Deleted"),
    ]


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
        *_system_fields(),
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
        *_system_fields(),
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
        *_system_fields(),
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
        *_system_fields(),
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


def user_fields() -> list[FieldDef]:
    return [
        *_system_fields(),
        FieldDef("Name", "string", "Full Name", 121, updateable=False, createable=False),
        FieldDef("FirstName", "string", "First Name", 40),
        FieldDef("LastName", "string", "Last Name", 80, nillable=False),
        FieldDef("Email", "email", "Email", 128, nillable=False),
        FieldDef("IsActive", "boolean", "Active", nillable=False),
    ]


def permission_set_fields() -> list[FieldDef]:
    return [
        *_system_fields(),
        FieldDef("Name", "string", "Name", 80, nillable=False),
        FieldDef("Label", "string", "Label", 80, nillable=False),
        FieldDef(
            "IsOwnedByProfile",
            "boolean",
            "Is Owned By Profile",
            updateable=False,
            createable=False,
            nillable=False,
            default=False,
        ),
    ]


def field_permissions_fields() -> list[FieldDef]:
    return [
        *_system_fields(),
        FieldDef(
            "ParentId",
            "reference",
            "Permission Set ID",
            18,
            nillable=False,
            updateable=False,
            reference_to=("PermissionSet",),
        ),
        FieldDef(
            "SobjectType",
            "picklist",
            "Object Type",
            40,
            nillable=False,
            updateable=False,
            picklist=("Account", "Task", "Event", "Opportunity"),
        ),
        FieldDef("Field", "string", "Field Name", 255, nillable=False, updateable=False),
        FieldDef("PermissionsRead", "boolean", "Read Access", nillable=False, default=False),
        FieldDef("PermissionsEdit", "boolean", "Edit Access", nillable=False, default=False),
    ]


def permission_set_assignment_fields() -> list[FieldDef]:
    """[sf-psa] developer.salesforce.com/docs/atlas.en-us.api.meta/api/
    sforce_api_objects_permissionsetassignment.htm"""
    return [
        *_system_fields(),
        FieldDef(
            "AssigneeId",
            "reference",
            "Assignee ID",
            18,
            nillable=False,
            updateable=False,
            reference_to=("User",),
        ),
        FieldDef(
            "PermissionSetId",
            "reference",
            "Permission Set ID",
            18,
            nillable=False,
            updateable=False,
            reference_to=("PermissionSet",),
        ),
    ]


def task_status_fields() -> list[FieldDef]:
    """[sf-taskstatus] …/object_reference/sforce_api_objects_taskstatus.htm (read-only)."""
    return [
        *_system_fields(),
        _ro("ApiName", "string", "Api Name", 255),
        _ro("MasterLabel", "string", "Master Label", 255),
        _ro("IsClosed", "boolean", "Is Closed"),
        _ro("IsDefault", "boolean", "Is Default"),
        _ro("SortOrder", "int", "Sort Order"),
    ]


def opportunity_stage_fields() -> list[FieldDef]:
    """[sf-oppstage] …/object_reference/sforce_api_objects_opportunitystage.htm: read-only
    (describeSObjects, query, retrieve); the fields tierwise reads."""
    return [
        *_system_fields(),
        _ro("ApiName", "string", "API Name", 255),
        _ro("MasterLabel", "string", "Master Label", 255),
        _ro("IsActive", "boolean", "Is Active"),
        _ro("IsClosed", "boolean", "Closed"),
        _ro("IsWon", "boolean", "Won"),
        _ro("DefaultProbability", "percent", "Probability (%)"),
        _ro("SortOrder", "int", "Sort Order"),
    ]


def custom_field_fields() -> list[FieldDef]:
    """Tooling ``CustomField`` as queried (Tooling API only, never plain REST)."""
    return [
        *_system_fields(),
        _ro("DeveloperName", "string", "Developer Name", 40),
        _ro("TableEnumOrId", "string", "Table Enum Or Id", 40),
        _ro("FullName", "string", "Full Name", 255),
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

# Tooling Metadata "type" -> (describe type, default length)
METADATA_TYPES = {
    "Text": ("string", 255),
    "TextArea": ("textarea", 255),
    "LongTextArea": ("textarea", 32768),
    "Url": ("url", 255),
    "Email": ("email", 80),
    "Phone": ("phone", 40),
    "Number": ("double", 0),
    "Currency": ("currency", 0),
    "Percent": ("percent", 0),
    "Checkbox": ("boolean", 0),
    "Date": ("date", 0),
    "DateTime": ("datetime", 0),
    "Picklist": ("picklist", 255),
    "MultiselectPicklist": ("multipicklist", 4099),
}


def field_from_metadata(name: str, meta: dict[str, Any]) -> FieldDef:
    """Build a field from Tooling ``CustomField`` Metadata; raises ValueError when invalid."""
    mtype = meta.get("type")
    if mtype not in METADATA_TYPES:
        raise ValueError(f"Invalid type: {mtype}")
    ftype, default_length = METADATA_TYPES[mtype]
    values: list[str] = []
    restricted = False
    if ftype in ("picklist", "multipicklist"):
        value_set = meta.get("valueSet") or {}
        restricted = bool(value_set.get("restricted"))
        definition = value_set.get("valueSetDefinition") or {}
        values = [str(v.get("fullName")) for v in definition.get("value") or []]
        if not values:
            raise ValueError("Picklist must have at least one value")
    label = meta.get("label")
    if not label:
        raise ValueError("Required field missing: label")
    length = int(meta.get("length") or default_length)
    if ftype == "string" and not 1 <= length <= 255:
        raise ValueError("Length must be between 1 and 255")
    return FieldDef(
        name,
        ftype,
        str(label),
        length,
        custom=True,
        nillable=ftype != "boolean",
        external_id=bool(meta.get("externalId")),
        unique=bool(meta.get("unique")),
        picklist=tuple(values),
        restricted=restricted,
        precision=int(meta.get("precision") or 0),
        scale=int(meta.get("scale") or 0),
        default=False if ftype == "boolean" else None,
    )
