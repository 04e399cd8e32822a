"""The org's writes: a create or update validated into a planned write, committed; deletes.

A mixin of ``SalesforceOrg`` (``sf_store.py``), kept apart so the org stays a readable
size. The REST routes (``salesforce.py``) and Bulk 2.0 ingest (``bulk.py``) both call
``plan`` then ``commit``, so field checks, field-level security, duplicate external ids
and the derived fields (Task ``IsClosed``, activity ``AccountId``, Opportunity
``IsClosed``/``IsWon``) are decided here once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tierwise.sandbox.clock import SandboxClock, parse_iso, sf_datetime
from tierwise.sandbox.seed import OWNERS
from tierwise.sandbox.sf_errors import RecordError, RequestError
from tierwise.sandbox.sf_org_schema import OrgSchema
from tierwise.sandbox.sf_schema import KEY_PREFIX, NUMERIC_TYPES

ACTIVITY_OBJECTS = ("Task", "Event")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class PlannedWrite:
    object_name: str
    record_id: str
    values: dict[str, Any]
    created: bool


class OrgWrites(OrgSchema):
    """Validation, commits and deletes; reads ``OrgSchema``'s ``objects``, ``deleted``,
    ``schemas``, ``layouts`` and ``_ext_index``."""

    clock: SandboxClock
    _closed_status: dict[str, bool]

    # ---- writes -----------------------------------------------------------------------------

    def coerce(self, object_name: str, name: str, value: Any, *, create: bool) -> tuple[str, Any]:
        """Validate one field value; returns (canonical name, wire value)."""
        fdef = self.field(object_name, name)
        if fdef is None:
            raise RecordError(
                "INVALID_FIELD", f"No such column '{name}' on sobject of type {object_name}", [name]
            )
        if not (fdef.createable if create else fdef.updateable) or not self.editable(
            object_name, fdef
        ):
            raise RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {fdef.name}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                [fdef.name],
            )
        label = fdef.label or fdef.name
        if value is None or value == "":
            if not fdef.nillable and fdef.type != "boolean":
                raise RecordError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{fdef.name}]",
                    [fdef.name],
                )
            return fdef.name, False if fdef.type == "boolean" else None
        ftype = fdef.type
        if ftype in NUMERIC_TYPES:
            number = _json_number(value, fdef.name, "double")
            if ftype == "int":
                if number != int(number):
                    raise _parse_error(value, "int")
                return fdef.name, int(number)
            return fdef.name, number
        if ftype == "boolean":
            if isinstance(value, bool):
                return fdef.name, value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return fdef.name, value.lower() == "true"
            raise _parse_error(value, "boolean")
        if ftype == "date":
            if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
                raise _parse_error(value, "date")
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise _parse_error(value, "date") from exc
            return fdef.name, value
        if ftype == "datetime":
            try:
                return fdef.name, sf_datetime(parse_iso(str(value)))
            except ValueError as exc:
                raise _parse_error(value, "datetime") from exc
        text = (
            value
            if isinstance(value, str)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
        if fdef.length and len(text) > fdef.length:
            raise RecordError(
                "STRING_TOO_LONG",
                f"{label}: data value too large: {text[:80]} (max length={fdef.length})",
                [fdef.name],
            )
        if ftype == "picklist" and fdef.restricted and text not in fdef.picklist:
            raise RecordError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{label}: bad value for restricted picklist field: {text}",
                [fdef.name],
            )
        if ftype == "reference":
            text = self.norm_id(text)
            targets = fdef.reference_to
            if not any(text.startswith(KEY_PREFIX.get(t, "~")) for t in targets):
                raise RecordError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"{label}: id value of incorrect type: {text}",
                    [fdef.name],
                )
            if not any(text in self.objects.get(t, {}) for t in targets):
                raise RecordError(
                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [fdef.name]
                )
        return fdef.name, text

    def plan(
        self, object_name: str, record_id: str | None, values: Mapping[str, Any]
    ) -> PlannedWrite:
        """Validate a create (``record_id`` None) or update; raises RecordError/RequestError."""
        create = record_id is None
        if not create:
            assert record_id is not None
            record_id = self.norm_id(record_id)
            if record_id not in self.objects[object_name]:
                if record_id[:3] != KEY_PREFIX.get(object_name):
                    raise RecordError(
                        "MALFORMED_ID",
                        f"{object_name} ID: id value of incorrect type: {record_id}",
                        ["Id"],
                    )
                raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
        clean: dict[str, Any] = {}
        for name, value in values.items():
            if name == "attributes" or name.lower() == "id":
                continue
            canonical, wire = self.coerce(object_name, name, value, create=create)
            clean[canonical] = wire
        if create:
            for fdef in self.visible_fields(object_name):
                if fdef.name in clean:
                    continue
                if fdef.default is not None:
                    clean[fdef.name] = fdef.default
                elif not fdef.nillable and fdef.createable and fdef.type != "boolean":
                    if fdef.name == "OwnerId":
                        clean["OwnerId"] = OWNERS[0].salesforce_id
                        continue
                    raise RecordError(
                        "REQUIRED_FIELD_MISSING",
                        f"Required fields are missing: [{fdef.name}]",
                        [fdef.name],
                    )
        if object_name == "FieldPermissions":
            self._check_field_permission(record_id, clean)
        if object_name == "PermissionSetAssignment" and create:
            self._check_assignment(clean)
        for (obj, fname), index in self._ext_index.items():
            if obj != object_name or clean.get(fname) is None:
                continue
            owners = [i for i in index.get(str(clean[fname]).lower(), []) if i != record_id]
            if owners and self.schemas[obj][fname].unique:
                raise RecordError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {fname} duplicates value on record with id: "
                    f"{owners[0]}",
                    [fname],
                )
        new_id = record_id if record_id is not None else ""
        return PlannedWrite(object_name, new_id, clean, create)

    def _check_assignment(self, clean: Mapping[str, Any]) -> None:
        for row in self.objects["PermissionSetAssignment"].values():
            if (row.get("AssigneeId"), row.get("PermissionSetId")) == (
                clean.get("AssigneeId"),
                clean.get("PermissionSetId"),
            ):
                # Message per public reports; the exact errorCode is a guess.
                raise RecordError(
                    "DUPLICATE_VALUE",
                    "Duplicate PermissionSetAssignment. Assignee: "
                    f"{clean.get('AssigneeId')}; Permission Set: "
                    f"{clean.get('PermissionSetId')}",
                    [],
                )

    def _check_field_permission(self, record_id: str | None, clean: Mapping[str, Any]) -> None:
        current = self.objects["FieldPermissions"].get(record_id or "", {})
        merged = {**current, **clean}
        object_name, _, field_name = str(merged.get("Field") or "").partition(".")
        # Activity fields are granted per object (Task.X, Event.X), never Activity.X
        # [sfpowerkit#446]; FieldPermissions names hidden fields too (that is its purpose).
        if field_name not in self.schemas.get(object_name, {}) or (
            object_name != merged.get("SobjectType")
        ):
            raise RecordError("INVALID_FIELD", f"Invalid field: {merged.get('Field')}", ["Field"])
        if merged.get("PermissionsEdit") and not merged.get("PermissionsRead"):
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Permission Edit depends on permission(s): Read",
                ["PermissionsEdit"],
            )

    def commit(self, plan: PlannedWrite) -> str:
        """Apply a planned write (under the lock); returns the record id."""
        stamp = sf_datetime(self.clock.tick())
        store = self.objects[plan.object_name]
        if plan.created:
            plan.record_id = self.new_id(plan.object_name)
            fresh = {f.name: f.default for f in self.schemas[plan.object_name].values()}
            fresh.update({"Id": plan.record_id, "IsDeleted": False, "CreatedDate": stamp})
            store[plan.record_id] = self.layouts[plan.object_name].pack(fresh)
        record = store[plan.record_id]
        for (obj, fname), index in self._ext_index.items():
            if obj == plan.object_name and fname in plan.values:
                old = record.get(fname)
                if old is not None:
                    ids = index.get(str(old).lower(), [])
                    if plan.record_id in ids:
                        ids.remove(plan.record_id)
                new = plan.values[fname]
                if new is not None:
                    index.setdefault(str(new).lower(), []).append(plan.record_id)
        record.update(plan.values)
        if plan.object_name == "Task":
            record["IsClosed"] = self._closed_status.get(record.get("Status") or "", False)
        if plan.object_name in ACTIVITY_OBJECTS:
            self._derive_activity(plan.object_name, record)
        if plan.object_name == "Opportunity":
            # IsClosed/IsWon follow the stage's OpportunityStage row [sf-oppstage].
            stage = record.get("StageName")
            row = next(
                (r for r in self.objects["OpportunityStage"].values() if r["ApiName"] == stage),
                None,
            )
            record["IsClosed"] = bool(row and row["IsClosed"])
            record["IsWon"] = bool(row and row["IsWon"])
        if plan.object_name in ("FieldPermissions", "PermissionSetAssignment"):
            self.refresh_access()
        record["LastModifiedDate"] = stamp
        record["SystemModstamp"] = stamp
        return plan.record_id

    def _derive_activity(self, object_name: str, record: MutableMapping[str, Any]) -> None:
        """AccountId from WhatId (an Account, or an Opportunity's account) [sf-task]; and the
        account's LastActivityDate from events and closed tasks [sf-account]."""
        what = str(record.get("WhatId") or "")
        account_id: str | None = None
        if what in self.objects["Account"]:
            account_id = what
        elif what in self.objects["Opportunity"]:
            account_id = self.objects["Opportunity"][what].get("AccountId")
        record["AccountId"] = account_id
        day = record.get("ActivityDate")
        closed = object_name == "Event" or bool(record.get("IsClosed"))
        account = self.objects["Account"].get(account_id or "")
        latest = account.get("LastActivityDate") if account is not None else None
        if account is not None and closed and day and (not latest or latest < day):
            account["LastActivityDate"] = day

    def find_external(self, object_name: str, field_name: str, value: str) -> list[str]:
        index = self._ext_index.get((object_name, field_name))
        if index is None:
            raise RequestError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        return list(index.get(value.lower(), []))

    def delete(self, object_name: str, record_id: str) -> None:
        record_id = self.norm_id(record_id)
        record = self.objects[object_name].pop(record_id, None)
        if record is None:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
        for (obj, fname), index in self._ext_index.items():
            if obj == object_name and record.get(fname) is not None:
                ids = index.get(str(record[fname]).lower(), [])
                if record_id in ids:
                    ids.remove(record_id)
        record["IsDeleted"] = True
        record["SystemModstamp"] = sf_datetime(self.clock.tick())
        self.deleted[object_name][record_id] = record


def _parse_error(value: Any, type_name: str) -> RequestError:
    return RequestError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {type_name} from VALUE_STRING value {value} or request "
        "may be missing a required field",
    )


def _json_number(value: Any, name: str, type_name: str) -> float:
    if isinstance(value, bool):
        raise _parse_error(value, type_name)
    if isinstance(value, int | float):
        return float(value) if not isinstance(value, int) else value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError as exc:
            raise _parse_error(value, type_name) from exc
    raise _parse_error(value, type_name)
