"""Provisioning: create tierwise's custom fields and make them usable by the API user.

Fields are created with the Tooling API (Task/Event fields on ``Activity``), then a
permission set is found or created, granted Read+Edit on every field, ASSIGNED to the
running user, and the result verified by describe: a new field is invisible to everyone
until FLS is granted in a permission set assigned to the user (CRM-API-NOTES §1.16).
Creates are not idempotent: each goes through the engine's create-unless-done policy,
which asks the org whether a lost answer had committed before it retries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql

from tierwise.connectors.base import ProvisionStep
from tierwise.connectors.errors import FatalCrmError, SchemaError
from tierwise.connectors.identifiers import check_identifier
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.fields import OrgFields
from tierwise.connectors.salesforce.fieldspecs import custom_field_specs
from tierwise.connectors.salesforce.paging import query
from tierwise.connectors.salesforce.schema import existing_custom_fields
from tierwise.connectors.salesforce.writes import write_collection

# Task and Event custom fields are created on Activity (CRM-API-NOTES §1.15).
ACTIVITY_OBJECTS = ("Task", "Event")

log = structlog.get_logger(__name__)


class Provisioner:
    """Creates and grants tierwise's fields in one org."""

    def __init__(self, client: SalesforceClient, fields: OrgFields) -> None:
        self.client = client
        self.fields = fields

    def _grant_targets(self, object_name: str, name: str) -> list[tuple[str, str]]:
        """(object, field) pairs FLS is granted on: an Activity field per object."""
        if object_name in ACTIVITY_OBJECTS:
            return [(o, name) for o in ACTIVITY_OBJECTS]
        return [(object_name, name)]

    def provision(self, tier_values: Mapping[str, str], dry_run: bool) -> list[ProvisionStep]:
        """Create the missing custom fields (Tooling API; the task key on ``Activity``),
        then make them usable by this user: find or create the permission set, grant it
        Read+Edit on every field, ASSIGN it to the running user, and verify by describe.

        A new field is invisible to everyone until FLS is granted in a permission set that
        is assigned to the user (CRM-API-NOTES §1.16). Idempotent: every step queries first;
        a field that exists but is still hidden answers DUPLICATE_DEVELOPER_NAME and counts
        as existing.
        """
        steps: list[ProvisionStep] = []
        describes = {
            obj: self.client.describe(obj, fresh=True)
            for obj in (self.fields.account_object, self.fields.task_object)
        }
        specs = custom_field_specs(self.fields, tier_values)
        for object_name, name, metadata in specs:
            kind = "task_field" if object_name == self.fields.task_object else "field"
            exists = name in describes[object_name]
            if not exists and not dry_run:
                exists = not self._create_field(object_name, name, metadata)
            steps.append(ProvisionStep(kind, object_name, name, exists))
        grants = [t for o, n, _ in specs for t in self._grant_targets(o, n)]
        if self.client.settings.permission_set:
            steps += self._grant_field_permissions(
                self.client.settings.permission_set, grants, dry_run
            )
        self.client.describes.clear()
        if not dry_run and self.client.settings.permission_set:
            self._verify_visible([(o, n) for o, n, _ in specs])
        return steps

    def _verify_visible(self, fields: Sequence[tuple[str, str]]) -> None:
        hidden = []
        for object_name, name in fields:
            described = self.client.describe(object_name, fresh=True).get(name)
            if described is None or not described.get("updateable"):
                hidden.append(f"{object_name}.{name}")
        if hidden:
            raise SchemaError(
                "Salesforce: after provisioning these fields are still not visible or not "
                f"editable to the API user: {', '.join(hidden)}; check that permission set "
                f"{self.client.settings.permission_set} is assigned to this user and grants "
                "Read/Edit",
                system=SYSTEM,
                object_name=self.fields.account_object,
            )

    def _create_field(self, object_name: str, name: str, metadata: dict[str, Any]) -> bool:
        """Create one field; False when it turned out to exist already."""
        # Task/Event custom fields can only be created on Activity (CRM-API-NOTES §1.15).
        table = "Activity" if object_name in ACTIVITY_OBJECTS else object_name
        payload = {"FullName": f"{table}.{name}", "Metadata": metadata}
        try:
            result = self.client.policy.call_unless_done(
                lambda: self.client.attempt(
                    "tooling/sobjects/CustomField POST",
                    lambda sf: sf.toolingexecute(
                        "sobjects/CustomField", method="POST", data=payload
                    ),
                    operation="create field",
                    object_name=object_name,
                ),
                # Tooling, not describe: a new field is hidden from describe until FLS.
                lambda: name in (existing_custom_fields(self.client, [name]) or set()),
                reauth=self.client.reauth,
            )
        except FatalCrmError as exc:
            if "DUPLICATE_DEVELOPER_NAME" in str(exc):
                return False
            raise
        log.info(
            "salesforce_field_created", object=object_name, field=name, created=result is not None
        )
        return True

    def _grant_field_permissions(
        self, permission_set: str, fields: Sequence[tuple[str, str]], dry_run: bool
    ) -> list[ProvisionStep]:
        check_identifier(
            permission_set, system=SYSTEM, setting="TIERWISE_SALESFORCE__PERMISSION_SET"
        )
        rows = list(
            query(
                self.client,
                format_soql("SELECT Id FROM PermissionSet WHERE Name = {}", permission_set),
                object_name="PermissionSet",
            )
        )
        steps: list[ProvisionStep] = [
            ProvisionStep("permission_set", "PermissionSet", permission_set, bool(rows))
        ]
        if not rows:
            if dry_run:
                return (
                    steps
                    + [ProvisionStep("field_permission", o, n, False) for o, n in fields]
                    + [ProvisionStep("permission_set_assignment", "User", permission_set, False)]
                )
            rows = [{"Id": self._create_permission_set(permission_set)}]
        parent = str(rows[0]["Id"])
        names = [f"{obj}.{name}" for obj, name in fields]

        def granted() -> dict[str, dict[str, Any]]:
            soql = format_soql(
                "SELECT Id, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
                "WHERE ParentId = {} AND Field IN {}",
                parent,
                names,
            )
            found = query(self.client, soql, object_name="FieldPermissions")
            return {str(r["Field"]): r for r in found}

        current = granted()
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for (obj, name), full in zip(fields, names, strict=True):
            row = current.get(full)
            done = bool(row and row.get("PermissionsRead") and row.get("PermissionsEdit"))
            steps.append(ProvisionStep("field_permission", obj, name, done))
            if done or dry_run:
                continue
            grant = {"PermissionsRead": True, "PermissionsEdit": True}
            if row:
                updates.append(
                    {"attributes": {"type": "FieldPermissions"}, "id": row["Id"], **grant}
                )
            else:
                creates.append(
                    {
                        "attributes": {"type": "FieldPermissions"},
                        "ParentId": parent,
                        "SobjectType": obj,
                        "Field": full,
                        **grant,
                    }
                )
        if creates:
            body = {"allOrNone": False, "records": creates}
            results = self.client.policy.call_unless_done(
                lambda: self.client.attempt(
                    "composite/sobjects POST",
                    lambda sf: sf.restful("composite/sobjects", method="POST", json=body),
                    operation="grant field permissions",
                    object_name="FieldPermissions",
                ),
                lambda: all(r["Field"] in granted() for r in creates),
                reauth=self.client.reauth,
            )
            failed = [
                f"{rec['Field']}: {(res.get('errors') or [{}])[0].get('message', '')}"
                for rec, res in zip(creates, results or [], strict=False)
                if not res.get("success")
            ]
            if failed:
                raise FatalCrmError(
                    "Salesforce refused field permissions: " + "; ".join(failed),
                    system=SYSTEM,
                    object_name="FieldPermissions",
                )
        if updates:
            write_collection(
                self.client,
                updates,
                [str(u["id"]) for u in updates],
                label="composite/sobjects PATCH",
                path="composite/sobjects",
                object_name="FieldPermissions",
                operation="grant field permissions",
                on_success=lambda _id, _r: None,
            )
        steps.append(self._assign_permission_set(parent, permission_set, dry_run))
        return steps

    def _create_permission_set(self, permission_set: str) -> str:
        body = {"Name": permission_set, "Label": permission_set.replace("_", " ")}
        result: Any = self.client.call(
            "sobjects/PermissionSet POST",
            lambda sf: sf.restful("sobjects/PermissionSet/", method="POST", json=body),
            operation="create permission set",
            object_name="PermissionSet",
            retry=False,
        )
        log.info("salesforce_permission_set_created", name=permission_set)
        return str(result["id"])

    def running_user_id(self) -> str:
        """The API user's id from ``/services/oauth2/userinfo`` (CRM-API-NOTES §1.16)."""

        def userinfo(sf: Salesforce) -> dict[str, Any]:
            response = sf.session.get(
                f"https://{sf.sf_instance}/services/oauth2/userinfo", headers=sf.headers
            )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        info = self.client.call("oauth2/userinfo", userinfo, operation="userinfo", read=True)
        return str(info["user_id"])

    def _assign_permission_set(
        self, parent: str, permission_set: str, dry_run: bool
    ) -> ProvisionStep:
        """FieldPermissions apply only to users the set is ASSIGNED to (§1.16)."""
        user_id = self.running_user_id()
        soql = format_soql(
            "SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = {} AND PermissionSetId = {}",
            user_id,
            parent,
        )
        found = list(query(self.client, soql, object_name="PermissionSetAssignment"))
        if not found and not dry_run:
            body = {"AssigneeId": user_id, "PermissionSetId": parent}
            self.client.call(
                "sobjects/PermissionSetAssignment POST",
                lambda sf: sf.restful(
                    "sobjects/PermissionSetAssignment/", method="POST", json=body
                ),
                operation="assign permission set",
                object_name="PermissionSetAssignment",
                retry=False,
            )
            log.info("salesforce_permission_set_assigned", name=permission_set, user=user_id)
        return ProvisionStep("permission_set_assignment", "User", permission_set, bool(found))
