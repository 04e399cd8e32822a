"""Access and schema checks: prove the credentials, check every field before any write.

Describe tells what this user can see; Tooling ``CustomField`` tells what exists in the
org whatever this user may see (CRM-API-NOTES §1.16). Between the two, a problem is
named precisely: a field to create (``tierwise provision``), a field hidden by
field-level security, or a field visible but read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from simple_salesforce.format import format_soql

from tierwise.connectors.errors import FatalCrmError, SchemaError
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.fields import OrgFields

log = structlog.get_logger(__name__)


def check_access(client: SalesforceClient, fields: OrgFields) -> None:
    """``GET /limits/``: proves the token and reads the daily API budget."""
    try:
        limits: dict[str, Any] = client.call(
            "limits", lambda sf: sf.limits(), operation="limits check"
        )
    except FatalCrmError as exc:
        if exc.status != 403:
            raise
        # /limits needs "View Setup and Configuration"; describe proves the token too.
        client.describe(fields.account_object, fresh=True)
        return
    daily = limits.get("DailyApiRequests") or {}
    if "Max" in daily and "Remaining" in daily:
        client.usage.daily_max = int(daily["Max"])
        client.usage.daily_used = int(daily["Max"]) - int(daily["Remaining"])


def validate_schema(client: SalesforceClient, fields: OrgFields) -> None:
    """Check every field tierwise reads or writes, before any write.

    Model inputs mapped only by default to a field the org lacks are left out of the
    pull and listed by the connector's ``unmapped_inputs``; an input mapped explicitly to a missing
    field is an error. tierwise's own fields are required: a field the org does not have
    (Tooling ``CustomField``) needs ``tierwise provision``; a field that exists but is
    hidden from, or read-only for, this user needs field-level security (the permission
    set assigned to the user) - describe cannot tell those apart, Tooling can.
    """
    account = client.describe(fields.account_object, fresh=True)
    task = client.describe(fields.task_object, fresh=True)
    problems: list[str] = []
    obj = fields.account_object
    for canonical, (name, _kind) in list(fields.model_fields.items()):
        if name in account:
            continue
        if canonical in fields.explicit_fields:
            problems.append(
                f"Salesforce {obj} field {name} (mapped to model input {canonical!r} in "
                "TIERWISE_SALESFORCE__FIELDS / the mapping file) does not exist or is not "
                "visible to the API user; fix the mapping or grant Read on the field"
            )
            continue
        del fields.model_fields[canonical]
        fields.unmapped[canonical] = f"no field {name}"
    own = [
        (obj, name)
        for name in (
            fields.identity["override_tier"],
            fields.identity["override_until"],
            *fields.tierwise_fields.values(),
            *fields.customer_fields.values(),
        )
    ]
    own.append((fields.task_object, fields.task_key_field))
    described = {obj: account, fields.task_object: task}
    absent = [(o, n) for o, n in own if n not in described[o]]
    existing = existing_custom_fields(client, [n for _, n in absent]) if absent else set()
    setting = client.settings.permission_set or "the integration permission set"
    for object_name, name in own:
        field = described[object_name].get(name)
        if field is None and existing is not None and name not in existing:
            problems.append(
                f"Salesforce {object_name} field {name} does not exist; "
                "run 'tierwise provision' to create it"
            )
        elif field is None:
            where = "exists but" if existing is not None else "does not exist or"
            problems.append(
                f"Salesforce {object_name} field {name} {where} is not visible to the API "
                f"user (field-level security); run 'tierwise provision' (grants Read/Edit "
                f"in permission set {setting} and assigns it to this user) or assign that "
                "permission set to the integration user"
            )
        elif not field.get("updateable", False):
            problems.append(
                f"Salesforce {object_name} field {name} is visible but not editable by the "
                f"API user; grant Edit on it in permission set {setting} (or run "
                "'tierwise provision')"
            )
    key = task.get(fields.task_key_field)
    if key is not None and not key.get("externalId", False):
        problems.append(
            f"Salesforce {fields.task_object} field {fields.task_key_field} is not an External "
            "ID; mark it External ID and Unique (or run 'tierwise provision' on a fresh org)"
        )
    if problems:
        raise SchemaError("; ".join(problems), system=SYSTEM, object_name=obj)
    if fields.unmapped:
        log.info("salesforce_unmapped_inputs", inputs=dict(fields.unmapped))


def existing_custom_fields(client: SalesforceClient, names: Sequence[str]) -> set[str] | None:
    """Custom field API names that exist in the org, whatever this user may see (Tooling
    ``CustomField``, CRM-API-NOTES §1.16); None when Tooling is not available to us."""
    developer = sorted({n.removesuffix("__c") for n in names if n.endswith("__c")})
    if not developer:
        return set()
    soql = format_soql(
        "SELECT DeveloperName, TableEnumOrId FROM CustomField WHERE DeveloperName IN {}",
        developer,
    )
    try:
        result: dict[str, Any] = client.call(
            "tooling/query",
            lambda sf: sf.toolingexecute("query/", params={"q": soql}),
            operation="custom field lookup",
            object_name="CustomField",
            read=True,
        )
    except FatalCrmError:
        return None
    return {f"{r['DeveloperName']}__c" for r in result.get("records") or []}


# ------------------------------------------------------------------ pull
