"""The emulated Salesforce org's data: schemas, records, writes and SOQL execution.

Records are stored in wire form (what the REST API returns): dates ``YYYY-MM-DD``,
datetimes ``2024-01-02T10:00:00.000+0000``, numbers and booleans as JSON values. Every
write stamps ``SystemModstamp``/``LastModifiedDate`` from the sandbox clock.
"""

from __future__ import annotations

import itertools
import re
import sys
import threading
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tierwise.sandbox import soql
from tierwise.sandbox.clock import SandboxClock, epoch_ms, parse_iso, sf_datetime, sf_from_ms
from tierwise.sandbox.records import ChildRows, Layout, ProjectedRows, Record, snapshot
from tierwise.sandbox.seed import OWNERS
from tierwise.sandbox.sf_schema import (
    KEY_PREFIX,
    NUMERIC_TYPES,
    ORG_TASK_STATUSES,
    STOCK_OPPORTUNITY_STAGES,
    USUAL_TASK_STATUSES,
    FieldDef,
    account_fields,
    custom_field_fields,
    enriched_account_fields,
    event_fields,
    field_permissions_fields,
    opportunity_fields,
    opportunity_stage_fields,
    permission_set_assignment_fields,
    permission_set_fields,
    task_fields,
    task_status_fields,
    user_fields,
)

# Seed categories onto the stock Industry picklist (sf_schema.INDUSTRY_VALUES).
SEED_INDUSTRY = {
    "Software": "Technology",
    "Financial Services": "Finance",
    "Healthcare": "Healthcare",
    "Manufacturing": "Manufacturing",
    "Retail": "Retail",
    "Education": "Education",
    "Media": "Media",
    "Logistics": "Transportation",
    "Energy": "Energy",
    "Government": "Government",
}
# Objects only the Tooling API answers for.
TOOLING_ONLY = frozenset({"CustomField"})
ACTIVITY_OBJECTS = ("Task", "Event")
API_USER_ID = "005Hn00000INTEGAAA"
# (parent, relationship name) -> (child object, foreign key): standard child relationships
# are the child's plural name [soql-relationships]; Tasks/Events hang off AccountId.
CHILD_RELATIONSHIPS = {
    ("Account", "opportunities"): ("Opportunity", "AccountId"),
    ("Account", "tasks"): ("Task", "AccountId"),
    ("Account", "events"): ("Event", "AccountId"),
}
# Children returned inline per parent before the child result pages with its own
# nextRecordsUrl. The docs say only that subquery results may need queryMore "if there
# are many children" [soql-relationship-results]; 200 is a GUESS (public reports: 200-2000).
CHILD_BATCH = 200  # the integration user the sandbox token acts as

