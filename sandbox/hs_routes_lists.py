"""HubSpot lists v3, owners and deal pipelines: the portal's smaller route families.

A mixin of ``HubSpotEmulator``, kept apart so the emulator stays a readable size: list
create (scope and list-limit refusals), lookup by name or id, delete, filter updates and
MANUAL memberships; owners (seeded ``OWNERS``) and the deal pipelines
(``hs_pipelines``). Needs ``portal``, ``behaviour`` and ``clock``, plus the shared
helpers of ``HubSpotRouteBase``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tierwise.sandbox.clock import SandboxClock, hs_datetime
from tierwise.sandbox.hs_routes_common import HubSpotRouteBase, hs_fail
from tierwise.sandbox.hs_schema import OBJECT_TYPE_IDS
from tierwise.sandbox.hs_store import HubSpotPortal
from tierwise.sandbox.seed import OWNERS
from tierwise.sandbox.wire import Request, Response

if TYPE_CHECKING:
    from tierwise.sandbox.hubspot import HubSpotBehaviour


class HubSpotListOwnerRoutes(HubSpotRouteBase):
    """``/crm/v3/lists``, ``/crm/v3/owners`` and ``/crm/v3/pipelines/deals``."""

    portal: HubSpotPortal
    behaviour: HubSpotBehaviour
    clock: SandboxClock

    # ---- lists ------------------------------------------------------------------------------

    def _list_create(self, request: Request) -> Response:
        self._scope("crm.lists.write")
        limit = self.behaviour.list_limit
        if limit is not None and len(self.portal.lists) >= limit:
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                f"You have reached the limit of {limit} lists for this account.",
                sub="ILS.LIST_LIMIT_REACHED",
            )
        body = self._body(request)
        name = str(body.get("name") or "")
        otype = str(body.get("objectTypeId") or "")
        ptype = str(body.get("processingType") or "")
        if (
            not name
            or otype not in OBJECT_TYPE_IDS.values()
            or ptype not in ("MANUAL", "DYNAMIC", "SNAPSHOT")
        ):
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                "name, objectTypeId and processingType (MANUAL, DYNAMIC, SNAPSHOT) are required",
            )
        branch = body.get("filterBranch")
        if ptype != "MANUAL" and (
            not isinstance(branch, dict) or branch.get("filterBranchType") != "OR"
        ):
            raise hs_fail(
                400, "VALIDATION_ERROR", "filterBranch must be a root OR branch for DYNAMIC lists"
            )
        with self.portal.lock:
            if any(lst.name.lower() == name.lower() for lst in self.portal.lists.values()):
                raise hs_fail(
                    self.behaviour.duplicate_list_status,
                    "VALIDATION_ERROR",
                    f"A list named '{name}' already exists.",
                    sub="ILS.DUPLICATE_LIST_NAMES",
                )
            hs_list = self.portal.new_list(name, otype, ptype, branch)
        return Response.json(200, {"list": hs_list.as_json()}, records=1)

    def _list_by_name(self, request: Request) -> Response:
        name = request.params["name"]
        otype = request.params["otype"]
        with self.portal.lock:
            for hs_list in self.portal.lists.values():
                if hs_list.name.lower() == name.lower() and hs_list.object_type_id == otype:
                    return Response.json(200, {"list": hs_list.as_json()}, records=1)
        raise hs_fail(404, "OBJECT_NOT_FOUND", f"List with name {name} does not exist")

    def _list_lookup(self, request: Request) -> Any:
        hs_list = self.portal.lists.get(request.params["lid"])
        if hs_list is None:
            raise hs_fail(404, "OBJECT_NOT_FOUND", f"List {request.params['lid']} does not exist")
        return hs_list

    def _list_get(self, request: Request) -> Response:
        return Response.json(200, {"list": self._list_lookup(request).as_json()}, records=1)

    def _list_delete(self, request: Request) -> Response:
        with self.portal.lock:
            hs_list = self._list_lookup(request)
            del self.portal.lists[hs_list.list_id]
        return Response(204, records=1)

    def _list_filters(self, request: Request) -> Response:
        body = self._body(request)
        with self.portal.lock:
            hs_list = self._list_lookup(request)
            hs_list.filter_branch = body.get("filterBranch")
            hs_list.version += 1
            hs_list.updated_at = hs_datetime(self.clock.tick())
        return Response.json(200, {"list": hs_list.as_json()}, records=1)

    def _list_add(self, request: Request) -> Response:
        with self.portal.lock:
            hs_list = self._list_lookup(request)
            if hs_list.processing_type != "MANUAL":
                raise hs_fail(
                    400,
                    "VALIDATION_ERROR",
                    "Memberships can only be changed for MANUAL lists",
                    sub="ILS.INVALID_LIST_PROCESSING_TYPE",
                )
            ids = [str(i) for i in request.json() or []]
            hs_list.members.extend(i for i in ids if i not in hs_list.members)
        return Response.json(200, {"recordIdsAdded": ids, "recordIdsMissing": []}, records=len(ids))

    # ---- owners -----------------------------------------------------------------------------

    @staticmethod
    def _owner_json(index: int) -> dict[str, Any]:
        o = OWNERS[index]
        return {
            "id": o.hubspot_id,
            "email": o.email,
            "type": "PERSON",
            "firstName": o.first_name,
            "lastName": o.last_name,
            "userId": 9000000 + index,
            "userIdIncludingInactive": 9000000 + index,
            "teams": [],
            "archived": False,
            "createdAt": "2020-01-01T00:00:00.000Z",
            "updatedAt": "2020-01-01T00:00:00.000Z",
        }

    def _owners(self, request: Request) -> Response:
        email = request.arg("email")
        results = [
            self._owner_json(i)
            for i, o in enumerate(OWNERS)
            if email is None or o.email.lower() == email.lower()
        ]
        return Response.json(200, {"results": results}, records=len(results))

    def _deal_pipelines(self, request: Request) -> Response:
        from tierwise.sandbox.hs_pipelines import deal_pipelines

        results = deal_pipelines()
        return Response.json(200, {"results": results}, records=len(results))

    def _owner(self, request: Request) -> Response:
        for i, o in enumerate(OWNERS):
            if o.hubspot_id == request.params["oid"]:
                return Response.json(200, self._owner_json(i), records=1)
        raise hs_fail(404, "OBJECT_NOT_FOUND", "Owner not found")
