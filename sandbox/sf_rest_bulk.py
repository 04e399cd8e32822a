"""Salesforce Bulk API 2.0 ingest routes: thin handlers over ``bulk.BulkIngest``.

A mixin of ``SalesforceEmulator`` (``salesforce.py`` registers the routes), kept apart
so the emulator class stays a readable size: the ``/jobs/ingest`` handlers that create,
list, poll, close or abort, delete, upload to and read the results of ingest jobs.
Bulk API 2.0 query jobs are ``sf_bulk_query.py``.
"""

from __future__ import annotations

from tierwise.sandbox.bulk import BulkIngest
from tierwise.sandbox.faults import FaultSet
from tierwise.sandbox.sf_rest_common import body_dict, injected_fault
from tierwise.sandbox.sf_store import RecordError, SalesforceOrg
from tierwise.sandbox.wire import Request, Response


class BulkRoutes:
    """Bulk API 2.0 ingest handlers; needs ``self.org``, ``self.bulk`` and ``self.faults``."""

    org: SalesforceOrg
    bulk: BulkIngest
    faults: FaultSet

    # ---- Bulk API 2.0 -------------------------------------------------------------------------

    def _bulk_create(self, request: Request) -> Response:
        with self.org.lock:
            job = self.bulk.create(request.json(), request.params["ver"])
        return Response.json(200, job.info())

    def _bulk_list(self, request: Request) -> Response:
        return Response.json(
            200,
            {
                "done": True,
                "records": [j.info() for j in self.bulk.jobs.values()],
                "nextRecordsUrl": None,
            },
        )

    def _bulk_get(self, request: Request) -> Response:
        job = self.bulk.poll(request.params["job"])  # takes the org lock itself
        with self.org.lock:
            return Response.json(200, job.info())

    def _bulk_state(self, request: Request) -> Response:
        body = body_dict(request)

        def row_fault(key: str) -> RecordError | None:
            return injected_fault(self.faults, request, [key])

        job = self.bulk.set_state(request.params["job"], str(body.get("state")), row_fault)
        return Response.json(200, job.info())

    def _bulk_delete(self, request: Request) -> Response:
        job = self.bulk.get(request.params["job"])
        del self.bulk.jobs[job.id]
        return Response(204)

    def _bulk_upload(self, request: Request) -> Response:
        rows = self.bulk.upload(request.params["job"], request.body)
        return Response(201, records=rows)

    def _bulk_results(self, request: Request) -> Response:
        kind = request.params["kind"]
        if kind.lower() == "unprocessedrecords":
            kind = "unprocessedrecords"
        text, count = self.bulk.results(request.params["job"], kind)
        return Response.text(200, text, "text/csv", records=count)
