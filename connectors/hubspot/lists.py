"""HubSpot tier lists: one DYNAMIC company list per tier (``create_lists``).

A list create is not idempotent, so it runs under the engine's create-unless-done
policy: before a retry the name is looked up again. Lists are a convenience - the tier
properties work without them - so a portal at its list limit or a token without
``crm.lists.write`` gets a ``list_failed`` step and a warning, and provisioning goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from tierwise.connectors.base import ProvisionStep
from tierwise.connectors.errors import CrmError
from tierwise.connectors.hubspot import paths
from tierwise.connectors.hubspot import specs as hs_specs
from tierwise.connectors.hubspot.client import HubSpotClient, ReadBackFailed, read_back

COMPANY_OBJECT_TYPE_ID = hs_specs.COMPANY_OBJECT_TYPE_ID

log = structlog.get_logger(__name__)


def _find(client: HubSpotClient, lists: Any, name: str) -> Any:
    return client.maybe(
        paths.LIST_BY_NAME,
        lambda t: lists.get_by_name(name, COMPANY_OBJECT_TYPE_ID, _request_timeout=t),
        operation="read list",
        object_name="lists",
    )


def ensure_lists(
    client: HubSpotClient, tier_property: str, tier_values: Mapping[str, str], dry_run: bool
) -> list[ProvisionStep]:
    """One list per tier, named ``tierwise: <label>``; existing ones are left alone."""
    lists = client.api("lists")
    steps: list[ProvisionStep] = []
    for tier_id, label in tier_values.items():
        name = f"tierwise: {label}"
        found = _find(client, lists, name)
        steps.append(ProvisionStep("list", "companies", name, found is not None))
        if found is not None or dry_run:
            continue
        body = hs_specs.tier_list(name, tier_property, tier_id)
        try:
            _create(client, lists, name, body)
        except CrmError as exc:
            if exc.status not in (400, 403):
                raise
            # A list limit or a token without crm.lists.write: the tier properties work
            # without lists; report it and go on.
            reason = "missing scope crm.lists.write" if exc.status == 403 else str(exc)
            log.warning("hubspot_list_not_created", list=name, reason=reason)
            steps[-1] = ProvisionStep("list_failed", "companies", f"{name} ({reason})", False)
    return steps


def _create(client: HubSpotClient, lists: Any, name: str, body: Mapping[str, Any]) -> None:
    """Create unless done: before a retry, look the name up again."""
    try:
        client.policy.call_unless_done(
            lambda: client.attempt(
                paths.LIST_CREATE,
                lambda t: lists.create(dict(body), _request_timeout=t),
                operation="create list",
                object_name="lists",
            ),
            lambda: read_back(lambda: _find(client, lists, name) is not None),
        )
    except ReadBackFailed as failed:
        raise failed.error from None
