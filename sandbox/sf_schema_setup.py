"""Salesforce setup objects: users, permissions, and the org's picklist master rows.

User, PermissionSet, FieldPermissions and PermissionSetAssignment (how tierwise makes
its fields usable by the API user), TaskStatus and OpportunityStage (read-only rows
that give Task and Opportunity picklist values their meaning), and the Tooling
``CustomField``. Kept apart from ``sf_schema`` (the business objects tierwise reads and
writes) because these only describe the org's configuration.
"""

from __future__ import annotations

from tierwise.sandbox.sf_schema_fields import FieldDef, ro_field, system_fields


def user_fields() -> list[FieldDef]:
    return [
        *system_fields(),
        FieldDef("Name", "string", "Full Name", 121, updateable=False, createable=False),
        FieldDef("FirstName", "string", "First Name", 40),
        FieldDef("LastName", "string", "Last Name", 80, nillable=False),
        FieldDef("Email", "email", "Email", 128, nillable=False),
        FieldDef("IsActive", "boolean", "Active", nillable=False),
    ]


def permission_set_fields() -> list[FieldDef]:
    return [
        *system_fields(),
        FieldDef("Name", "string", "Name", 80, nillable=False),
        FieldDef("Label", "string", "Label", 80, nillable=False),
        FieldDef(
            "IsOwnedByProfile",
            "boolean",
            "Is Owned By Profile",
            updateable=False,
            createable=False,
            nillable=False,
            default=False,
        ),
    ]


def field_permissions_fields() -> list[FieldDef]:
    return [
        *system_fields(),
        FieldDef(
            "ParentId",
            "reference",
            "Permission Set ID",
            18,
            nillable=False,
            updateable=False,
            reference_to=("PermissionSet",),
        ),
        FieldDef(
            "SobjectType",
            "picklist",
            "Object Type",
            40,
            nillable=False,
            updateable=False,
            picklist=("Account", "Task", "Event", "Opportunity"),
        ),
        FieldDef("Field", "string", "Field Name", 255, nillable=False, updateable=False),
        FieldDef("PermissionsRead", "boolean", "Read Access", nillable=False, default=False),
        FieldDef("PermissionsEdit", "boolean", "Edit Access", nillable=False, default=False),
    ]


def permission_set_assignment_fields() -> list[FieldDef]:
    """[sf-psa] developer.salesforce.com/docs/atlas.en-us.api.meta/api/
    sforce_api_objects_permissionsetassignment.htm"""
    return [
        *system_fields(),
        FieldDef(
            "AssigneeId",
            "reference",
            "Assignee ID",
            18,
            nillable=False,
            updateable=False,
            reference_to=("User",),
        ),
        FieldDef(
            "PermissionSetId",
            "reference",
            "Permission Set ID",
            18,
            nillable=False,
            updateable=False,
            reference_to=("PermissionSet",),
        ),
    ]


def task_status_fields() -> list[FieldDef]:
    """[sf-taskstatus] …/object_reference/sforce_api_objects_taskstatus.htm (read-only)."""
    return [
        *system_fields(),
        ro_field("ApiName", "string", "Api Name", 255),
        ro_field("MasterLabel", "string", "Master Label", 255),
        ro_field("IsClosed", "boolean", "Is Closed"),
        ro_field("IsDefault", "boolean", "Is Default"),
        ro_field("SortOrder", "int", "Sort Order"),
    ]


def opportunity_stage_fields() -> list[FieldDef]:
    """[sf-oppstage] …/object_reference/sforce_api_objects_opportunitystage.htm: read-only
    (describeSObjects, query, retrieve); the fields tierwise reads."""
    return [
        *system_fields(),
        ro_field("ApiName", "string", "API Name", 255),
        ro_field("MasterLabel", "string", "Master Label", 255),
        ro_field("IsActive", "boolean", "Is Active"),
        ro_field("IsClosed", "boolean", "Closed"),
        ro_field("IsWon", "boolean", "Won"),
        ro_field("DefaultProbability", "percent", "Probability (%)"),
        ro_field("SortOrder", "int", "Sort Order"),
    ]


def custom_field_fields() -> list[FieldDef]:
    """Tooling ``CustomField`` as queried (Tooling API only, never plain REST)."""
    return [
        *system_fields(),
        ro_field("DeveloperName", "string", "Developer Name", 40),
        ro_field("TableEnumOrId", "string", "Table Enum Or Id", 40),
        ro_field("FullName", "string", "Full Name", 255),
    ]
