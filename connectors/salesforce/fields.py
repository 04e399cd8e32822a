"""Which Salesforce fields tierwise reads and writes in this org, resolved once.

Built from the defaults in ``tierwise.connectors.mappings`` under the operator's settings and
mapping file; every identifier is checked here, at start-up, so the SOQL built from
them later cannot be injected into. ``validate_schema`` narrows ``model_fields`` to what
the org has and records why the rest is ``unmapped``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tierwise.config.settings import SalesforceSettings
from tierwise.connectors import mappings
from tierwise.connectors.identifiers import check_identifier, model_field_mapping, resolve_mapping
from tierwise.connectors.parsing import value_map

SYSTEM = "salesforce"
# Canonical field filled from the optional Tasks + Events aggregate (activity_aggregate_days).
ACTIVITY_FIELD = "activity_count"


@dataclass
class OrgFields:
    """The resolved field mapping of one org (mutable: schema validation narrows it)."""

    account_object: str
    task_object: str
    # Canonical model input -> (Account field, kind); inputs the org lacks are removed.
    model_fields: dict[str, tuple[str, str]]
    # The model's inputs as configured (canonical -> kind).
    wanted_fields: dict[str, str]
    # Mapped by the operator (settings / mapping file): a missing field is an error.
    explicit_fields: frozenset[str]
    # Inputs derived from open Opportunities unless mapped to an Account field.
    derived: tuple[str, ...]
    unmapped: dict[str, str]
    value_maps: dict[str, dict[str, str]]
    tierwise_fields: dict[str, str]
    customer_fields: dict[str, str]
    # Customer tier id -> label when customer tiers are on (None: off).
    customer_tier_values: dict[str, str] | None
    identity: dict[str, str]
    task_key_field: str

    def activity_days(self, settings: SalesforceSettings) -> int | None:
        """Days of the activity aggregate, when configured and the model uses the field."""
        days = settings.activity_aggregate_days
        if days is None or days <= 0 or ACTIVITY_FIELD not in self.wanted_fields:
            return None
        return days

    def written_field(self, logical: str) -> str | None:
        """The Account field behind one of tierwise's logical output names."""
        return self.tierwise_fields.get(logical) or self.customer_fields.get(logical)


def resolve_fields(
    settings: SalesforceSettings,
    model_fields: Mapping[str, str],
    customer_tiers: Mapping[str, str] | None,
) -> OrgFields:
    """The org's field mapping from defaults, settings and the model's inputs."""
    account_object = check_identifier(
        settings.account_object, system=SYSTEM, setting="TIERWISE_SALESFORCE__ACCOUNT_OBJECT"
    )
    task_object = check_identifier(
        settings.task_object, system=SYSTEM, setting="TIERWISE_SALESFORCE__TASK_OBJECT"
    )
    field_map = resolve_mapping(
        mappings.SALESFORCE_ACCOUNT_FIELDS,
        settings.fields,
        system=SYSTEM,
        setting="TIERWISE_SALESFORCE__FIELDS",
    )
    mapped = model_field_mapping(model_fields, field_map, system=SYSTEM)
    derived = tuple(
        name
        for name in mappings.SALESFORCE_DERIVED_INPUTS
        if name in model_fields and name not in field_map
    )
    unmapped = {
        name: "not mapped"
        for name in model_fields
        if name not in field_map
        and name not in derived
        and not (name == ACTIVITY_FIELD and settings.activity_aggregate_days)
    }
    merged_maps: dict[str, dict[str, str]] = {
        key: dict(table) for key, table in mappings.SALESFORCE_VALUE_MAPS.items()
    }
    for key, table in settings.value_maps.items():
        merged_maps[key] = {**merged_maps.get(key, {}), **table}
    return OrgFields(
        account_object=account_object,
        task_object=task_object,
        model_fields=mapped,
        wanted_fields=dict(model_fields),
        explicit_fields=frozenset(settings.fields),
        derived=derived,
        unmapped=unmapped,
        value_maps={key: value_map(table) for key, table in merged_maps.items()},
        tierwise_fields=resolve_mapping(
            mappings.SALESFORCE_TIERWISE_FIELDS,
            settings.tierwise_fields,
            system=SYSTEM,
            setting="TIERWISE_SALESFORCE__TIERWISE_FIELDS",
        ),
        customer_fields=(
            dict(mappings.SALESFORCE_CUSTOMER_FIELDS) if customer_tiers is not None else {}
        ),
        customer_tier_values=dict(customer_tiers) if customer_tiers is not None else None,
        identity=dict(mappings.SALESFORCE_IDENTITY_FIELDS),
        task_key_field=mappings.SALESFORCE_TASK_KEY_FIELD,
    )
