"""Which HubSpot property feeds which model input, and the check that they all exist.

Defaults read HubSpot's standard properties (``mappings.HUBSPOT_COMPANY_FIELDS``):
``industry`` codes and labels go through ``mappings.HUBSPOT_VALUE_MAPS``, checkbox
enumerations are read by label, ``total_money_raised`` (a string) is parsed leniently.
A default the portal lacks is left out and listed by ``unmapped_inputs`` (scored as
missing, the run goes on); a property the operator mapped explicitly must exist
(CONTRACT.md item 5). What validation learns (option labels, money strings, whether the
task key is unique) is kept here for the pull and the task lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierwise.config.settings import HubSpotSettings
from tierwise.connectors import mappings
from tierwise.connectors.errors import SchemaError
from tierwise.connectors.hubspot import paths
from tierwise.connectors.hubspot.client import HubSpotClient, to_dict
from tierwise.connectors.hubspot.native_icp import ICP_PROPERTY, TARGET_ACCOUNT_PROPERTY
from tierwise.connectors.hubspot.native_icp import MARKER_PROPERTY as NATIVE_MARKER_PROPERTY
from tierwise.connectors.hubspot.values import option_labels
from tierwise.connectors.identifiers import check_identifier, model_field_mapping, resolve_mapping
from tierwise.connectors.parsing import value_map

SYSTEM = "hubspot"
Properties = dict[str, dict[str, Any]]


def read_only(prop: Mapping[str, Any]) -> bool:
    meta = prop.get("modification_metadata") or {}
    return bool(meta.get("read_only_value", False)) or bool(prop.get("calculated", False))


class PortalFields:
    """The property names tierwise reads and writes in one portal, and what validation
    learnt about them."""

    def __init__(
        self,
        settings: HubSpotSettings,
        model_fields: Mapping[str, str],
        customer_tiers: Mapping[str, str] | None,
    ) -> None:
        # Customer tier id -> label when customer tiers are on: their properties are then
        # validated, pulled, written and provisioned too (never copied to contacts).
        self.customer_tier_values = dict(customer_tiers) if customer_tiers is not None else None
        self.customer_fields: dict[str, str] = (
            dict(mappings.HUBSPOT_CUSTOMER_FIELDS) if customer_tiers is not None else {}
        )
        field_map = resolve_mapping(
            mappings.HUBSPOT_COMPANY_FIELDS,
            settings.fields,
            system=SYSTEM,
            setting="TIERWISE_HUBSPOT__FIELDS",
        )
        self.model_fields = model_field_mapping(model_fields, field_map, system=SYSTEM)
        # Inputs the operator mapped explicitly: a missing property is then an error.
        self.explicit = frozenset(settings.fields)
        self.unmapped: dict[str, str] = {
            name: "not mapped" for name in model_fields if name not in self.model_fields
        }
        self.value_maps: dict[str, dict[str, str]] = {
            name: value_map({**mappings.HUBSPOT_VALUE_MAPS.get(name, {}), **table})
            for name, table in {
                **{k: {} for k in mappings.HUBSPOT_VALUE_MAPS},
                **settings.value_maps,
            }.items()
        }
        # Per mapped property, read from its definition in validate: enumeration value ->
        # label (list inputs are matched by label), and string properties read as money.
        self.labels: dict[str, dict[str, str]] = {}
        self.options: dict[str, dict[str, str]] = {}  # canonical -> {value: label}
        self.money: set[str] = set()
        self.task_key_unique: bool | None = None  # known after validate or a read
        self.tierwise_fields = resolve_mapping(
            mappings.HUBSPOT_TIERWISE_FIELDS,
            settings.tierwise_fields,
            system=SYSTEM,
            setting="TIERWISE_HUBSPOT__TIERWISE_FIELDS",
        )
        self.identity = dict(mappings.HUBSPOT_IDENTITY_FIELDS)
        self.task_key = check_identifier(
            mappings.HUBSPOT_TASK_KEY_PROPERTY, system=SYSTEM, setting="task key property"
        )

    @property
    def written(self) -> list[str]:
        """Every company property tierwise writes (prospect and customer tiers)."""
        return [*self.tierwise_fields.values(), *self.customer_fields.values()]

    def input_values(self) -> dict[str, frozenset[str]]:
        """canonical input -> every value the model can receive from it, for inputs backed
        by an enumeration (known after ``validate``): option values through the value
        maps (codes and labels -> categories), list inputs by label."""
        out: dict[str, frozenset[str]] = {}
        for canonical, labels in self.options.items():
            kind = self.model_fields.get(canonical, ("", ""))[1]
            table = self.value_maps.get(canonical, {})
            if kind == "list":
                values = set(labels.values())
            else:
                values = {
                    table.get(value.lower()) or table.get(label.lower()) or value
                    for value, label in labels.items()
                }
            out[canonical] = frozenset(values)
        return out


def read_properties(client: HubSpotClient, object_type: str) -> Properties:
    """Every property definition of ``object_type``, by name (one call)."""
    core = client.api("properties.core")
    result = client.call(
        paths.PROPERTIES_ALL,
        lambda t: core.get_all(object_type, _request_timeout=t),
        operation="read properties",
        object_name=object_type,
    )
    return {str(p["name"]): p for p in (to_dict(r) for r in to_dict(result)["results"])}


def validate(
    client: HubSpotClient,
    fields: PortalFields,
    settings: HubSpotSettings,
    companies: Properties,
) -> None:
    """Check every mapped and written property; raise one ``SchemaError`` naming them all
    with the fix, before any write. Learns labels, money strings and task-key uniqueness."""
    problems = _company_problems(fields, settings, companies)
    if settings.copy_to_contacts:
        contacts = read_properties(client, "contacts")
        problems += [
            f"HubSpot contact property {name} does not exist; run 'tierwise provision' to create it"
            for name in fields.written
            if name not in contacts
        ]
    tasks = read_properties(client, "tasks")
    if fields.task_key not in tasks:
        problems.append(
            f"HubSpot task property {fields.task_key} does not exist; "
            "run 'tierwise provision' to create it"
        )
    else:
        # Unique when the portal allowed it (lookups by idProperty); otherwise the
        # lag-tolerant lookup in tasks.py (HubSpot does not document unique task
        # properties, CRM-API-NOTES §2.16).
        fields.task_key_unique = bool(tasks[fields.task_key].get("has_unique_value", False))
    if problems:
        raise SchemaError("; ".join(problems), system=SYSTEM, object_name="companies")


def _company_problems(
    fields: PortalFields, settings: HubSpotSettings, companies: Properties
) -> list[str]:
    problems: list[str] = []
    for canonical, (name, kind) in list(fields.model_fields.items()):
        prop = companies.get(name)
        if prop is None:
            if canonical in fields.explicit:
                problems.append(
                    f"HubSpot company property {name} (model field {canonical!r}, mapped "
                    f"in TIERWISE_HUBSPOT__FIELDS) does not exist; create it or map "
                    f"{canonical!r} to another property"
                )
            else:
                # A default the portal lacks: scored as missing, listed, not fatal.
                del fields.model_fields[canonical]
                fields.unmapped[canonical] = f"no property {name}"
            continue
        labels = option_labels(prop)
        if labels:
            fields.options[canonical] = labels
        if kind == "list" and labels:
            fields.labels[name] = labels
        if kind == "number" and prop.get("type") == "string":
            fields.money.add(name)
    written = fields.written
    for name in (*written, fields.identity["override_tier"], fields.identity["override_until"]):
        if name not in companies:
            problems.append(
                f"HubSpot company property {name} does not exist; "
                "run 'tierwise provision' to create it"
            )
        elif name in written and read_only(companies[name]):
            problems.append(f"HubSpot company property {name} is read-only")
    if settings.write_native_icp:
        if NATIVE_MARKER_PROPERTY not in companies:
            problems.append(
                f"HubSpot company property {NATIVE_MARKER_PROPERTY} does not exist; "
                "run 'tierwise provision' with TIERWISE_HUBSPOT__WRITE_NATIVE_ICP=true"
            )
        for name in (ICP_PROPERTY, TARGET_ACCOUNT_PROPERTY):
            if name not in companies:
                problems.append(
                    f"HubSpot company property {name} does not exist in this portal; "
                    "set TIERWISE_HUBSPOT__WRITE_NATIVE_ICP=false"
                )
    return problems
