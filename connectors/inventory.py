"""What a CRM holds, as ``tierwise connect`` sees it: fields, their types, this user's
access, how full they are in a sample, and the permissions later commands need.

The records here are plain and CRM-neutral so the matching in ``tierwise.sync.connect`` is a
pure function of them (tested with hand-built records); only the two ``inspect``
modules talk to a CRM, and only through the connector's own retrying call wrapper.
Nothing in this path writes to a CRM: ``connect`` is safe to run against production.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Canonical kinds a model input can have (tiering.model.FIELD_TYPES).
KINDS = ("number", "string", "bool", "date", "list")

# Salesforce describe ``type`` -> canonical kind. Types not listed (id, reference,
# base64, address, location, anyType, ...) cannot feed a model input.
SALESFORCE_KINDS: Mapping[str, str] = {
    "double": "number",
    "currency": "number",
    "percent": "number",
    "int": "number",
    "long": "number",
    "string": "string",
    "picklist": "string",
    "combobox": "string",
    "email": "string",
    "phone": "string",
    "url": "string",
    "textarea": "string",
    "multipicklist": "list",
    "boolean": "bool",
    "date": "date",
    "datetime": "date",
}

# Permission check outcomes.
OK, MISSING, UNKNOWN = "ok", "missing", "unknown"


def salesforce_kind(crm_type: str) -> str | None:
    return SALESFORCE_KINDS.get(crm_type)


def hubspot_kind(crm_type: str, field_type: str | None) -> str | None:
    """HubSpot ``type`` + ``fieldType`` -> canonical kind: an enumeration is a list when it
    is a multi-select ``checkbox``, a bool when a ``booleancheckbox``, else one value."""
    if crm_type == "enumeration":
        if field_type == "checkbox":
            return "list"
        if field_type == "booleancheckbox":
            return "bool"
        return "string"
    return {
        "number": "number",
        "string": "string",
        "phone_number": "string",
        "bool": "bool",
        "date": "date",
        "datetime": "date",
    }.get(crm_type)


@dataclass(frozen=True, slots=True)
class Option:
    """One picklist / enumeration option: what the org stores and what users see."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field (Salesforce) or property (HubSpot) as this user sees it.

    ``readable`` is False for a field tierwise knows of (its own) that describe does not
    show: missing and "no field-level security" look the same from the user's side.
    ``fill_rate`` is the share of sampled records with a value (None: not sampled).
    """

    name: str
    label: str
    crm_type: str
    kind: str | None
    readable: bool = True
    writable: bool = False
    options: tuple[Option, ...] = ()
    fill_rate: float | None = None
    custom: bool = False


@dataclass(frozen=True, slots=True)
class PermissionCheck:
    """A permission or scope a tierwise command needs, probed without writing anything.

    ``status`` is ``ok``, ``missing`` (the CRM refused the probe: name the fix) or
    ``unknown`` (the probe could not tell, e.g. a write scope that only a write proves).
    """

    name: str
    needed_by: tuple[str, ...]
    status: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OwnField:
    """One of tierwise's own fields (tier, score, ..., the task key) and whether this
    user can read and write it; ``info`` is None when describe does not show it, and
    ``hidden`` then says the field exists all the same (no field-level security)."""

    logical: str
    object_name: str
    name: str
    info: FieldInfo | None
    hidden: bool = False


@dataclass
class CrmInventory:
    """Everything ``connect`` learnt about one CRM.

    ``mapping`` is the connector's effective mapping (defaults merged with the
    configured ``fields``); ``explicit`` the canonical names the operator mapped
    himself; ``value_maps`` the effective per-input value maps (lower-cased keys).
    """

    system: str
    object_name: str
    fields: dict[str, FieldInfo]
    sample_size: int
    mapping: dict[str, str]
    explicit: frozenset[str]
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    own_fields: list[OwnField] = field(default_factory=list)
    permissions: list[PermissionCheck] = field(default_factory=list)
    derived: dict[str, str] = field(default_factory=dict)
    api_calls: int = 0


def empty(value: Any) -> bool:
    """A sampled value that does not count as filled."""
    return value is None or (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def fill_rates(records: Iterable[Mapping[str, Any]], names: Iterable[str]) -> dict[str, float]:
    """name -> share of ``records`` holding a non-empty value (empty sample: nothing)."""
    rows = list(records)
    if not rows:
        return {}
    return {name: sum(1 for row in rows if not empty(row.get(name))) / len(rows) for name in names}


def inspect_crm(connector: Any, sample: int = 200) -> CrmInventory:
    """Inspect the CRM behind ``connector`` (the one place that dispatches by system)."""
    system = getattr(connector, "system", "")
    if system == "salesforce":
        from tierwise.connectors.salesforce.inspect import inspect_salesforce

        return inspect_salesforce(connector, sample)
    if system == "hubspot":
        from tierwise.connectors.hubspot.inspect import inspect_hubspot

        return inspect_hubspot(connector, sample)
    raise ValueError(f"tierwise connect cannot inspect a {system or 'unknown'} connector")


def inspect_fields(connector: Any) -> CrmInventory:
    """The fields (with picklist / enumeration options) and effective mapping of the CRM
    behind ``connector``, in one read: what ``validate --online`` checks value tables on."""
    system = getattr(connector, "system", "")
    if system == "salesforce":
        from tierwise.connectors.salesforce.inspect import inspect_fields as salesforce_fields

        return salesforce_fields(connector)
    if system == "hubspot":
        from tierwise.connectors.hubspot.inspect import inspect_fields as hubspot_fields

        return hubspot_fields(connector)
    raise ValueError(f"tierwise cannot inspect a {system or 'unknown'} connector")
