"""Salesforce Tooling ``CustomField`` routes: create a custom field, read it back.

A mixin of ``SalesforceEmulator`` (``salesforce.py`` registers the routes), kept apart
so the emulator class stays a readable size: how tierwise's ``provision`` creates its
fields (checks, Activity fields for Task and Event, field-level security hiding).
"""

from __future__ import annotations

import re

from tierwise.sandbox.clock import SandboxClock, sf_datetime
from tierwise.sandbox.sf_rest_common import body_dict
from tierwise.sandbox.sf_schema_fields import FieldDef, field_from_metadata
from tierwise.sandbox.sf_store import ACTIVITY_OBJECTS, TOOLING_ONLY, RequestError, SalesforceOrg
from tierwise.sandbox.wire import Request, Response


class ToolingRoutes:
    """Tooling ``CustomField`` handlers; needs ``self.org``, ``self.clock`` and
    ``self.require_field_permissions``."""

    org: SalesforceOrg
    clock: SandboxClock
    require_field_permissions: bool

    # ---- Tooling ------------------------------------------------------------------------------

    def _tooling_create_field(self, request: Request) -> Response:
        body = body_dict(request)
        full_name = str(body.get("FullName") or "")
        object_part, _, field_name = full_name.partition(".")
        meta = body.get("Metadata")
        if not field_name or not isinstance(meta, dict):
            raise RequestError(
                400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [FullName, Metadata]"
            )
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*__c", field_name) or "__" in field_name[:-3]:
            raise RequestError(
                400, "INVALID_FIELD", f"The field name {field_name} is not valid for a custom field"
            )
        with self.org.lock:
            if object_part.lower() in ("task", "event"):
                # Task and Event custom fields are created on Activity [SmartFactory#31]
                # [salto:task_and_event_custom_fields.ts]; the Tooling REST body is a guess
                # (CRM-API-NOTES §1.15).
                raise RequestError(
                    400,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    "Entity Enumeration Or ID: bad value for restricted picklist field: "
                    f"{object_part.capitalize()}",
                )
            is_activity = object_part.lower() == "activity"
            try:
                object_name = "Activity" if is_activity else self.org.object_name(object_part)
                if object_name in TOOLING_ONLY:
                    raise RequestError(404, "NOT_FOUND", object_name)
            except RequestError as exc:
                raise RequestError(
                    400, "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {object_part}"
                ) from exc
            targets = ACTIVITY_OBJECTS if is_activity else (object_name,)
            if any(
                field_name.lower() in {f.lower() for f in self.org.schemas[target]}
                for target in targets
            ):
                raise RequestError(
                    400,
                    "DUPLICATE_DEVELOPER_NAME",
                    f"There is already a field named {field_name.removesuffix('__c')} on "
                    f"{object_name}.",
                )
            try:
                fdef: FieldDef = field_from_metadata(field_name, meta)
            except ValueError as exc:
                raise RequestError(400, "FIELD_INTEGRITY_EXCEPTION", str(exc)) from exc
            fdef.hidden = self.require_field_permissions
            for target in targets:
                self.org.add_field(target, fdef)
            new_id = self.org.new_id("CustomField")
            stamp = sf_datetime(self.clock.tick())
            row = {
                "Id": new_id,
                "FullName": f"{object_name}.{field_name}",
                "DeveloperName": field_name.removesuffix("__c"),
                "TableEnumOrId": object_name,
                "IsDeleted": False,
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
            }
            self.org.objects["CustomField"][new_id] = row
            self.org.custom_fields[new_id] = {**row, "Metadata": meta}
        return Response.json(
            201,
            {"id": new_id, "success": True, "errors": [], "warnings": [], "infos": []},
            records=1,
        )

    def _tooling_get_field(self, request: Request) -> Response:
        record = self.org.custom_fields.get(self.org.norm_id(request.params["id"]))
        if record is None:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        return Response.json(
            200,
            {
                "attributes": {
                    "type": "CustomField",
                    "url": f"/services/data/v"
                    f"{request.params['ver']}/tooling/sobjects/CustomField/{record['Id']}",
                },
                **record,
            },
            records=1,
        )
