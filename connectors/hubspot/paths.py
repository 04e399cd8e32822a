"""Every HubSpot path tierwise calls, in one place, with its support horizon.

HubSpot replaces ``/crm/v3`` and ``/crm/v4`` with date-based versions
(``/crm/objects/2026-03/...``): v4 associations reach end of support on 2027-03-30 and
v1-v3 in September 2027 (CRM-API-NOTES §2.1 [hs-chg-v4] [hs-chg-legacy-unsupported]).
hubspot-api-client 12.0.0 still builds v3/v4 URLs itself, so most calls below go through
its typed API objects and their paths are listed here as labels (ledger/metrics keys and
the README's sunset table). Association reads and writes, which end first, go to the
documented date-based path through the client's own ApiClient (``call_api``: the same
urllib3 pool, timeouts and exceptions as every other call).

When the client gains date-based APIs, the labels below are the checklist.
"""

from __future__ import annotations

# The date-based version tierwise targets (GA since 2026-03; supported >= 18 months).
API_VERSION = "2026-03"

# Sunset of the paths still called through the client (README "HubSpot API versions").
V3_SUNSET = "2027-09"  # "September 2027" [hs-chg-legacy-unsupported]
V4_SUNSET = "2027-03-30"  # [hs-chg-v4]

# ---- objects (v3, through the client) -------------------------------------------------
COMPANIES_LIST = "GET /crm/v3/objects/companies"
COMPANIES_BATCH_READ = "POST /crm/v3/objects/companies/batch/read"
COMPANIES_BATCH_UPDATE = "POST /crm/v3/objects/companies/batch/update"
DEALS_LIST = "GET /crm/v3/objects/deals"
CONTACTS_BATCH_UPDATE = "POST /crm/v3/objects/contacts/batch/update"
TASKS_BATCH_READ = "POST /crm/v3/objects/tasks/batch/read"
TASKS_BATCH_CREATE = "POST /crm/v3/objects/tasks/batch/create"
TASKS_BATCH_UPDATE = "POST /crm/v3/objects/tasks/batch/update"
OBJECTS_SEARCH = "POST /crm/v3/objects/{object}/search"  # companies, deals, tasks

# ---- properties and groups (v3, through the client) -----------------------------------
PROPERTIES_ALL = "GET /crm/v3/properties/{object}"
PROPERTY_GET = "GET /crm/v3/properties/{object}/{name}"
PROPERTY_CREATE = "POST /crm/v3/properties/{object}"
GROUP_GET = "GET /crm/v3/properties/{object}/groups/{name}"
GROUP_CREATE = "POST /crm/v3/properties/{object}/groups"

# ---- deal pipelines (v3, through the client) --------------------------------------------
PIPELINES_ALL = "GET /crm/v3/pipelines/{objectType}"  # deals: the stage order (issue 16)

# ---- lists (v3, through the client) ----------------------------------------------------
LIST_BY_NAME = "GET /crm/v3/lists/object-type-id/{type}/name/{name}"
LIST_CREATE = "POST /crm/v3/lists/"

# ---- associations (date-based, through call_api) ----------------------------------------
# POST /crm/associations/2026-03/{from}/{to}/batch/read - documented at
# developers.hubspot.com/docs/api-reference/2026-03/crm/associations/associate-records/
# batch/get-associations (replaces /crm/v4/associations/{from}/{to}/batch/read).
ASSOCIATIONS_BATCH_READ = "POST /crm/associations/" + API_VERSION + "/{from}/{to}/batch/read"


def associations_batch_read(from_type: str, to_type: str) -> str:
    """The request path of a date-based association batch read."""
    return f"/crm/associations/{API_VERSION}/{from_type}/{to_type}/batch/read"


def label(template: str, **parts: str) -> str:
    """A path label with some placeholders filled (``{object}`` -> ``tasks``)."""
    out = template
    for key, value in parts.items():
        out = out.replace("{" + key + "}", value)
    return out


# Paths still on v3 (sunset September 2027) - for the README table and a test that keeps
# it in step with the constants above.
V3_PATHS = tuple(
    value
    for name, value in sorted(globals().items())
    if name.isupper() and isinstance(value, str) and "/crm/v3/" in value
)
