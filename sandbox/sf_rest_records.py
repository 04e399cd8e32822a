"""Salesforce single-record routes: get, create, update, delete, external-ID get and upsert.

A mixin of ``SalesforceEmulator`` (``salesforce.py`` registers the routes), kept apart
so the emulator class stays a readable size: the ``/sobjects/{object}/{id}`` and
``/sobjects/{object}/{field}/{value}`` handlers, one record per request.
"""

from __future__ import annotations

from tierwise.sandbox.faults import FaultSet
from tierwise.sandbox.sf_rest_common import (
    body_dict,
    external_field,
    injected_fault,
    record_out,
)
from tierwise.sandbox.sf_store import RecordError, RequestError, SalesforceOrg
from tierwise.sandbox.wire import Request, Response


class RecordRoutes:
    """Single-record handlers; needs ``self.org`` and ``self.faults``."""

    org: SalesforceOrg
    faults: FaultSet

    # ---- single records -----------------------------------------------------------------------

    def _get(self, request: Request) -> Response:
        name = self.org.object_name(request.params["object"])
        record_id = self.org.norm_id(request.params["id"])
        with self.org.lock:
            record = self.org.objects[name].get(record_id)
            if record is None:
                raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
            body = record_out(self.org, name, record, request.params["ver"], request.arg("fields"))
        return Response.json(200, body, records=1)

    def _create(self, request: Request) -> Response:
        name = self.org.object_name(request.params["object"])
        body = body_dict(request)
        with self.org.lock:
            injected = injected_fault(self.faults, request, [])
            if injected:
                raise injected
            new_id = self.org.commit(self.org.plan(name, None, body))
        return Response.json(201, {"id": new_id, "success": True, "errors": []}, records=1)

    def _update(self, request: Request) -> Response:
        name = self.org.object_name(request.params["object"])
        record_id = self.org.norm_id(request.params["id"])
        body = body_dict(request)
        with self.org.lock:
            if record_id not in self.org.objects[name]:
                raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
            injected = injected_fault(self.faults, request, [record_id])
            if injected:
                raise injected
            self.org.commit(self.org.plan(name, record_id, body))
        return Response(204, records=1)

    def _delete(self, request: Request) -> Response:
        name = self.org.object_name(request.params["object"])
        with self.org.lock:
            try:
                self.org.delete(name, request.params["id"])
            except RecordError as exc:
                raise RequestError(404, "ENTITY_IS_DELETED", exc.message) from exc
        return Response(204, records=1)

    def _get_external(self, request: Request) -> Response:
        name = self.org.object_name(request.params["object"])
        field_name = external_field(self.org, name, request.params["field"])
        value = request.params["value"]
        with self.org.lock:
            ids = self.org.find_external(name, field_name, value)
            if not ids:
                raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
            if len(ids) > 1:
                return Response.json(
                    300,
                    [f"/services/data/v{request.params['ver']}/sobjects/{name}/{i}" for i in ids],
                )
            record = self.org.objects[name][ids[0]]
            body = record_out(self.org, name, record, request.params["ver"], request.arg("fields"))
        return Response.json(200, body, records=1)

    def _upsert(self, request: Request) -> Response:
        name = self.org.object_name(request.params["object"])
        field_name = external_field(self.org, name, request.params["field"])
        value = request.params["value"]
        body = body_dict(request)
        with self.org.lock:
            ids = self.org.find_external(name, field_name, value)
            if len(ids) > 1:
                return Response.json(
                    300,
                    [f"/services/data/v{request.params['ver']}/sobjects/{name}/{i}" for i in ids],
                )
            injected = injected_fault(self.faults, request, [value])
            if injected:
                raise injected
            if ids:
                self.org.commit(self.org.plan(name, ids[0], body))
                new_id, created = ids[0], False
            else:
                if request.arg("updateOnly") == "true":
                    raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
                values = dict(body)
                values[field_name] = value
                new_id, created = self.org.commit(self.org.plan(name, None, values)), True
        status = 201 if created else (200 if float(request.params["ver"]) >= 46.0 else 204)
        if status == 204:
            return Response(204, records=1)
        return Response.json(
            status, {"id": new_id, "success": True, "errors": [], "created": created}, records=1
        )
