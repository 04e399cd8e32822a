"""HubSpot property definitions and value validation.

Every property value travels as a string. Writes validate by property type the way the
CRM does (numbers parse, enumeration values are among the options, dates are
``YYYY-MM-DD`` or midnight epoch ms, datetimes are ISO 8601 or epoch ms) and are
stored normalised; reads return the stored strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sandbox.clock import hs_datetime, parse_iso

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tasks": "0-27"}
OBJECT_ALIASES = {
    "companies": "companies", "company": "companies", "0-2": "companies",
    "contacts": "contacts", "contact": "contacts", "0-1": "contacts",
    "tasks": "tasks", "task": "tasks", "0-27": "tasks",
    "deals": "deals", "deal": "deals", "0-3": "deals",
}
TYPE_FIELD = {"string": "text", "number": "number", "date": "date", "datetime": "date",
              "enumeration": "select", "bool": "booleancheckbox"}
READ_ONLY = frozenset({"hs_object_id", "hs_lastmodifieddate", "lastmodifieddate"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class PropertyDef:
    name: str
    type: str
    label: str = ""
    field_type: str = ""
    group: str = "companyinformation"
    options: list[dict[str, Any]] = field(default_factory=list)
    unique: bool = False
    hubspot_defined: bool = True
    description: str = ""
    display_order: int = -1
    created_at: str = "2019-08-06T02:43:01.234Z"
    updated_at: str = "2019-08-06T02:43:01.234Z"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "fieldType": self.field_type or TYPE_FIELD.get(self.type, "text"),
            "description": self.description,
            "groupName": self.group,
            "options": self.options,
            "displayOrder": self.display_order,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": self.unique,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "formField": True,
            "archived": False,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.name in READ_ONLY,
            },
        }


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


def _t(*args: Any, **kw: Any) -> PropertyDef:
    """One of tierwise's own properties (group ``tierwise``)."""
    kw.update(group="tierwise", hubspot_defined=False)
    return PropertyDef(*args, **kw)


def company_properties() -> list[PropertyDef]:
    return [
        *_base("companyinformation"),
        _p("name", "string", "Company name"),
        _p("domain", "string", "Company Domain Name", unique=False),
        _p("industry", "string", "Industry"),
        _p("numberofemployees", "number", "Number of Employees"),
        _p("annualrevenue", "number", "Annual Revenue"),
        _p("country", "string", "Country/Region"),
        _p("web_technologies", "enumeration", "Web Technologies",
                    field_type="checkbox",
                    options=_opts("Salesforce", "Snowflake", "AWS", "HubSpot", "Marketo",
                                  "Segment", "Azure", "GCP", "Okta", "Workday")),
        _p("notes_last_updated", "datetime", "Last Activity Date"),
        _c("web_visits_30d", "number", "Web visits (30d)"),
        _c("intent_score", "number", "Intent score"),
        _c("health_score", "number", "Health score"),
        _c("product_adoption", "number", "Product adoption (%)"),
        _c("intent_surge", "bool", "Intent surge",
                    options=_opts(("true", "Yes"), ("false", "No"))),
        _c("last_funding_amount", "number", "Last funding amount"),
        _c("last_funding_date", "date", "Last funding date"),
        _c("open_pipeline_amount", "number", "Open pipeline amount"),
        _c("competitor_customer", "bool", "Competitor customer",
                    options=_opts(("true", "Yes"), ("false", "No"))),
        _c("payment_risk", "enumeration", "Payment risk",
                    options=_opts("low", "medium", "high")),
        _p("hs_ideal_customer_profile", "enumeration", "Ideal Customer Profile Tier",
                    field_type="radio",
                    options=_opts(("tier_1", "Tier 1"), ("tier_2", "Tier 2"),
                                  ("tier_3", "Tier 3"))),
        _p("hs_is_target_account", "bool", "Target Account",
                    options=_opts(("true", "True"), ("false", "False"))),
    ]


TIER_OPTIONS = (("tier_1", "Strategic"), ("tier_2", "Core"), ("tier_3", "Programmatic"),
                ("tier_4", "Nurture"), ("unqualified", "Unqualified"))


CUSTOMER_TIER_OPTIONS = (("grow", "Grow"), ("defend", "Defend"), ("monitor", "Monitor"),
                         ("unqualified", "Unqualified"))


def company_tierwise_properties() -> list[PropertyDef]:
    return [
        _t("tierwise_tier", "enumeration", "Tierwise tier", field_type="select",
                    options=_opts(*TIER_OPTIONS)),
        _t("tierwise_score", "number", "Tierwise score"),
        _t("tierwise_reason", "string", "Tierwise reason", field_type="textarea"),
        _t("tierwise_play", "string", "Tierwise play"),
        _t("tierwise_sla_due", "date", "Tierwise SLA due"),
        _t("tierwise_tier_changed", "date", "Tierwise tier changed"),
        _t("tierwise_tier_override", "enumeration", "Tierwise tier override",
                    field_type="select", options=_opts(*TIER_OPTIONS[:4]),
                    hubspot_defined=False),
        _t("tierwise_override_until", "date", "Tierwise override until",
                    hubspot_defined=False),
        _t("tierwise_customer_tier", "enumeration", "Tierwise customer tier",
                    field_type="select", options=_opts(*CUSTOMER_TIER_OPTIONS)),
        _t("tierwise_customer_score", "number", "Tierwise customer score"),
        _t("tierwise_customer_reason", "string", "Tierwise customer reason",
                    field_type="textarea"),
        _t("tierwise_customer_play", "string", "Tierwise customer play"),
        _t("tierwise_customer_tier_changed", "date", "Tierwise customer tier changed"),
    ]


