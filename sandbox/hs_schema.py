"""HubSpot property definitions and value validation.

Every property value travels as a string. Writes validate by property type the way the
CRM does (numbers parse, enumeration values are among the options, dates are
``YYYY-MM-DD`` or midnight epoch ms, datetimes are ISO 8601 or epoch ms) and are
stored normalised; reads return the stored strings.

This module holds the ``PropertyDef`` type, the object type ids, the default read
properties and those value rules; the stock property definitions a new portal holds
(long option tables with their sources) are in ``hs_stock_properties.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tierwise.sandbox.clock import hs_datetime, parse_iso

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tasks": "0-27"}
OBJECT_ALIASES = {
    "companies": "companies",
    "company": "companies",
    "0-2": "companies",
    "contacts": "contacts",
    "contact": "contacts",
    "0-1": "contacts",
    "tasks": "tasks",
    "task": "tasks",
    "0-27": "tasks",
    "deals": "deals",
    "deal": "deals",
    "0-3": "deals",
}
TYPE_FIELD = {
    "string": "text",
    "number": "number",
    "date": "date",
    "datetime": "date",
    "enumeration": "select",
    "bool": "booleancheckbox",
}
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
    read_only: bool = False
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
            "calculated": self.read_only,
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
                "readOnlyValue": self.name in READ_ONLY or self.read_only,
            },
        }


DEFAULT_READ = {
    "deals": (
        "dealname",
        "amount",
        "dealstage",
        "closedate",
        "pipeline",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ),
    "companies": ("name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"),
    "contacts": (
        "firstname",
        "lastname",
        "email",
        "createdate",
        "lastmodifieddate",
        "hs_object_id",
    ),
    "tasks": (
        "hs_task_subject",
        "hs_timestamp",
        "hs_task_status",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ),
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
    text = (
        value
        if isinstance(value, str)
        else (str(value).lower() if isinstance(value, bool) else str(value))
    )
    if text == "":
        return ""
    name = prop.name
    if prop.type == "number":
        try:
            number = float(text)
        except ValueError:
            raise PropertyValueError(
                "INVALID_DOUBLE", f"{text} was not a valid number.", name
            ) from None
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
                    f"{part} was not one of the allowed options: "
                    + ", ".join(
                        f"[label: {o['label']!r}, value: {o['value']!r}]" for o in prop.options[:12]
                    )
                    + (", ..." if len(prop.options) > 12 else ""),
                    name,
                )
        return text
    if prop.type == "date":
        if _DATE.fullmatch(text):
            try:
                date.fromisoformat(text)
            except ValueError:
                raise PropertyValueError(
                    "INVALID_DATE", f"{text} is not a valid date", name
                ) from None
            return text
        if re.fullmatch(r"\d+", text):
            ms = int(text)
            if ms % 86_400_000:
                raise PropertyValueError(
                    "INVALID_DATE",
                    f"{text} is at {datetime.fromtimestamp(ms / 1000, UTC).isoformat()} which is "
                    "not midnight!",
                    name,
                )
            return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()
        raise PropertyValueError("INVALID_DATE", f"{text} is not a valid date", name)
    if prop.type == "datetime":
        if re.fullmatch(r"\d+", text):
            return hs_datetime(datetime.fromtimestamp(int(text) / 1000, UTC))
        try:
            return hs_datetime(parse_iso(text))
        except ValueError:
            raise PropertyValueError(
                "INVALID_DATETIME", f"{text} is not a valid datetime", name
            ) from None
    return text
