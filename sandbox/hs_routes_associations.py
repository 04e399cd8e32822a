"""HubSpot v4 associations: labelled and default PUT, GET, batch create and read.

A mixin of ``HubSpotEmulator``, kept apart so the emulator stays a readable size, with
the association type ids it knows (``_ASSOC_TARGETS``; the object routes use them too,
for the v3 ``associations`` of a create and a list's ``associations`` parameter). Needs
``portal``, plus the shared helpers of ``HubSpotRouteBase``.
"""

from __future__ import annotations

from typing import Any

from tierwise.sandbox.hs_routes_common import HubSpotRouteBase, hs_fail
from tierwise.sandbox.hs_schema import OBJECT_ALIASES, OBJECT_TYPE_IDS
from tierwise.sandbox.hs_store import HubSpotPortal
from tierwise.sandbox.wire import Request, Response


class HubSpotAssociationRoutes(HubSpotRouteBase):
    """``/crm/v4/objects/.../associations`` and the v4/date-based batch paths."""

    portal: HubSpotPortal

    # ---- associations (v4) ------------------------------------------------------------------

    def _assoc_types(self, request: Request) -> tuple[str, str]:
        from_type = OBJECT_ALIASES.get(request.params["ftype"].lower())
        to_type = OBJECT_ALIASES.get(request.params["ttype"].lower())
        if from_type is None or to_type is None:
            raise hs_fail(400, "VALIDATION_ERROR", "Unknown object type")
        return from_type, to_type

    def _check_pair(self, from_type: str, fid: str, to_type: str, tid: str) -> None:
        if fid not in self.portal.objects[from_type] or tid not in self.portal.objects[to_type]:
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                f"One or more objects do not exist: {from_type} {fid}, {to_type} {tid}",
                sub="crm.associations.INVALID_OBJECT_IDS",
            )

    def _assoc_put(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)
        fid, tid = request.params["fid"], request.params["tid"]
        specs = request.json()
        if not isinstance(specs, list) or not specs:
            raise hs_fail(400, "VALIDATION_ERROR", "A list of association specs is required")
        with self.portal.lock:
            self._check_pair(from_type, fid, to_type, tid)
            type_ids = [int(s.get("associationTypeId") or 0) for s in specs]
            self.portal.associate(from_type, fid, to_type, tid, type_ids)
        return Response.json(
            201,
            {
                "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
                "fromObjectId": int(fid),
                "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
                "toObjectId": int(tid),
                "labels": [],
            },
            records=1,
        )

    def _assoc_default(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)
        fid, tid = request.params["fid"], request.params["tid"]
        type_id = _default_type(from_type, to_type)
        started = self._now_text()
        with self.portal.lock:
            self._check_pair(from_type, fid, to_type, tid)
            self.portal.associate(from_type, fid, to_type, tid, [type_id])
        return Response.json(
            200,
            {
                "status": "COMPLETE",
                "startedAt": started,
                "completedAt": self._now_text(),
                "results": [
                    {
                        "from": {"id": fid},
                        "to": {"id": tid},
                        "associationSpec": {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": type_id,
                        },
                    }
                ],
            },
            records=1,
        )

    def _assoc_get(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)
        with self.portal.lock:
            links = self.portal.associated(from_type, request.params["fid"], to_type)
            results = [
                {
                    "toObjectId": int(tid),
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": t, "label": None}
                        for t in sorted(ts)
                    ],
                }
                for tid, ts in links.items()
            ]
        return Response.json(200, {"results": results}, records=len(results))

    def _assoc_batch_create(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)

        def make(item: dict[str, Any]) -> dict[str, Any]:
            fid = str((item.get("from") or {}).get("id") or "")
            tid = str((item.get("to") or {}).get("id") or "")
            self._check_pair(from_type, fid, to_type, tid)
            type_ids = [int(s.get("associationTypeId") or 0) for s in item.get("types") or []]
            self.portal.associate(from_type, fid, to_type, tid, type_ids)
            return {
                "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
                "fromObjectId": int(fid),
                "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
                "toObjectId": int(tid),
                "labels": [],
            }

        return self._batch_each(self._inputs(request), make)

    def _assoc_batch_read(self, request: Request) -> Response:
        from_type, to_type = self._assoc_types(request)
        inputs = self._inputs(request)
        started = self._now_text()
        results: list[dict[str, Any]] = []
        # The date-based reference shows toObjectId as a string; v4 sends a number.
        dated = not request.path.startswith("/crm/v4/")

        def target(tid: str) -> Any:
            return tid if dated else int(tid)

        with self.portal.lock:
            for item in inputs:
                fid = str(item.get("id") or "")
                links = self.portal.associated(from_type, fid, to_type)
                results.append(
                    {
                        "from": {"id": fid},
                        "to": [
                            {
                                "toObjectId": target(tid),
                                "associationTypes": [
                                    {"category": "HUBSPOT_DEFINED", "typeId": t, "label": None}
                                    for t in sorted(ts)
                                ],
                            }
                            for tid, ts in links.items()
                        ],
                    }
                )
        return self._batch_response(200, results, [], started, len(inputs))


SINGULAR = {"companies": "company", "contacts": "contact", "tasks": "task", "deals": "deal"}
_ASSOC_TARGETS = {
    ("tasks", 192): "companies",
    ("tasks", 204): "contacts",
    ("companies", 191): "tasks",
    ("contacts", 203): "tasks",
    ("contacts", 279): "companies",
    ("contacts", 1): "companies",
    ("companies", 280): "contacts",
    ("companies", 2): "contacts",
    ("deals", 5): "companies",
    ("companies", 6): "deals",
}


def assoc_target(object_type: str, type_id: int) -> str | None:
    return _ASSOC_TARGETS.get((object_type, type_id))


def _default_type(from_type: str, to_type: str) -> int:
    for (ftype, type_id), ttype in _ASSOC_TARGETS.items():
        if ftype == from_type and ttype == to_type:
            return type_id
    return 0