# Seeded datetimes are kept as epoch milliseconds and print in wire form (records.Layout).
_SEEDED_STAMPS = dict.fromkeys(("CreatedDate", "LastModifiedDate", "SystemModstamp"), sf_from_ms)
# Rows all open query locators may hold together: a sandbox memory guard, not a Salesforce
# rule (two full pulls of a 1,000,000-account org fit). A locator holds, per matching row,
# one tuple of the selected fields' stored values (records.ProjectedRows; ~100-300 bytes,
# the values themselves shared with the store), plus its subqueries' matching children as
# tuples too; wire dicts exist only for the page being answered. A child locator (a
# parent's children past CHILD_BATCH) holds that parent's child wire dicts and counts here.
CURSOR_ROWS = 2_500_000

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def id18(id15: str) -> str:
    """The case-safe 18-character form of a 15-character Salesforce id."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for pos, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << pos
        suffix += _SUFFIX[bits]
    return id15 + suffix


class RecordError(Exception):
    """A per-record failure (collections result / single-record 400)."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or []

    def as_dict(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


class RequestError(Exception):
    """A whole-request failure: HTTP status plus errorCode/message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class PlannedWrite:
    object_name: str
    record_id: str
    values: dict[str, Any]
    created: bool


@dataclass
class Cursor:
    object_name: str
    rows: Sequence[dict[str, Any]]
    batch: int


class SalesforceOrg:
    """Thread-safe in-memory org. ``objects[name][id]`` is a field dict (wire values)."""

    def __init__(
        self,
        clock: SandboxClock,
        *,
        profile: str = "stock",
        require_field_permissions: bool = True,
        usual_task_statuses: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.profile = profile
        # A field created through Tooling/Metadata is invisible (describe, SOQL, writes) to a
        # user until a permission set granting it is ASSIGNED to that user [fls-reports]
        # [sf-fieldperms] [sf-psa]. The enriched profile's fields were set up by the
        # customer's admin and are visible already.
        self.require_field_permissions = require_field_permissions
        self.api_user_id = API_USER_ID
        self.task_statuses = USUAL_TASK_STATUSES if usual_task_statuses else ORG_TASK_STATUSES
        self._closed_status = {name: closed for name, closed, _ in self.task_statuses}
        self._readable: set[tuple[str, str]] = set()
        self._editable: set[tuple[str, str]] = set()
        self.schemas: dict[str, dict[str, FieldDef]] = {}
        self._lower: dict[str, dict[str, str]] = {}
        # Records are wire-form mappings; seeded and created ones are compact Records over
        # one Layout per object (sandbox/records.py; issue 15, a million accounts).
        self.objects: dict[str, dict[str, MutableMapping[str, Any]]] = {}
        self.deleted: dict[str, dict[str, MutableMapping[str, Any]]] = {}
        self.layouts: dict[str, Layout] = {}
        self._counters: dict[str, itertools.count[int]] = {}
        self._ext_index: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.cursors: dict[str, Cursor] = {}
        self._cursor_ids = itertools.count(1)
        self.custom_fields: dict[str, dict[str, Any]] = {}
        account = account_fields()
        if profile == "enriched":
            account += enriched_account_fields()
        for name, fields in (
            ("Account", account),
            ("Task", task_fields(self.task_statuses)),
            ("Event", event_fields()),
            ("Opportunity", opportunity_fields()),
            ("User", user_fields()),
            ("PermissionSet", permission_set_fields()),
            ("FieldPermissions", field_permissions_fields()),
            ("PermissionSetAssignment", permission_set_assignment_fields()),
            ("TaskStatus", task_status_fields()),
            ("OpportunityStage", opportunity_stage_fields()),
            ("CustomField", custom_field_fields()),
        ):
            self._define(name, fields)
        old = "2020-01-01T00:00:00.000+0000"
        stamps = {
            "IsDeleted": False,
            "CreatedDate": old,
            "LastModifiedDate": old,
            "SystemModstamp": old,
        }
        # A new org has only profile-owned permission sets; tierwise's is created by provision.
        ps_id = self.new_id("PermissionSet")
        self.objects["PermissionSet"][ps_id] = {
            "Id": ps_id,
            "Name": "X00eSystemAdministrator",
            "Label": "System Administrator",
            "IsOwnedByProfile": True,
            **stamps,
        }
        for order, (api_name, closed, default) in enumerate(self.task_statuses, 1):
            status_id = self.new_id("TaskStatus")
            self.objects["TaskStatus"][status_id] = {
                "Id": status_id,
                "ApiName": api_name,
                "MasterLabel": api_name,
                "IsClosed": closed,
                "IsDefault": default,
                "SortOrder": order,
                **stamps,
            }
        for order, (stage, closed, won, chance) in enumerate(STOCK_OPPORTUNITY_STAGES, 1):
            stage_id = self.new_id("OpportunityStage")
            self.objects["OpportunityStage"][stage_id] = {
                "Id": stage_id,
                "ApiName": stage,
                "MasterLabel": stage,
                "IsActive": True,
                "IsClosed": closed,
                "IsWon": won,
                "DefaultProbability": float(chance),
                "SortOrder": order,
                **stamps,
            }
        users = [(o.salesforce_id, o.first_name, o.last_name, o.email) for o in OWNERS]
        users.append((API_USER_ID, "Integration", "User", "integration@sandbox.example"))
        for user_id, first, last, email in users:
            self.objects["User"][user_id] = {
                "Id": user_id,
                "Name": f"{first} {last}",
                "FirstName": first,
                "LastName": last,
                "Email": email,
                "IsActive": True,
                **stamps,
            }

    # ---- schema -----------------------------------------------------------------------------

    def _define(self, name: str, fields: list[FieldDef]) -> None:
        self.schemas[name] = {f.name: f for f in fields}
        self._lower[name] = {f.name.lower(): f.name for f in fields}
        self.layouts[name] = Layout([f.name for f in fields], decode=_SEEDED_STAMPS)
        self.objects.setdefault(name, {})
        self.deleted.setdefault(name, {})

    def add_field(self, object_name: str, fdef: FieldDef) -> None:
        with self.lock:
            self.schemas[object_name][fdef.name] = fdef
            self._lower[object_name][fdef.name.lower()] = fdef.name
            if fdef.external_id:
                self._ext_index[(object_name, fdef.name)] = {}
            default = fdef.default
            # Every existing record gains the field at its default: for compact records
            # that is the layout's fallback (O(1)); a deleted record does not gain it.
            layout = self.layouts[object_name]
            for gone in self.deleted[object_name].values():
                if isinstance(gone, Record):
                    gone.pin(fdef.name)
            layout.set_fallback(fdef.name, default)
            for record in self.objects[object_name].values():
                if not isinstance(record, Record):
                    record.setdefault(fdef.name, default)

    def object_name(self, name: str) -> str:
        for known in self.schemas:
            if known.lower() == name.lower():
                return known
        raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")

    def field(self, object_name: str, name: str) -> FieldDef | None:
        """The field as the API user sees it: None when it does not exist OR when the user
        has no Read on it (the API answers both the same way [sf-entityparticle])."""
        canonical = self._lower[object_name].get(name.lower())
        if canonical is None:
            return None
        fdef = self.schemas[object_name][canonical]
        return fdef if self.readable(object_name, fdef) else None

    def readable(self, object_name: str, fdef: FieldDef) -> bool:
        return not fdef.hidden or (object_name, fdef.name) in self._readable

    def editable(self, object_name: str, fdef: FieldDef) -> bool:
        return not fdef.hidden or (object_name, fdef.name) in self._editable

    def visible_fields(self, object_name: str) -> list[FieldDef]:
        return [f for f in self.schemas[object_name].values() if self.readable(object_name, f)]

    def refresh_access(self) -> None:
        """Recompute the API user's field access: FieldPermissions of the permission sets
        ASSIGNED to that user (PermissionSetAssignment) [sf-fieldperms] [sf-psa]."""
        assigned = {
            r["PermissionSetId"]
            for r in self.objects["PermissionSetAssignment"].values()
            if r.get("AssigneeId") == self.api_user_id
        }
        readable: set[tuple[str, str]] = set()
        editable: set[tuple[str, str]] = set()
        for row in self.objects["FieldPermissions"].values():
            if row.get("ParentId") not in assigned:
                continue
            object_name, _, field_name = str(row.get("Field") or "").partition(".")
            if row.get("PermissionsRead"):
                readable.add((object_name, field_name))
            if row.get("PermissionsEdit"):
                editable.add((object_name, field_name))
        self._readable, self._editable = readable, editable

    # ---- ids --------------------------------------------------------------------------------

    def new_id(self, object_name: str) -> str:
        prefix = KEY_PREFIX.get(object_name, "a00")
        counter = self._counters.setdefault(prefix, itertools.count(1))
        n = next(counter)
        digits = ""
        for _ in range(9):
            n, rem = divmod(n, 62)
            digits = _B62[rem] + digits
        return id18(f"{prefix}Hn0{digits}")

    @staticmethod
    def norm_id(record_id: str) -> str:
        return id18(record_id) if len(record_id) == 15 else record_id

    # ---- loading ----------------------------------------------------------------------------

    def load_events(self, companies: Iterable[Mapping[str, Any]], ids: Mapping[str, str]) -> int:
        """Past meetings (seed ``activities``) as Events on each Account; returns the count."""
        owners = {o.email: o.salesforce_id for o in OWNERS}
        count = 0
        layout = self.layouts["Event"]
        with self.lock:
            store = self.objects["Event"]
            for company in companies:
                for day in company["activities"]:
                    event_id = self.new_id("Event")
                    stamp = f"{day.isoformat()}T15:00:00.000+0000"
                    store[event_id] = layout.pack(
                        {
                            "Id": event_id,
                            "IsDeleted": False,
                            "Subject": "Meeting",
                            "ActivityDate": day.isoformat(),
                            "ActivityDateTime": stamp,
                            "DurationInMinutes": 30,
                            "WhatId": ids[company["key"]],
                            "AccountId": ids[company["key"]],
                            "OwnerId": owners[company["owner"]],
                            "Description": None,
                            "CreatedDate": stamp,
                            "LastModifiedDate": stamp,
                            "SystemModstamp": stamp,
                        }
                    )
                    count += 1
        return count

    def load_opportunities(
        self,
        deals: Iterable[Mapping[str, Any]],
        account_ids: Mapping[str, str],
        owners: Mapping[str, str],
    ) -> dict[str, str]:
        """Seed deals (``tierwise.sandbox.outcomes``) as Opportunities; returns deal key -> Id.

        ``owners`` maps company key -> owner email (the account owner owns its deals).
        """
        by_email = {o.email: o.salesforce_id for o in OWNERS}
        ids: dict[str, str] = {}
        layout = self.layouts["Opportunity"]
        with self.lock:
            store = self.objects["Opportunity"]
            for deal in deals:
                record_id = self.new_id("Opportunity")
                stamp = epoch_ms(deal["modified"])
                store[record_id] = layout.pack(
                    {
                        "Id": record_id,
                        "IsDeleted": False,
                        "Name": deal["name"],
                        "AccountId": account_ids[deal["company_key"]],
                        "Amount": deal["amount"],
                        "StageName": deal["stage"],
                        "CloseDate": deal["close_date"].isoformat(),
                        "IsClosed": deal["is_closed"],
                        "IsWon": deal["is_won"],
                        "OwnerId": by_email[owners[deal["company_key"]]],
                        "CreatedDate": epoch_ms(deal["created"]),
                        "LastModifiedDate": stamp,
                        "SystemModstamp": stamp,
                    }
                )
                ids[deal["key"]] = record_id
        return ids

    def load_accounts(self, companies: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        """Insert seed companies; returns company key -> Account Id.

        Seed rows keep the generator's ``modified`` stamp (in the past), not the write
        clock, so loading a million rows does not push the clock into the future.
        """
        owners = {o.email: o.salesforce_id for o in OWNERS}
        enriched = self.profile == "enriched"
        ids: dict[str, str] = {}
        layout = self.layouts["Account"]
        with self.lock:
            store = self.objects["Account"]
            for company in companies:
                record_id = self.new_id("Account")
                stamp = epoch_ms(company["modified"])
                revenue = company["annual_revenue"]
                industry = company["industry"] or None
                record: dict[str, Any] = {
                    "Id": record_id,
                    "IsDeleted": False,
                    "Name": company["name"][:255],
                    "Website": company["website"],
                    "Industry": SEED_INDUSTRY.get(industry, industry) if industry else None,
                    "Type": "Customer - Direct"
                    if company.get("health_score") is not None
                    else "Prospect",
                    "Rating": None,
                    "NumberOfEmployees": company["employees"],
                    "AnnualRevenue": revenue if isinstance(revenue, int | float) else None,
                    "BillingCountry": company["country"],
                    "OwnerId": owners[company["owner"]],
                    # Salesforce derives it from events and closed tasks [sf-account]; the
                    # seed's last_activity is the latest of the seeded meetings (load_events).
                    "LastActivityDate": _shared_date(company["last_activity"]),
                    "CreatedDate": epoch_ms(company["created"]),
                    "LastModifiedDate": stamp,
                    "SystemModstamp": stamp,
                }
                if enriched:
                    risk = company["payment_risk"]
                    record.update(
                        {
                            "Technologies__c": ";".join(company["tech_stack"]) or None,
                            "Website_Sessions_30d__c": company["web_visits_30d"],
                            "Bombora_Composite_Score__c": company["intent_score"],
                            "Bombora_Surge__c": bool(company["intent_surge"]),
                            "Funding_Total__c": company["last_funding_amount"],
                            "Last_Funding_Round_Date__c": _iso_date(company["last_funding_date"]),
                            "Competitor_Install__c": bool(company["competitor_customer"]),
                            "Credit_Risk__c": risk.capitalize() if risk else None,
                            "Customer_Health__c": company.get("health_score"),
                            "Adoption_Pct__c": company.get("product_adoption"),
                        }
                    )
                store[record_id] = layout.pack(record)
                ids[company["key"]] = record_id
        return ids

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

    # ---- reads ------------------------------------------------------------------------------

    def project(
        self, object_name: str, record: Mapping[str, Any], fields: Iterable[str], version: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {
                "type": object_name,
                "url": f"/services/data/v{version}/sobjects/{object_name}/{record['Id']}",
            }
        }
        for name in fields:
            out[name] = record.get(name)
        return out

    def run_query(
        self, text: str, *, include_deleted: bool, version: str, tooling: bool = False
    ) -> tuple[str, Sequence[dict[str, Any]], int]:
        """Execute SOQL; returns (object, rows, total size). ``tooling``: the Tooling API's
        query, the only one that reaches Tooling objects (CustomField).

        The rows are a :class:`ProjectedRows`: the matching rows' values (and each
        subquery's matching children) are taken now, as tuples, and made wire dicts only
        for the slice a page reads. Why: a first page, and its ``totalSize``, must come
        back at once whatever the size (a worker asks one page to choose REST or Bulk 2.0;
        projecting 1,000,000 rows with their subquery first outlasted its 60 s read
        timeout; issue 15). The values stay those the query saw: Salesforce keeps "cursors
        and their related query results ..., including results in nested queries" with
        the locator (apicursors, cited at :meth:`open_cursor`)."""
        try:
            query = soql.parse(text)
        except soql.SoqlError as exc:
            raise RequestError(400, exc.code, exc.message) from exc
        try:
            object_name = self.object_name(query.object_name)
            if object_name in TOOLING_ONLY and not tooling:
                raise RequestError(404, "NOT_FOUND", object_name)
        except RequestError as exc:
            raise RequestError(
                400,
                "INVALID_TYPE",
                f"\n{text}\n^\nERROR at Row:1:Column:1\nsObject type '{query.object_name}' is not "
                "supported. If you are attempting to use a custom object, be sure to append the "
                "'__c' after the entity name. Please reference your WSDL or the describe call for "
                "the appropriate names.",
            ) from exc

        def resolve(name: str) -> tuple[str, str]:
            fdef = self.field(object_name, name)
            if fdef is None:
                raise RequestError(
                    400,
                    "INVALID_FIELD",
                    f"\n{text[:200]}\n^\nERROR at Row:1:Column:1\nNo such column '{name}' on "
                    f"entity '{object_name}'. If you are attempting to use a custom field, be sure "
                    "to append the '__c' after the custom field name. Please reference your WSDL "
                    "or the describe call for the appropriate names.",
                )
            return fdef.name, fdef.type

        fields = [resolve(name)[0] for name in query.fields]
        group_by = [resolve(name)[0] for name in query.group_by]
        aggregates = [
            soql.Aggregate(a.func, resolve(a.field)[0] if a.field else None, a.alias)
            for a in query.aggregates
        ]
        try:
            predicate = (
                soql.compile_where(query.where, object_name, resolve, self.clock.peek().date())
                if query.where is not None
                else None
            )
        except soql.SoqlError as exc:
            raise RequestError(400, exc.code, exc.message) from exc
        order = tuple(
            soql.OrderItem(resolve(item.field)[0], item.descending, item.nulls_last)
            for item in query.order
        )
        with self.lock:
            pools = [self.objects[object_name].values()]
            if include_deleted:
                pools.append(self.deleted[object_name].values())
            matched = [rec for pool in pools for rec in pool if predicate is None or predicate(rec)]
            if aggregates or group_by:
                rows = _aggregate(matched, fields, group_by, aggregates)
                if order:
                    rows.sort(key=soql.sort_key(order))
                rows = rows[query.offset :]
                if query.limit is not None:
                    rows = rows[: query.limit]
                return object_name, rows, len(rows)
            layout = self.layouts[object_name]
            if order and not query.count_only:
                matched = self._ordered(object_name, matched, order)
            matched = matched[query.offset :]
            if query.limit is not None:
                matched = matched[: query.limit]
            if query.count_only:
                return object_name, [], len(matched)
            values = snapshot(matched, fields, layout)
            ids = {row[0] for row in values} if query.subqueries else set()
            subs = [self._child_rows(object_name, sub, ids) for sub in query.subqueries]
            projected = ProjectedRows(object_name, fields, version, values, layout, subs)
        return object_name, projected, len(projected)

    def _ordered(
        self,
        object_name: str,
        matched: list[MutableMapping[str, Any]],
        order: tuple[soql.OrderItem, ...],
    ) -> list[MutableMapping[str, Any]]:
        """``matched`` in ORDER BY order: on the stored values' columns when they are
        simple (soql.simple_order), else one key per row (soql.sort_key)."""
        types = {f: self.schemas[object_name][f].type for f in (i.field for i in order)}
        names = [item.field for item in order]
        rows = snapshot(matched, names, self.layouts[object_name], with_id=False)
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        positions = soql.simple_order(columns, order, types)
        if positions is None:
            return sorted(matched, key=soql.sort_key(order, types))
        return [matched[n] for n in positions]

    def _child_rows(self, parent: str, sub: soql.SubQuery, wanted: set[str]) -> ChildRows:
        """A subquery's matching children per parent, as the query sees them: value
        snapshots; the page that shows a parent makes its ``{totalSize, done, records}``
        (null when it has no child) and a child locator when they page."""
        found = CHILD_RELATIONSHIPS.get((parent, sub.relationship.lower()))
        if found is None:
            raise RequestError(
                400,
                "INVALID_TYPE",
                f"Didn't understand relationship '{sub.relationship}' in FROM part of query "
                "call. If you are attempting to use a custom relationship, be sure to append "
                "the '__r' after the custom relationship name.",
            )
        child, key = found

        def resolve(name: str) -> tuple[str, str]:
            fdef = self.field(child, name)
            if fdef is None:
                raise RequestError(
                    400, "INVALID_FIELD", f"No such column '{name}' on entity '{child}'."
                )
            return fdef.name, fdef.type

        names = [resolve(n)[0] for n in sub.fields]
        try:
            predicate = (
                soql.compile_where(sub.where, child, resolve, self.clock.peek().date())
                if sub.where is not None
                else None
            )
        except soql.SoqlError as exc:
            raise RequestError(400, exc.code, exc.message) from exc
        layout = self.layouts[child]
        kept: dict[str, list[MutableMapping[str, Any]]] = {}
        for rec in self.objects[child].values():
            parent_id = str(rec.get(key) or "")
            if parent_id in wanted and (predicate is None or predicate(rec)):
                kept.setdefault(parent_id, []).append(rec)
        by_parent = {pid: snapshot(recs, names, layout) for pid, recs in kept.items()}
        relationship = {"opportunities": "Opportunities", "tasks": "Tasks", "events": "Events"}[
            sub.relationship.lower()
        ]
        decoders = [layout.decoders[layout.slot(name)] for name in names]

        def locate(object_name: str, version: str, wired: list[dict[str, Any]]) -> str:
            cursor = self.open_cursor(object_name, wired, CHILD_BATCH)
            return f"/services/data/v{version}/query/{cursor}-{CHILD_BATCH}"

        return ChildRows(relationship, child, names, decoders, by_parent, CHILD_BATCH, locate)

    def open_cursor(self, object_name: str, rows: Sequence[dict[str, Any]], batch: int) -> str:
        with self.lock:
            cursor_id = f"01gHn{next(self._cursor_ids):010d}"
            self.cursors[cursor_id] = Cursor(object_name, rows, batch)
            # Salesforce keeps a locator and its results two days and no longer caps open
            # cursors (API v56.0+:
            # https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-apicursors.html).
            # A memory guard only (issue 15): no more than CURSOR_ROWS rows held across
            # the locators (value tuples, not wire dicts: see CURSOR_ROWS), the least
            # recently used dropped first (a queryMore uses its locator); the newest is
            # always kept. An evicted locator answers INVALID_QUERY_LOCATOR, as an
            # expired one does.
            held = sum(len(c.rows) for c in self.cursors.values())
            while len(self.cursors) > 1 and held > CURSOR_ROWS:
                held -= len(self.cursors.pop(next(iter(self.cursors))).rows)
            return cursor_id


def _aggregate(
    records: list[MutableMapping[str, Any]],
    fields: list[str],
    group_by: list[str],
    aggregates: list[soql.Aggregate],
) -> list[dict[str, Any]]:
    """AggregateResult rows: one per group (one overall without GROUP BY)."""
    groups: dict[tuple[Any, ...], list[MutableMapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(tuple(record.get(g) for g in group_by), []).append(record)
    if not group_by and not groups:
        groups[()] = []
    rows: list[dict[str, Any]] = []
    for key, members in groups.items():
        row: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        row.update(zip(group_by, key, strict=True))
        for name in fields:
            row.setdefault(name, members[0].get(name) if members else None)
        for agg in aggregates:
            values = [m.get(agg.field) for m in members] if agg.field else [1] * len(members)
            present = [v for v in values if v is not None]
            if agg.func == "count":
                row[agg.alias] = len(present)
            elif agg.func == "count_distinct":
                row[agg.alias] = len(set(present))
            elif not present:
                row[agg.alias] = None
            elif agg.func == "sum":
                row[agg.alias] = sum(present)
            elif agg.func == "avg":
                row[agg.alias] = sum(present) / len(present)
            else:
                row[agg.alias] = min(present) if agg.func == "min" else max(present)
        rows.append(row)
    return rows


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _shared_date(value: date | None) -> str | None:
    """A date many seeded records repeat, as one shared string object."""
    return sys.intern(value.isoformat()) if value is not None else None


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
