"""HubSpot provisioning: tierwise's property groups, properties, task key and lists.

Idempotent: what exists is reported as such and left alone; a 409 (created meanwhile by
another process) counts as done. A dry run only reads. HubSpot does not document unique
task properties (CRM-API-NOTES §2.16): a portal that refuses a unique task key gets a
plain one, and the task lookup (``tasks``) copes without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from tierwise.config.settings import HubSpotSettings
from tierwise.connectors import mappings
from tierwise.connectors.base import ProvisionStep
from tierwise.connectors.errors import CrmError, FatalCrmError
from tierwise.connectors.hubspot import paths
from tierwise.connectors.hubspot import specs as hs_specs
from tierwise.connectors.hubspot.client import HubSpotClient
from tierwise.connectors.hubspot.lists import ensure_lists
from tierwise.connectors.hubspot.schema import PortalFields, read_properties

log = structlog.get_logger(__name__)


def provision(
    client: HubSpotClient,
    fields: PortalFields,
    settings: HubSpotSettings,
    tier_values: Mapping[str, str],
    dry_run: bool,
) -> list[ProvisionStep]:
    specs = hs_specs.company_specs(
        tier_values,
        fields.tierwise_fields,
        fields.identity,
        fields.customer_fields,
        fields.customer_tier_values,
        settings.write_native_icp,
    )
    steps = [_ensure_group(client, "companies", dry_run)]
    steps += _ensure_properties(client, "companies", specs, dry_run)
    if settings.copy_to_contacts:
        written = set(fields.tierwise_fields.values())
        steps.append(_ensure_group(client, "contacts", dry_run))
        steps += _ensure_properties(
            client, "contacts", [s for s in specs if s["name"] in written], dry_run
        )
    steps.append(_ensure_group(client, "tasks", dry_run))
    key_spec = hs_specs.task_key_spec(fields.task_key, unique=True)
    try:
        steps += _ensure_properties(client, "tasks", [key_spec], dry_run)
    except CrmError as exc:
        if exc.status != 400:
            raise
        log.warning("hubspot_unique_task_key_refused", property=fields.task_key, reason=str(exc))
        plain = hs_specs.task_key_spec(fields.task_key, unique=False)
        steps += _ensure_properties(client, "tasks", [plain], dry_run)
    if settings.create_lists:
        steps += ensure_lists(client, fields.tierwise_fields["tier"], tier_values, dry_run)
    return steps


def _ensure_group(client: HubSpotClient, object_type: str, dry_run: bool) -> ProvisionStep:
    groups = client.api("properties.groups")
    name = mappings.HUBSPOT_PROPERTY_GROUP
    found = client.maybe(
        paths.GROUP_GET,
        lambda t: groups.get_by_name(object_type, name, _request_timeout=t),
        operation="read property group",
        object_name=object_type,
    )
    step = ProvisionStep("property_group", object_type, name, found is not None)
    if found is None and not dry_run:
        body = {"name": name, "label": "Tierwise", "displayOrder": -1}
        try:
            client.call(
                paths.GROUP_CREATE,
                lambda t: groups.create(object_type, body, _request_timeout=t),
                operation="create property group",
                object_name=object_type,
            )
        except FatalCrmError as exc:
            if exc.status != 409:  # 409: created meanwhile
                raise
    return step


def _ensure_properties(
    client: HubSpotClient, object_type: str, specs: Sequence[dict[str, Any]], dry_run: bool
) -> list[ProvisionStep]:
    core = client.api("properties.core")
    existing = read_properties(client, object_type)
    steps: list[ProvisionStep] = []
    kind = "task_field" if object_type == "tasks" else "property"
    for spec in specs:
        name = str(spec["name"])
        steps.append(ProvisionStep(kind, object_type, name, name in existing))
        if name in existing or dry_run:
            continue
        try:
            client.call(
                paths.PROPERTY_CREATE,
                lambda t, body=spec: core.create(object_type, body, _request_timeout=t),  # type: ignore[misc]  # lambda default binds the spec
                operation="create property",
                object_name=object_type,
            )
        except FatalCrmError as exc:
            if exc.status != 409:
                raise
    return steps
