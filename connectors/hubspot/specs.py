"""What ``provision`` asks HubSpot to create: property, task-key and list definitions.

Plain data, built from the resolved field names, so a dry run, a real run and a test see
the same definitions. Shapes follow the client's models (CRM-API-NOTES §2.5 properties,
§2.8 lists: a root OR branch with AND branches under it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierwise.connectors import mappings
from tierwise.connectors.hubspot.native_icp import MARKER_PROPERTY

COMPANY_OBJECT_TYPE_ID = "0-2"


def spec(name: str, label: str, type_: str, field_type: str, **extra: Any) -> dict[str, Any]:
    """One property definition in tierwise's group."""
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "groupName": mappings.HUBSPOT_PROPERTY_GROUP,
        **extra,
    }


def _options(values: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {"label": label, "value": value, "displayOrder": i, "hidden": False}
        for i, (value, label) in enumerate(values.items())
    ]


def company_specs(
    tier_values: Mapping[str, str],
    tierwise: Mapping[str, str],
    identity: Mapping[str, str],
    customer: Mapping[str, str],
    customer_tier_values: Mapping[str, str] | None,
    native_icp: bool,
) -> list[dict[str, Any]]:
    """tierwise's company properties: tier fields, the manual override, customer-tier
    fields when customer tiers are on, the native-ICP marker when that option is on."""
    options = _options(tier_values)
    out = [
        spec(tierwise["tier"], "Tierwise tier", "enumeration", "select", options=options),
        spec(tierwise["score"], "Tierwise score", "number", "number"),
        spec(tierwise["reason"], "Tierwise reason", "string", "textarea"),
        spec(tierwise["play"], "Tierwise play", "string", "text"),
        spec(tierwise["sla_due"], "Tierwise SLA due", "date", "date"),
        spec(tierwise["tier_changed"], "Tierwise tier changed", "date", "date"),
        spec(
            identity["override_tier"],
            "Tierwise tier override",
            "enumeration",
            "select",
            options=options,
        ),
        spec(identity["override_until"], "Tierwise override until", "date", "date"),
    ]
    if customer_tier_values is not None:
        out += [
            spec(
                customer["customer_tier"],
                "Tierwise customer tier",
                "enumeration",
                "select",
                options=_options(customer_tier_values),
            ),
            spec(customer["customer_score"], "Tierwise customer score", "number", "number"),
            spec(customer["customer_reason"], "Tierwise customer reason", "string", "textarea"),
            spec(customer["customer_play"], "Tierwise customer play", "string", "text"),
            spec(
                customer["customer_tier_changed"], "Tierwise customer tier changed", "date", "date"
            ),
        ]
    if native_icp:
        out.append(
            spec(
                MARKER_PROPERTY,
                "Tierwise native ICP (last written)",
                "string",
                "text",
                description="What tierwise last wrote to the ICP tier and target-"
                "account flag; tierwise leaves values that differ alone.",
            )
        )
    return out


def task_key_spec(name: str, unique: bool) -> dict[str, Any]:
    """The task key property; unique where the portal allows it (§2.16)."""
    out = spec(name, "Tierwise key", "string", "text")
    if unique:
        out["hasUniqueValue"] = True
    return out


def tier_list(name: str, tier_property: str, tier_id: str) -> dict[str, Any]:
    """A DYNAMIC company list of one tier."""
    condition = {
        "filterType": "PROPERTY",
        "property": tier_property,
        "operation": {
            "operationType": "ENUMERATION",
            "operator": "IS_ANY_OF",
            "values": [tier_id],
            "includeObjectsWithNoValueSet": False,
        },
    }
    return {
        "name": name,
        "objectTypeId": COMPANY_OBJECT_TYPE_ID,
        "processingType": "DYNAMIC",
        "filterBranch": {
            "filterBranchType": "OR",
            "filters": [],
            "filterBranches": [
                {"filterBranchType": "AND", "filterBranches": [], "filters": [condition]}
            ],
        },
    }
