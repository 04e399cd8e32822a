"""The custom fields tierwise creates, declared once per tier target.

Prospect and customer tiers are two declarations of the same shape (tier picklist,
score, reason, play, dates); the override pair and the task key are declared beside
them. ``custom_field_specs`` turns the declarations into Tooling API ``Metadata``, in
the order provisioning creates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierwise.connectors.salesforce.fields import OrgFields

Spec = tuple[str, str, dict[str, Any]]  # (object, field API name, Tooling Metadata)

PICKLIST = "Picklist"  # filled with the target's tier ids and labels
NUMBER: dict[str, Any] = {"type": "Number", "precision": 5, "scale": 1}
DATE: dict[str, Any] = {"type": "Date"}
REASON: dict[str, Any] = {"type": "Text", "length": 255}
PLAY: dict[str, Any] = {"type": "Text", "length": 80}

# logical field -> (label, metadata or PICKLIST), per target, in creation order.
PROSPECT_FIELDS: tuple[tuple[str, str, dict[str, Any] | str], ...] = (
    ("tier", "Tierwise Tier", PICKLIST),
    ("score", "Tierwise Score", NUMBER),
    ("reason", "Tierwise Reason", REASON),
    ("play", "Tierwise Play", PLAY),
    ("sla_due", "Tierwise SLA Due", DATE),
    ("tier_changed", "Tierwise Tier Changed", DATE),
)
OVERRIDE_FIELDS: tuple[tuple[str, str, dict[str, Any] | str], ...] = (
    ("override_tier", "Tierwise Tier Override", PICKLIST),
    ("override_until", "Tierwise Override Until", DATE),
)
CUSTOMER_FIELDS: tuple[tuple[str, str, dict[str, Any] | str], ...] = (
    ("customer_tier", "Tierwise Customer Tier", PICKLIST),
    ("customer_score", "Tierwise Customer Score", NUMBER),
    ("customer_reason", "Tierwise Customer Reason", REASON),
    ("customer_play", "Tierwise Customer Play", PLAY),
    ("customer_tier_changed", "Tierwise Customer Tier Changed", DATE),
)
TASK_KEY: dict[str, Any] = {
    "label": "Tierwise Key",
    "type": "Text",
    "length": 80,
    "externalId": True,
    "unique": True,
    "caseSensitive": True,
}


def picklist(values: Mapping[str, str]) -> dict[str, Any]:
    """A restricted picklist value set of tier id -> label."""
    return {
        "restricted": True,
        "valueSetDefinition": {
            "sorted": False,
            "value": [
                {"fullName": tier_id, "label": label, "default": False}
                for tier_id, label in values.items()
            ],
        },
    }


def _declare(
    object_name: str,
    names: Mapping[str, str],
    declared: tuple[tuple[str, str, dict[str, Any] | str], ...],
    tier_values: Mapping[str, str],
) -> list[Spec]:
    specs: list[Spec] = []
    for logical, label, kind in declared:
        if kind == PICKLIST:
            metadata: dict[str, Any] = {
                "label": label,
                "type": "Picklist",
                "valueSet": picklist(tier_values),
            }
        else:
            assert isinstance(kind, dict)
            metadata = {"label": label, **kind}
        specs.append((object_name, names[logical], metadata))
    return specs


def custom_field_specs(fields: OrgFields, tier_values: Mapping[str, str]) -> list[Spec]:
    """(object, field, Metadata) for everything tierwise creates in this org."""
    account = fields.account_object
    specs = _declare(account, fields.tierwise_fields, PROSPECT_FIELDS, tier_values)
    specs += _declare(account, fields.identity, OVERRIDE_FIELDS, tier_values)
    specs.append((fields.task_object, fields.task_key_field, dict(TASK_KEY)))
    if fields.customer_tier_values is not None:
        specs += _declare(
            account, fields.customer_fields, CUSTOMER_FIELDS, fields.customer_tier_values
        )
    return specs
