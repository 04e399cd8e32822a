"""Salesforce sObject Collections routes: create, update, upsert, retrieve and delete.

A mixin of ``SalesforceEmulator`` (``salesforce.py`` registers the routes), kept apart
so the emulator class stays a readable size: ``/composite/sobjects`` with at most 200
records a call, per-record results and ``allOrNone`` roll-back.
"""

from __future__ import annotations

from typing import Any

from tierwise.sandbox.faults import FaultSet
from tierwise.sandbox.sf_rest_common import (
    body_dict,
    external_field,
    injected_fault,
    record_out,
)
from tierwise.sandbox.sf_store import PlannedWrite, RecordError, RequestError, SalesforceOrg
from tierwise.sandbox.wire import Request, Response

MAX_COLLECTION = 200


class CollectionRoutes:
    """sObject Collections handlers; needs ``self.org`` and ``self.faults``."""

    org: SalesforceOrg
    faults: FaultSet

    # ---- sObject Collections ------------------------------------------------------------------

    def _collection_body(self, request: Request) -> tuple[bool, list[dict[str, Any]]]:
        body = body_dict(request)
        records = body.get("records")
        if not isinstance(records, list):
            raise RequestError(400, "INVALID_FIELD", "records is required")
        if len(records) > MAX_COLLECTION:
            raise RequestError(
                400,
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {MAX_COLLECTION} records into "
                "this call",
            )
        for record in records:
            if (
                not isinstance(record, dict)
                or not isinstance(record.get("attributes"), dict)
                or (not record["attributes"].get("type"))
            ):
                raise RequestError(400, "INVALID_INPUT", "Each record must have an attributes.type")
        return bool(body.get("allOrNone", False)), records

    def _run_collection(
        self,
        request: Request,
        all_or_none: bool,
        plans: list[PlannedWrite | RecordError],
        *,
        with_created: bool,
    ) -> Response:
        failed = any(isinstance(p, RecordError) for p in plans)
        results: list[dict[str, Any]] = []
        for plan in plans:
            if isinstance(plan, RecordError):
                results.append({"success": False, "errors": [plan.as_dict()]})
            elif all_or_none and failed:
                results.append(
                    {
                        "id": plan.record_id or None,
                        "success": False,
                        "errors": [
                            {
                                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                "message": "Record rolled back because not all records were "
                                "valid and the "
                                "request was using AllOrNone header",
                                "fields": [],
                            }
                        ],
                    }
                )
            else:
                new_id = self.org.commit(plan)
                item: dict[str, Any] = {"id": new_id, "success": True, "errors": []}
                if with_created:
                    item["created"] = plan.created
                results.append(item)
        return Response.json(200, results, records=len(plans))

    def _plan_each(
        self, request: Request, records: list[dict[str, Any]], fn: Any
    ) -> list[PlannedWrite | RecordError]:
        plans: list[PlannedWrite | RecordError] = []
        for record in records:
            try:
                plans.append(fn(record))
            except RecordError as exc:
                plans.append(exc)
        return plans

    def _collection_create(self, request: Request) -> Response:
        all_or_none, records = self._collection_body(request)
        with self.org.lock:

            def plan(record: dict[str, Any]) -> PlannedWrite:
                if record.get("Id") or record.get("id"):
                    raise RecordError(
                        "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"]
                    )
                name = self.org.object_name(record["attributes"]["type"])
                injected = injected_fault(self.faults, request, [str(record.get("Name") or "")])
                if injected:
                    raise injected
                return self.org.plan(name, None, record)

            return self._run_collection(
                request, all_or_none, self._plan_each(request, records, plan), with_created=False
            )

    def _collection_update(self, request: Request) -> Response:
        all_or_none, records = self._collection_body(request)
        with self.org.lock:

            def plan(record: dict[str, Any]) -> PlannedWrite:
                record_id = record.get("Id") or record.get("id")
                if not record_id:
                    raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])
                name = self.org.object_name(record["attributes"]["type"])
                injected = injected_fault(self.faults, request, [self.org.norm_id(str(record_id))])
                if injected:
                    raise injected
                return self.org.plan(name, str(record_id), record)

            return self._run_collection(
                request, all_or_none, self._plan_each(request, records, plan), with_created=False
            )

    def _collection_upsert(self, request: Request) -> Response:
        all_or_none, records = self._collection_body(request)
        name = self.org.object_name(request.params["object"])
        field_name = external_field(self.org, name, request.params["field"])
        seen: set[str] = set()
        with self.org.lock:

            def plan(record: dict[str, Any]) -> PlannedWrite:
                value = record.get(field_name)
                if value in (None, ""):
                    raise RecordError(
                        "MISSING_ARGUMENT", f"{field_name} not specified", [field_name]
                    )
                key = str(value).lower()
                if key in seen:
                    raise RecordError(
                        "DUPLICATE_EXTERNAL_ID",
                        f"{field_name}: duplicate value in this request",
                        [field_name],
                    )
                seen.add(key)
                injected = injected_fault(self.faults, request, [str(value)])
                if injected:
                    raise injected
                ids = self.org.find_external(name, field_name, str(value))
                if len(ids) > 1:
                    raise RecordError(
                        "DUPLICATE_EXTERNAL_ID",
                        f"{field_name}: more than one record found for external id field: {ids}",
                        [field_name],
                    )
                return self.org.plan(name, ids[0] if ids else None, record)

            return self._run_collection(
                request, all_or_none, self._plan_each(request, records, plan), with_created=True
            )

    def _collection_retrieve(self, request: Request) -> Response:
        name = self.org.object_name(request.params["object"])
        if request.method == "POST":
            body = body_dict(request)
            ids = [str(i) for i in body.get("ids") or []]
            fields = ",".join(body.get("fields") or [])
            limit = 2000
        else:
            ids = [i for i in (request.arg("ids") or "").split(",") if i]
            fields = request.arg("fields") or ""
            limit = 800
        if not fields:
            raise RequestError(400, "MALFORMED_QUERY", "fields is required")
        if len(ids) > limit:
            raise RequestError(400, "EXCEEDED_ID_LIMIT", f"cannot retrieve more than {limit} ids")
        out: list[dict[str, Any] | None] = []
        with self.org.lock:
            for record_id in ids:
                record = self.org.objects[name].get(self.org.norm_id(record_id))
                out.append(
                    None
                    if record is None
                    else record_out(self.org, name, record, request.params["ver"], fields)
                )
        return Response.json(200, out, records=len(ids))

    def _collection_delete(self, request: Request) -> Response:
        ids = [i for i in (request.arg("ids") or "").split(",") if i]
        if len(ids) > MAX_COLLECTION:
            raise RequestError(
                400,
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {MAX_COLLECTION} "
                "records into this call",
            )
        results: list[dict[str, Any]] = []
        with self.org.lock:
            for record_id in ids:
                name = next(
                    (
                        n
                        for n, objs in self.org.objects.items()
                        if self.org.norm_id(record_id) in objs
                    ),
                    None,
                )
                if name is None:
                    results.append(
                        {
                            "id": record_id,
                            "success": False,
                            "errors": [
                                {
                                    "statusCode": "ENTITY_IS_DELETED",
                                    "message": "entity is deleted",
                                    "fields": [],
                                }
                            ],
                        }
                    )
                    continue
                self.org.delete(name, record_id)
                results.append({"id": self.org.norm_id(record_id), "success": True, "errors": []})
        return Response.json(200, results, records=len(ids))
