"""HubSpot object routes: list, get, create, update, archive and the batch operations.

A mixin of ``HubSpotEmulator`` (``hubspot.py`` registers these handlers for companies,
contacts, tasks and deals, on the v3 and the date-based paths), kept apart so the
emulator stays a readable size. Needs ``portal``, ``behaviour`` and ``base_url``, plus
the shared helpers of ``HubSpotRouteBase``.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from tierwise.sandbox.hs_routes_associations import SINGULAR, assoc_target
from tierwise.sandbox.hs_routes_common import HubSpotRouteBase, hs_fail
from tierwise.sandbox.hs_schema import OBJECT_ALIASES, OBJECT_TYPE_IDS, PropertyValueError
from tierwise.sandbox.hs_store import HubSpotPortal
from tierwise.sandbox.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from tierwise.sandbox.hubspot import HubSpotBehaviour

MAX_PAGE = 100


class HubSpotObjectRoutes(HubSpotRouteBase):
    """Record reads and writes, one at a time and in batches of up to ``MAX_BATCH``."""

    portal: HubSpotPortal
    behaviour: HubSpotBehaviour
    base_url: str

    # ---- objects ----------------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        object_type = request.params["type"]
        limit = _int(request.arg("limit"), 10, "limit")
        if not 1 <= limit <= MAX_PAGE:
            raise hs_fail(400, "VALIDATION_ERROR", f"limit must be between 1 and {MAX_PAGE}")
        after = _int(request.arg("after"), 0, "after")
        names = self._requested(request)
        assoc = [OBJECT_ALIASES.get(a) for a in self._requested(request, "associations")]
        with self.portal.lock:
            ids, more = self.portal.ids_after(object_type, after, limit)
            store = self.portal.objects[object_type]
            results = []
            for oid in ids:
                shaped = self._shape(object_type, store[oid], names)
                self._attach_assocs(object_type, oid, assoc, shaped)
                results.append(shaped)
        body: dict[str, Any] = {"results": results}
        if more and ids:
            body["paging"] = {
                "next": {
                    "after": ids[-1],
                    "link": f"{self.base_url}/crm/v3/objects/{object_type}?after={ids[-1]}",
                }
            }
        return Response.json(200, body, records=len(results))

    def _attach_assocs(
        self, object_type: str, oid: str, assoc: list[str | None], shaped: dict[str, Any]
    ) -> None:
        found: dict[str, Any] = {}
        for to_type in assoc:
            if to_type is None:
                continue
            links = self.portal.associated(object_type, oid, to_type)
            if links:
                found[to_type] = {
                    "results": [
                        {"id": tid, "type": f"{SINGULAR[object_type]}_to_{SINGULAR[to_type]}"}
                        for tid in links
                    ]
                }
        if found:
            shaped["associations"] = found

    def _get(self, request: Request) -> Response:
        object_type = request.params["type"]
        object_id = request.params["id"]
        id_property = request.arg("idProperty")
        with self.portal.lock:
            if id_property:
                self._check_id_property(object_type, id_property)
                found = self.portal.find_unique(object_type, id_property, object_id)
                object_id = found or ""
            obj = self.portal.objects[object_type].get(object_id)
            if obj is None:
                raise hs_fail(404, "OBJECT_NOT_FOUND", "resource not found")
            shaped = self._shape(object_type, obj, self._requested(request))
            assoc = [OBJECT_ALIASES.get(a) for a in self._requested(request, "associations")]
            self._attach_assocs(object_type, object_id, assoc, shaped)
        return Response.json(200, shaped, records=1)

    def _validate_associations(self, object_type: str, raw: Any) -> list[tuple[str, str, int]]:
        out: list[tuple[str, str, int]] = []
        for item in raw or []:
            to_id = str((item.get("to") or {}).get("id") or "")
            for spec in item.get("types") or []:
                type_id = int(spec.get("associationTypeId") or 0)
                to_type = assoc_target(object_type, type_id)
                if to_type is None or to_id not in self.portal.objects[to_type]:
                    raise hs_fail(
                        400,
                        "VALIDATION_ERROR",
                        f"One or more associations are invalid: {to_id} "
                        f"(associationTypeId {type_id})",
                        sub="crm.associations.INVALID_OBJECT_IDS",
                    )
                out.append((to_type, to_id, type_id))
        return out

    def _create(self, request: Request) -> Response:
        object_type = request.params["type"]
        body = self._body(request)
        with self.portal.lock:
            links = self._validate_associations(object_type, body.get("associations"))
            clean = self._one_record(request, object_type, body, None, "")
            obj = self.portal.write(object_type, None, clean, self._lag())
            for to_type, to_id, type_id in links:
                self.portal.associate(object_type, obj["id"], to_type, to_id, [type_id])
            shaped = self._shape(object_type, obj, list(clean))
        return Response.json(201, shaped, records=1)

    def _one_record(
        self,
        request: Request,
        object_type: str,
        body: dict[str, Any],
        oid: str | None,
        fault_id: str,
    ) -> dict[str, str]:
        """A single create or update's properties, validated; a bad value or an injected
        per-record fault answers 400 with a correlation id."""
        try:
            clean = self.portal.validate(object_type, body.get("properties") or {}, oid)
        except PropertyValueError as exc:
            raise ApiError(
                Response.json(400, {**self._invalid(exc), "correlationId": str(uuid.uuid4())})
            ) from exc
        if (injected := self._injected(request, fault_id)) is not None:
            raise ApiError(Response.json(400, {**injected, "correlationId": str(uuid.uuid4())}))
        return clean

    def _update(self, request: Request) -> Response:
        object_type = request.params["type"]
        object_id = request.params["id"]
        body = self._body(request)
        with self.portal.lock:
            if request.arg("idProperty"):
                object_id = (
                    self.portal.find_unique(object_type, request.arg("idProperty") or "", object_id)
                    or ""
                )
            if object_id not in self.portal.objects[object_type]:
                raise hs_fail(404, "OBJECT_NOT_FOUND", "resource not found")
            clean = self._one_record(request, object_type, body, object_id, object_id)
            obj = self.portal.write(object_type, object_id, clean, self._lag())
            shaped = self._shape(object_type, obj, list(clean))
        return Response.json(200, shaped, records=1)

    def _archive(self, request: Request) -> Response:
        with self.portal.lock:
            self.portal.archive(request.params["type"], request.params["id"])
        return Response(204, records=1)

    def _batch_read(self, request: Request) -> Response:
        object_type = request.params["type"]
        body = self._body(request)
        inputs = self._inputs(request)
        started = self._now_text()
        names = [str(n) for n in body.get("properties") or []]
        id_property = body.get("idProperty")
        if id_property:
            self._check_id_property(object_type, str(id_property))
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        with self.portal.lock:
            for item in inputs:
                key = str(item.get("id") or "")
                oid = self.portal.find_unique(object_type, id_property, key) if id_property else key
                obj = self.portal.objects[object_type].get(oid or "")
                if obj is None:
                    missing.append(key)
                else:
                    results.append(self._shape(object_type, obj, names))
        errors = [self._objects_not_found(object_type, missing)] if missing else []
        return self._batch_response(200, results, errors, started, len(inputs))

    def _check_id_property(self, object_type: str, id_property: str) -> None:
        """An idProperty must have unique values; otherwise 400 "Unable to perform
        update/upsert by non-unique ... property" (CRM-API-NOTES §2.16:
        hubspot-api-nodejs#548, segment-actions#3957)."""
        prop = self.portal.properties[object_type].get(id_property)
        if prop is None or not prop.unique:
            raise hs_fail(
                400,
                "VALIDATION_ERROR",
                f"Unable to perform read/update/upsert by non-unique "
                f"{OBJECT_TYPE_IDS[object_type]} property {id_property} in portal "
                "ID 0",
                sub="crm.objects.INVALID_ID_PROPERTY",
            )

    def _batch_create(self, request: Request) -> Response:
        object_type = request.params["type"]
        inputs = self._inputs(request)
        started = self._now_text()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.portal.lock:
            for item in inputs:
                try:
                    links = self._validate_associations(object_type, item.get("associations"))
                    clean = self.portal.validate(object_type, item.get("properties") or {}, None)
                except PropertyValueError as exc:
                    errors.append(self._invalid(exc))
                    continue
                except ApiError as exc:
                    errors.append(json.loads(exc.response.body))
                    continue
                key = str(item.get("objectWriteTraceId") or "")
                if (injected := self._injected(request, key)) is not None:
                    errors.append(injected)
                    continue
                obj = self.portal.write(object_type, None, clean, self._lag())
                for to_type, to_id, type_id in links:
                    self.portal.associate(object_type, obj["id"], to_type, to_id, [type_id])
                results.append(self._shape(object_type, obj, list(clean)))
        if errors and self.behaviour.invalid_batch_status != 207 and not results:
            return Response.json(
                self.behaviour.invalid_batch_status,
                {**errors[0], "correlationId": str(uuid.uuid4())},
            )
        return self._batch_response(201, results, errors, started, len(inputs))

    def _batch_update(self, request: Request) -> Response:
        object_type = request.params["type"]
        body = self._body(request)
        inputs = self._inputs(request)
        id_property = body.get("idProperty")
        if id_property:
            self._check_id_property(object_type, str(id_property))
        started = self._now_text()
        ids = [str(i.get("id") or "") for i in inputs]
        _refuse_duplicate_ids(ids)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        missing: list[str] = []
        with self.portal.lock:
            for item, key in zip(inputs, ids, strict=True):
                oid = (
                    self.portal.find_unique(object_type, str(id_property), key)
                    if id_property
                    else key
                )
                if not oid or oid not in self.portal.objects[object_type]:
                    missing.append(key)
                    continue
                written = self._write_one(
                    request, object_type, oid, item.get("properties") or {}, key, oid, errors
                )
                if written is not None:
                    results.append(written)
        if missing:
            errors.insert(0, self._objects_not_found(object_type, missing))
        if errors and self.behaviour.invalid_batch_status != 207:
            return Response.json(
                self.behaviour.invalid_batch_status,
                {**errors[0], "correlationId": str(uuid.uuid4())},
                records=len(inputs),
            )
        return self._batch_response(200, results, errors, started, len(inputs))

    def _write_one(
        self,
        request: Request,
        object_type: str,
        oid: str | None,
        values: dict[str, Any],
        key: str,
        fault_id: str,
        errors: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        """One batch input: validate, apply an injected per-record fault, write. A rejected
        input lands in ``errors`` (context ids = ``key``) and returns None."""
        try:
            clean = self.portal.validate(object_type, values, oid)
        except PropertyValueError as exc:
            error = self._invalid(exc)
            error["context"]["ids"] = [key]
            errors.append(error)
            return None
        if (injected := self._injected(request, fault_id)) is not None:
            errors.append(injected)
            return None
        obj = self.portal.write(object_type, oid, clean, self._lag())
        return self._shape(object_type, obj, list(clean))

    def _batch_upsert(self, request: Request) -> Response:
        object_type = request.params["type"]
        inputs = self._inputs(request)
        started = self._now_text()
        _refuse_duplicate_ids([str(i.get("id") or "") for i in inputs])
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.portal.lock:
            for item in inputs:
                id_property = str(item.get("idProperty") or "")
                prop = self.portal.properties[object_type].get(id_property)
                if prop is None or not prop.unique:
                    raise hs_fail(
                        400,
                        "VALIDATION_ERROR",
                        f"{id_property} is not a unique identifier property; "
                        "idProperty must be a property with unique values",
                        sub="crm.objects.INVALID_ID_PROPERTY",
                    )
                key = str(item.get("id") or "")
                oid = self.portal.find_unique(object_type, id_property, key)
                values = dict(item.get("properties") or {})
                values[id_property] = key
                shaped = self._write_one(request, object_type, oid, values, key, key, errors)
                if shaped is not None:
                    shaped["new"] = oid is None
                    results.append(shaped)
        return self._batch_response(200, results, errors, started, len(inputs))

    def _batch_archive(self, request: Request) -> Response:
        object_type = request.params["type"]
        inputs = self._inputs(request)
        with self.portal.lock:
            for item in inputs:
                self.portal.archive(object_type, str(item.get("id") or ""))
        return Response(204, records=len(inputs))


def _int(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise hs_fail(400, "VALIDATION_ERROR", f"{name} must be an integer, got {raw!r}") from None


def _refuse_duplicate_ids(ids: list[str]) -> None:
    """A batch that names one id twice is refused whole (400 VALIDATION_ERROR)."""
    if len(set(ids)) != len(ids):
        raise hs_fail(
            400,
            "VALIDATION_ERROR",
            "Duplicate IDs found in batch input: "
            + str(sorted({i for i in ids if ids.count(i) > 1})),
        )
