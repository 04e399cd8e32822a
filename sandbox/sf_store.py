"""The emulated Salesforce org's data: schemas, records, writes and SOQL execution.

Records are stored in wire form (what the REST API returns): dates ``YYYY-MM-DD``,
datetimes ``2024-01-02T10:00:00.000+0000``, numbers and booleans as JSON values. Every
write stamps ``SystemModstamp``/``LastModifiedDate`` from the sandbox clock.

The org is one class, ``SalesforceOrg``, composed of one mixin per concern, each in its
own module: ``sf_org_schema.py`` (schemas, field access, ids), ``sf_org_seed.py`` (seed
loads), ``sf_org_writes.py`` (validated writes, deletes) and ``sf_org_query.py`` (SOQL
execution, locators); the errors are in ``sf_errors.py``. This module builds the org
(its objects and stock rows) and keeps importable the names the HTTP layers import
from it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import MutableMapping
from typing import Any

from tierwise.sandbox.clock import SandboxClock
from tierwise.sandbox.records import Layout
from tierwise.sandbox.seed import OWNERS
from tierwise.sandbox.sf_errors import RecordError as RecordError
from tierwise.sandbox.sf_errors import RequestError as RequestError
from tierwise.sandbox.sf_org_query import CHILD_RELATIONSHIPS as CHILD_RELATIONSHIPS
from tierwise.sandbox.sf_org_query import TOOLING_ONLY as TOOLING_ONLY
from tierwise.sandbox.sf_org_query import Cursor, OrgQueries
from tierwise.sandbox.sf_org_schema import id18 as id18
from tierwise.sandbox.sf_org_seed import OrgSeeding
from tierwise.sandbox.sf_org_writes import ACTIVITY_OBJECTS as ACTIVITY_OBJECTS
from tierwise.sandbox.sf_org_writes import OrgWrites
from tierwise.sandbox.sf_org_writes import PlannedWrite as PlannedWrite
from tierwise.sandbox.sf_schema import (
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

API_USER_ID = "005Hn00000INTEGAAA"  # the integration user the sandbox token acts as


class SalesforceOrg(OrgSeeding, OrgWrites, OrgQueries):
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