def contact_tierwise_properties() -> list[PropertyDef]:
    """The tier properties a sync may copy onto contacts."""
    return [p for p in company_tierwise_properties()
            if p.name not in ("tierwise_tier_override", "tierwise_override_until")
            and not p.name.startswith("tierwise_customer_")]


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


DEAL_STAGES = (("appointmentscheduled", "Appointment scheduled"),
               ("qualifiedtobuy", "Qualified to buy"),
               ("presentationscheduled", "Presentation scheduled"),
               ("decisionmakerboughtin", "Decision maker bought-in"),
               ("contractsent", "Contract sent"), ("closedwon", "Closed won"),
               ("closedlost", "Closed lost"))


def deal_properties() -> list[PropertyDef]:
    g = "dealinformation"
    return [
        *_base(g),
        PropertyDef("dealname", "string", "Deal Name", group=g),
        PropertyDef("amount", "number", "Amount", group=g),
        PropertyDef("dealstage", "enumeration", "Deal Stage", group=g, field_type="radio",
                    options=_opts(*DEAL_STAGES)),
        PropertyDef("pipeline", "enumeration", "Pipeline", group=g, field_type="select",
                    options=_opts(("default", "Sales Pipeline"))),
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
        PropertyDef("hs_task_status", "enumeration", "Task Status", group=g,
                    options=_opts(("NOT_STARTED", "Not started"), ("IN_PROGRESS", "In progress"),
                                  ("WAITING", "Waiting"), ("COMPLETED", "Completed"),
                                  ("DEFERRED", "Deferred"))),
        PropertyDef("hs_task_priority", "enumeration", "Priority", group=g,
                    options=_opts(("NONE", "None"), ("LOW", "Low"), ("MEDIUM", "Medium"),
                                  ("HIGH", "High"))),
        PropertyDef("hs_task_type", "enumeration", "Task Type", group=g,
                    options=_opts(("TODO", "To-do"), ("CALL", "Call"), ("EMAIL", "Email"))),
    ]


def task_tierwise_properties() -> list[PropertyDef]:
    return [PropertyDef("tierwise_key", "string", "Tierwise key", group="tierwise",
                        unique=True, hubspot_defined=False)]


DEFAULT_GROUPS: dict[str, list[tuple[str, str | None]]] = {
    "companies": [("companyinformation", "Company information"), ("tierwise", None)],
    "contacts": [("contactinformation", "Contact information"), ("tierwise", None)],
    "tasks": [("task", "Task information")],
    "deals": [("dealinformation", "Deal information")],
}

DEFAULT_READ = {
    "deals": ("dealname", "amount", "dealstage", "closedate", "pipeline", "createdate",
              "hs_lastmodifieddate", "hs_object_id"),
    "companies": ("name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"),
    "contacts": ("firstname", "lastname", "email", "createdate", "lastmodifieddate",
                 "hs_object_id"),
    "tasks": ("hs_task_subject", "hs_timestamp", "hs_task_status", "createdate",
              "hs_lastmodifieddate", "hs_object_id"),
}


class PropertyValueError(Exception):
    def __init__(self, code: str, message: str, name: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.name = name


def to_epoch_ms(text: str) -> int | None:
    """Interpret a stored or filter value as epoch ms (dates at midnight UTC)."""
    t = text.strip()
    if re.fullmatch(r"-?\d+", t):
        return int(t)
    try:
        if _DATE.fullmatch(t):
            d = date.fromisoformat(t)
            return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)
        return int(parse_iso(t).timestamp() * 1000)
    except ValueError:
        return None


def normalise(prop: PropertyDef, value: Any) -> str:
    """The stored string for a written value; raises PropertyValueError."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else (
        str(value).lower() if isinstance(value, bool) else str(value)
    )
    if text == "":
        return ""
    name = prop.name
    if prop.type == "number":
        try:
            number = float(text)
        except ValueError:
            raise PropertyValueError(
                "INVALID_DOUBLE", f"{text} was not a valid number.", name) from None
        return text if re.fullmatch(r"-?\d+(\.\d+)?", text) else repr(number)
    if prop.type == "bool":
        if text.lower() not in ("true", "false"):
            raise PropertyValueError("INVALID_BOOLEAN", f"{text} was not a valid boolean.", name)
        return text.lower()
    if prop.type == "enumeration" and prop.options and name != "hubspot_owner_id":
        allowed = [o["value"] for o in prop.options]
        parts = text.split(";") if prop.field_type == "checkbox" else [text]
        for part in parts:
            if part not in allowed:
                raise PropertyValueError(
                    "INVALID_OPTION",
                    f"{part} was not one of the allowed options: " + ", ".join(
                        f"[label: {o['label']!r}, value: {o['value']!r}]" for o in prop.options),
                    name,
                )
        return text
    if prop.type == "date":
        if _DATE.fullmatch(text):
            try:
                date.fromisoformat(text)
            except ValueError:
                raise PropertyValueError(
                    "INVALID_DATE", f"{text} is not a valid date", name) from None
            return text
        if re.fullmatch(r"\d+", text):
            ms = int(text)
            if ms % 86_400_000:
                raise PropertyValueError(
                    "INVALID_DATE",
                    f"{text} is at {datetime.fromtimestamp(ms / 1000, UTC).isoformat()} which is "
                    "not midnight!", name)
            return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()
        raise PropertyValueError("INVALID_DATE", f"{text} is not a valid date", name)
    if prop.type == "datetime":
        if re.fullmatch(r"\d+", text):
            return hs_datetime(datetime.fromtimestamp(int(text) / 1000, UTC))
        try:
            return hs_datetime(parse_iso(text))
        except ValueError:
            raise PropertyValueError(
                "INVALID_DATETIME", f"{text} is not a valid datetime", name) from None
    return text
