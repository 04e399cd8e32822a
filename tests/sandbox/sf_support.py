"""Raw-API set-up for Salesforce emulator tests: create a custom field and make it visible
the way an admin (or ``tierwise provision``) does - FieldPermissions in a permission set
that is ASSIGNED to the API user."""

from __future__ import annotations

from typing import Any

from simple_salesforce import Salesforce, format_soql

ACTIVITY = ("Task", "Event")


def permission_set(sf: Salesforce, name: str = "Test_Fields") -> str:
    found = sf.query(format_soql("SELECT Id FROM PermissionSet WHERE Name = {}", name))["records"]
    if found:
        return str(found[0]["Id"])
    return str(sf.PermissionSet.create({"Name": name, "Label": name})["id"])


def assign(sf: Salesforce, perm_set: str) -> None:
    info = sf.session.get(
        f"https://{sf.sf_instance}/services/oauth2/userinfo", headers=sf.headers
    ).json()
    sf.PermissionSetAssignment.create({"AssigneeId": info["user_id"], "PermissionSetId": perm_set})


def grant(sf: Salesforce, perm_set: str, full_name: str, *, edit: bool = True) -> None:
    table, _, name = full_name.partition(".")
    for obj in ACTIVITY if table == "Activity" else (table,):
        sf.FieldPermissions.create(
            {
                "ParentId": perm_set,
                "SobjectType": obj,
                "Field": f"{obj}.{name}",
                "PermissionsRead": True,
                "PermissionsEdit": edit,
            }
        )


def visible_field(sf: Salesforce, full_name: str, metadata: dict[str, Any]) -> None:
    """Create ``full_name`` (``Account.X__c`` / ``Activity.X__c``), grant and assign it."""
    sf.toolingexecute(
        "sobjects/CustomField", method="POST", json={"FullName": full_name, "Metadata": metadata}
    )
    perm_set = permission_set(sf)
    grant(sf, perm_set, full_name)
    assigned = sf.query(
        format_soql("SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId = {}", perm_set)
    )["records"]
    if not assigned:
        assign(sf, perm_set)


KEY_METADATA = {
    "label": "Tierwise Key",
    "type": "Text",
    "length": 80,
    "externalId": True,
    "unique": True,
}
TIER_METADATA = {
    "label": "Tierwise Tier",
    "type": "Picklist",
    "valueSet": {
        "restricted": True,
        "valueSetDefinition": {
            "sorted": False,
            "value": [{"fullName": "tier_1", "label": "Strategic", "default": False}],
        },
    },
}
