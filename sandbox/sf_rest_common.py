"""Helpers several Salesforce REST route groups share: request bodies, faults, records out.

Module-level functions rather than methods of one mixin, so each route mixin of
``SalesforceEmulator`` (``sf_rest_records``, ``sf_rest_collections``, ``sf_rest_tooling``,
``sf_rest_bulk``) can call them without depending on another mixin: the JSON object body
check, the injected per-record fault, a record as the REST API returns it, and the
external-ID field an upsert or lookup names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierwise.sandbox.faults import FaultSet
from tierwise.sandbox.sf_store import RecordError, RequestError, SalesforceOrg
from tierwise.sandbox.wire import Request


def record_out(
    org: SalesforceOrg,
    object_name: str,
    record: Mapping[str, Any],
    version: str,
    fields_arg: str | None,
) -> dict[str, Any]:
    if fields_arg:
        names = []
        for raw in fields_arg.split(","):
            fdef = org.field(object_name, raw.strip())
            if fdef is None:
                raise RequestError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{raw.strip()}' on entity '{object_name}'.",
                )
            names.append(fdef.name)
    else:
        names = [f.name for f in org.visible_fields(object_name)]
    return org.project(object_name, record, names, version)


def body_dict(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise RequestError(
            400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from START_ARRAY"
        )
    return body


def injected_fault(faults: FaultSet, request: Request, keys: list[str]) -> RecordError | None:
    for rule in request.record_faults:
        if any(faults.record_fails(rule, key) for key in keys if key) or (
            not any(keys) and faults.record_fails(rule, "")
        ):
            code = rule.code or "UNABLE_TO_LOCK_ROW"
            message = rule.message or (
                "unable to obtain exclusive access to this record or 1 records: "
                + (keys[0] if keys and keys[0] else "")
                if code == "UNABLE_TO_LOCK_ROW"
                else f"{code}: injected failure"
            )
            return RecordError(code, message, [])
    return None


def external_field(org: SalesforceOrg, object_name: str, field_name: str) -> str:
    fdef = org.field(object_name, field_name)
    if fdef is None or not (fdef.external_id or fdef.name == "Id"):
        raise RequestError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {field_name}",
        )
    return fdef.name
