"""HubSpot properties and property groups: read, create (one or a batch), update.

A mixin of ``HubSpotEmulator``, kept apart so the emulator stays a readable size; it
holds the refusals a property definition meets (required fields, name form, duplicates,
where ``hasUniqueValue`` is allowed). Needs ``portal``, ``behaviour`` and ``clock``,
plus the shared helpers of ``HubSpotRouteBase``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tierwise.sandbox.clock import SandboxClock, hs_datetime
from tierwise.sandbox.hs_routes_common import HubSpotRouteBase, hs_fail
from tierwise.sandbox.hs_schema import OBJECT_ALIASES, OBJECT_TYPE_IDS, TYPE_FIELD, PropertyDef
from tierwise.sandbox.hs_store import HubSpotPortal
from tierwise.sandbox.wire import Request, Response

if TYPE_CHECKING:
    from tierwise.sandbox.hubspot import HubSpotBehaviour

# Objects on which HubSpot documents hasUniqueValue [hs-chg-unique] (CRM-API-NOTES §2.16);
# tickets and custom objects are not emulated. Tasks: HubSpotBehaviour.unique_task_properties.
UNIQUE_OBJECTS = frozenset({"companies", "deals", "contacts"})
MAX_UNIQUE_PER_OBJECT = 10  # "at most 10 per object" [hs-chg-unique]


class HubSpotPropertyRoutes(HubSpotRouteBase):
    """``/crm/v3/properties/{type}`` (and the date-based paths): properties and groups."""

    portal: HubSpotPortal
    behaviour: HubSpotBehaviour
    clock: SandboxClock

    # ---- properties and groups --------------------------------------------------------------

    def _ptype(self, request: Request) -> str:
        object_type = OBJECT_ALIASES.get(request.params["ptype"].lower())
        if object_type is None:
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                f"Unable to infer object type from: {request.params['ptype']}",
            )
        return object_type

    def _properties(self, request: Request) -> Response:
        object_type = self._ptype(request)
        with self.portal.lock:
            results = [p.as_json() for p in self.portal.properties[object_type].values()]
        return Response.json(200, {"results": results}, records=len(results))

    def _property_get(self, request: Request) -> Response:
        object_type = self._ptype(request)
        prop = self.portal.properties[object_type].get(request.params["name"])
        if prop is None:
            raise hs_fail(
                404,
                "OBJECT_NOT_FOUND",
                f"Unable to find property with name {request.params['name']} for "
                f"objectType {OBJECT_TYPE_IDS[object_type]}",
            )
        return Response.json(200, prop.as_json(), records=1)

    def _new_property(self, object_type: str, body: Mapping[str, Any]) -> PropertyDef:
        for key in ("name", "label", "type", "fieldType", "groupName"):
            if not body.get(key):
                raise hs_fail(
                    400,
                    "VALIDATION_ERROR",
                    f"Invalid input JSON on line 1: missing required field {key!r}",
                )
        name = str(body["name"])
        ptype = str(body["type"])
        if ptype not in TYPE_FIELD:
            raise hs_fail(400, "VALIDATION_ERROR", f"Invalid property type: {ptype}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                f"Property name {name} is invalid: use lower-case letters, digits and _",
            )
        if body["groupName"] not in self.portal.groups[object_type]:
            raise hs_fail(
                400, "VALIDATION_ERROR", f"Property group {body['groupName']} does not exist"
            )
        if name in self.portal.properties[object_type]:
            raise hs_fail(
                409,
                self.behaviour.property_conflict_category,
                f"Property named '{name}' already exists.",
                context={"name": [name]},
            )
        options = [
            {
                "label": str(o.get("label")),
                "value": str(o.get("value")),
                "displayOrder": int(o.get("displayOrder", i)),
                "hidden": bool(o.get("hidden")),
            }
            for i, o in enumerate(body.get("options") or [])
        ]
        if ptype == "enumeration" and not options:
            raise hs_fail(400, "VALIDATION_ERROR", "Enumeration properties need options")
        unique = bool(body.get("hasUniqueValue"))
        if unique:
            self._check_unique_allowed(object_type)
        stamp = hs_datetime(self.clock.tick())
        prop = PropertyDef(
            name,
            ptype,
            str(body["label"]),
            str(body["fieldType"]),
            str(body["groupName"]),
            options,
            unique,
            hubspot_defined=False,
            description=str(body.get("description") or ""),
            display_order=int(body.get("displayOrder", -1)),
            created_at=stamp,
            updated_at=stamp,
        )
        self.portal.add_property(object_type, prop)
        return prop

    def _check_unique_allowed(self, object_type: str) -> None:
        """hasUniqueValue only where HubSpot documents it, at most 10 per object
        [hs-chg-unique]; the message wording is ours (the real one is unconfirmed)."""
        allowed = object_type in UNIQUE_OBJECTS or (
            object_type == "tasks" and self.behaviour.unique_task_properties
        )
        if not allowed:
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                f"Unique value properties are not supported for {object_type}",
                sub="crm.properties.UNIQUE_VALUE_NOT_SUPPORTED",
                context={"hasUniqueValue": ["true"]},
            )
        count = sum(
            1
            for p in self.portal.properties[object_type].values()
            if p.unique and not p.hubspot_defined
        )
        if count >= MAX_UNIQUE_PER_OBJECT:
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                f"At most {MAX_UNIQUE_PER_OBJECT} unique value properties per object",
                sub="crm.properties.TOO_MANY_UNIQUE_PROPERTIES",
            )

    def _property_create(self, request: Request) -> Response:
        object_type = self._ptype(request)
        with self.portal.lock:
            prop = self._new_property(object_type, self._body(request))
        return Response.json(201, prop.as_json(), records=1)

    def _property_batch_create(self, request: Request) -> Response:
        object_type = self._ptype(request)
        return self._batch_each(
            self._inputs(request), lambda item: self._new_property(object_type, item).as_json()
        )

    def _property_batch_read(self, request: Request) -> Response:
        object_type = self._ptype(request)
        inputs = self._inputs(request)
        started = self._now_text()
        props = self.portal.properties[object_type]
        results = [
            props[str(i.get("name"))].as_json() for i in inputs if str(i.get("name")) in props
        ]
        missing = [str(i.get("name")) for i in inputs if str(i.get("name")) not in props]
        errors = (
            [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "Some properties were not found",
                    "context": {"names": missing},
                }
            ]
            if missing
            else []
        )
        return self._batch_response(200, results, errors, started, len(inputs))

    def _property_update(self, request: Request) -> Response:
        object_type = self._ptype(request)
        body = self._body(request)
        with self.portal.lock:
            prop = self.portal.properties[object_type].get(request.params["name"])
            if prop is None:
                raise hs_fail(
                    404,
                    "OBJECT_NOT_FOUND",
                    f"Unable to find property with name {request.params['name']}",
                )
            if "label" in body:
                prop.label = str(body["label"])
            if "options" in body:
                prop.options = [
                    {
                        "label": str(o.get("label")),
                        "value": str(o.get("value")),
                        "displayOrder": int(o.get("displayOrder", i)),
                        "hidden": bool(o.get("hidden")),
                    }
                    for i, o in enumerate(body.get("options") or [])
                ]
            if "groupName" in body:
                prop.group = str(body["groupName"])
            prop.updated_at = hs_datetime(self.clock.tick())
        return Response.json(200, prop.as_json(), records=1)

    def _groups(self, request: Request) -> Response:
        object_type = self._ptype(request)
        results = list(self.portal.groups[object_type].values())
        return Response.json(200, {"results": results}, records=len(results))

    def _group_get(self, request: Request) -> Response:
        group = self.portal.groups[self._ptype(request)].get(request.params["name"])
        if group is None:
            raise hs_fail(
                404, "OBJECT_NOT_FOUND", f"Unable to find property group {request.params['name']}"
            )
        return Response.json(200, group, records=1)

    def _group_create(self, request: Request) -> Response:
        object_type = self._ptype(request)
        body = self._body(request)
        name = str(body.get("name") or "")
        if not name or not body.get("label"):
            raise hs_fail(400, "VALIDATION_ERROR", "name and label are required")
        with self.portal.lock:
            if name in self.portal.groups[object_type]:
                raise hs_fail(
                    409,
                    self.behaviour.property_conflict_category,
                    f"Property group named '{name}' already exists.",
                    context={"name": [name]},
                )
            group = {
                "name": name,
                "label": str(body["label"]),
                "displayOrder": int(body.get("displayOrder", -1)),
                "archived": False,
            }
            self.portal.groups[object_type][name] = group
        return Response.json(201, group, records=1)
