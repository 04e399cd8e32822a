"""Bulk API 2.0 query jobs: create, poll, page through CSV results with a locator.

Sources (Bulk API 2.0 and Bulk API Developer Guide):

- [queries] developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/queries.htm:
  the six URIs; no GROUP BY, OFFSET, TYPEOF, aggregate functions or parent-to-child
  subqueries (child-to-parent fields such as ``Account.SystemModstamp`` are supported).
- [create] .../query_create_job.htm: body ``{operation: query|queryAll, query, contentType,
  columnDelimiter, lineEnding}``; CSV is the only content type.
- [results] .../query_get_job_results.htm: ``GET .../results?locator=&maxRecords=``; the job
  must be ``JobComplete``; headers ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (the
  string ``null`` on the last set); a locator is stable while the job exists, so a set can
  be fetched again; the same API version as the create, else 409; columns in the order
  requested (v50.0+).
- [timeouts] .../bulk_api_2_0_troubleshoot_query_timeouts.htm: ORDER BY is accepted but
  disables PK chunking (so tierwise never sends it; the emulator still honours it).
- [limits] .../bulk_api_2_limits.htm: 10,000 query jobs per rolling 24 h (DailyBulkV2QueryJobs),
  results lifespan 7 days; query jobs consume no batches.

Every request here goes through ``SalesforceEmulator.dispatch`` and so counts against the
daily API request total like any REST call (the docs list no exemption; a GUESS noted in
sandbox/README.md). Jobs run at creation against a snapshot (each row's values kept as a
tuple then, rendered to CSV per results set), report ``UploadComplete`` then
``InProgress`` for ``poll_steps`` status reads, then ``JobComplete``, or ``Failed`` when a
test set ``fail_next``. GUESSES (switchable): ``default_page_rows`` (the docs say only "a
default based on the service"; 50,000 is what simple-salesforce sends), the 400
``INVALIDJOB`` answer to an unsupported statement, and a locator that is base64 of the
next offset (the docs' example ``MTAwMDA`` decodes to 10000).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tierwise.sandbox import soql
from tierwise.sandbox.bulk import advance
from tierwise.sandbox.clock import sf_datetime
from tierwise.sandbox.records import snapshot, stored
from tierwise.sandbox.seed import OWNERS
from tierwise.sandbox.sf_bulk_render import renderer, where_fields
from tierwise.sandbox.sf_store import CHILD_RELATIONSHIPS, RequestError, SalesforceOrg, id18
from tierwise.sandbox.wire import Request, Response

DEFAULT_PAGE_ROWS = 50_000
DAILY_JOBS = 10_000
FINAL = ("JobComplete", "Failed", "Aborted")
_DELIMS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
# Child-to-parent lookups the emulator knows: (child, relationship) -> (parent, key field).
PARENTS = {
    (child, key.removesuffix("Id").lower()): (parent, key)
    for (parent, _), (child, key) in CHILD_RELATIONSHIPS.items()
}


@dataclass
class QueryJob:
    id: str
    operation: str
    object: str
    query: str
    version: str
    created: str
    delimiter: str
    line_ending: str
    header: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    state: str = "UploadComplete"
    polls_left: int = 0
    error_message: str | None = None

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.object,
            "createdById": OWNERS[0].salesforce_id,
            "createdDate": self.created,
            "systemModstamp": self.created,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.delimiter,
            "numberRecordsProcessed": len(self.rows) if self.state == "JobComplete" else 0,
            "retries": 0,
            "totalProcessingTime": 0,
            "errorMessage": self.error_message,
        }


class _WithParents(Mapping[str, Any]):
    """A record seen with its parents' fields under ``Relationship.Field`` names."""

    def __init__(
        self, rec: Mapping[str, Any], parent: Callable[[str, Mapping[str, Any]], Any]
    ) -> None:
        self.rec = rec
        self.parent = parent

    def __getitem__(self, name: str) -> Any:
        if "." in name:
            return self.parent(name, self.rec)
        return self.rec[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.rec)

    def __len__(self) -> int:
        return len(self.rec)


class BulkQueryJobs:
    """The org's query jobs; ``fail_next`` makes the next job end ``Failed`` with that message."""

    def __init__(
        self,
        org: SalesforceOrg,
        *,
        poll_steps: int = 1,
        default_page_rows: int = DEFAULT_PAGE_ROWS,
        retained_jobs: int = 16,
        retained_rows: int = 2_500_000,
    ) -> None:
        self.org = org
        self.poll_steps = poll_steps
        self.default_page_rows = default_page_rows
        # Salesforce keeps finished jobs 7 days [limits]; the sandbox keeps the newest
        # ``retained_jobs`` so repeated pulls of a large org do not pile up snapshots
        # (a memory guard, not a Salesforce rule; an evicted job answers 404).
        self.retained_jobs = retained_jobs
        # ... and no more than ``retained_rows`` snapshot rows across them (the newest job
        # always kept): a full pull of a 1,000,000-account org is ~350 MB of snapshot.
        self.retained_rows = retained_rows
        self.fail_next: str | None = None
        self.jobs: dict[str, QueryJob] = {}
        self.created_total = 0  # what DailyBulkV2QueryJobs would count [limits]
        self._ids = itertools.count(1)

    # ---- the job's query -------------------------------------------------------------------

    def _run(
        self, text: str, include_deleted: bool
    ) -> tuple[str, list[tuple[str, str]], list[tuple[Any, ...]]]:
        try:
            query = soql.parse(text)
        except soql.SoqlError as exc:
            raise RequestError(400, exc.code, exc.message) from exc
        if query.subqueries or query.aggregates or query.group_by or query.count_only:
            raise RequestError(
                400,
                "INVALIDJOB",
                "InvalidJob : Bulk API 2.0 query does not support aggregate functions, GROUP BY "
                "or parent-to-child relationship queries",
            )
        if query.offset:
            raise RequestError(400, "INVALIDJOB", "InvalidJob : OFFSET is not supported")
        org = self.org
        object_name = org.object_name(query.object_name)
        cache: dict[tuple[str, str], Any] = {}

        def resolve(name: str) -> tuple[str, str]:
            if "." in name:
                relationship, _, leaf = name.partition(".")
                found = PARENTS.get((object_name, relationship.lower()))
                fdef = org.field(found[0], leaf) if found else None
                if found is None or fdef is None:
                    raise RequestError(
                        400, "INVALID_FIELD", f"No such column '{name}' on entity '{object_name}'."
                    )
                return f"{relationship}.{fdef.name}", fdef.type
            fdef = org.field(object_name, name)
            if fdef is None:
                raise RequestError(
                    400, "INVALID_FIELD", f"No such column '{name}' on entity '{object_name}'."
                )
            return fdef.name, fdef.type

        def parent(name: str, rec: Mapping[str, Any]) -> Any:
            relationship, _, leaf = name.partition(".")
            parent_object, key = PARENTS[(object_name, relationship.lower())]
            parent_id = str(rec.get(key) or "")
            hit = (parent_id, leaf)
            if hit not in cache:
                parent_rec = org.objects[parent_object].get(parent_id) or {}
                cache[hit] = parent_rec.get(leaf)
            return cache[hit]

        fields = [resolve(name) for name in query.fields]
        try:
            predicate = (
                soql.compile_where(query.where, object_name, resolve, org.clock.peek().date())
                if query.where is not None
                else None
            )
        except soql.SoqlError as exc:
            raise RequestError(400, exc.code, exc.message) from exc
        with org.lock:
            pools = [org.objects[object_name].values()]
            if include_deleted:
                pools.append(org.deleted[object_name].values())
            # Only a statement naming a parent field pays for the parent lookups.
            dotted = any("." in name for name in (*query.fields, *where_fields(query.where)))
            matched: list[Mapping[str, Any]] = [
                view
                for pool in pools
                for view in ((_WithParents(r, parent) if dotted else r) for r in pool)
                if predicate is None or predicate(view)
            ]
            if query.order:
                resolved = [(resolve(i.field), i) for i in query.order]
                order = tuple(
                    soql.OrderItem(f, i.descending, i.nulls_last) for (f, _), i in resolved
                )
                matched.sort(key=soql.sort_key(order, {f: t for (f, t), _ in resolved}))
            if query.limit is not None:
                matched = matched[: query.limit]
            names = [name for name, _ in fields]
            # Stored values (a seeded stamp stays an int until a results set prints it),
            # taken by slot when no parent field is named (records.snapshot: the per-field
            # walk was most of a 1,000,000-row job's create).
            if dotted:
                rows = [
                    tuple([view.get(n) if "." in n else stored(view, n) for n in names])
                    for view in matched
                ]
            else:
                rows = snapshot(matched, names, org.layouts[object_name], with_id=False)
        return object_name, fields, rows

    # ---- job lifecycle ---------------------------------------------------------------------

    def create(self, body: Any, version: str) -> QueryJob:
        if not isinstance(body, dict) or not body.get("query"):
            raise RequestError(400, "INVALIDJOB", "InvalidJob : query is required")
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise RequestError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        if str(body.get("contentType") or "CSV") != "CSV":
            raise RequestError(400, "INVALIDJOB", "InvalidJob : contentType must be CSV")
        object_name, fields, rows = self._run(str(body["query"]), operation == "queryAll")
        job = QueryJob(
            id=id18(f"750Qy0{next(self._ids):09d}"),
            operation=operation,
            object=object_name,
            query=str(body["query"]),
            version=version,
            created=sf_datetime(self.org.clock.peek()),
            delimiter=str(body.get("columnDelimiter") or "COMMA"),
            line_ending=str(body.get("lineEnding") or "LF"),
            header=[name for name, _ in fields],
            types=[ftype for _, ftype in fields],
            rows=rows,
            polls_left=self.poll_steps,
        )
        if self.fail_next is not None:
            job.error_message, self.fail_next = self.fail_next, None
            job.rows = []
        self.jobs[job.id] = job
        self.created_total += 1
        held = sum(len(j.rows) for j in self.jobs.values())
        while len(self.jobs) > 1 and (
            len(self.jobs) > self.retained_jobs or held > self.retained_rows
        ):
            held -= len(self.jobs.pop(next(iter(self.jobs))).rows)
        return job

    def remaining(self) -> int:
        """What ``/limits`` reports as ``DailyBulkV2QueryJobs.Remaining`` (10,000 a day
        [limits]; the sandbox counts jobs since it started, not per rolling 24 h)."""
        return max(0, DAILY_JOBS - self.created_total)

    def get(self, job_id: str) -> QueryJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def poll(self, job_id: str) -> QueryJob:
        job = self.get(job_id)
        advance(job)
        return job

    def abort(self, job_id: str, state: str) -> QueryJob:
        job = self.get(job_id)
        if state != "Aborted":
            raise RequestError(400, "INVALIDJOBSTATE", f"Invalid state: {state}")
        if job.state in FINAL:
            raise RequestError(409, "INVALIDJOBSTATE", f"Job is already {job.state}")
        job.state, job.rows = "Aborted", []
        return job

    def results(
        self, job_id: str, version: str, locator: str | None, max_records: str | None
    ) -> tuple[str, int, str]:
        """(CSV text with its header row, rows in this set, the next locator or "null")."""
        job = self.get(job_id)
        if version != job.version:
            raise RequestError(409, "INVALIDJOBSTATE", "Use the API version the job was created in")
        if job.state != "JobComplete":
            raise RequestError(
                412,
                "JOB_NOT_COMPLETE",
                "can only download query results of successfully completed bulk job. "
                f"Current status: {job.state}",
            )
        try:
            size = int(max_records) if max_records else self.default_page_rows
            start = int(base64.b64decode(locator, validate=True)) if locator else 0
        except (ValueError, binascii.Error) as exc:
            raise RequestError(400, "INVALIDLOCATOR", "Invalid locator or maxRecords") from exc
        if size <= 0 or start < 0 or start > len(job.rows):
            raise RequestError(400, "INVALIDLOCATOR", "Invalid locator or maxRecords")
        end = min(start + size, len(job.rows))
        out = io.StringIO()
        writer = csv.writer(
            out,
            delimiter=_DELIMS.get(job.delimiter, ","),
            quoting=csv.QUOTE_ALL,
            lineterminator="\r\n" if job.line_ending == "CRLF" else "\n",
        )
        writer.writerow(job.header)
        render = [renderer(ftype) for ftype in job.types]
        writer.writerows(
            [f(v) for f, v in zip(render, row, strict=True)] for row in job.rows[start:end]
        )
        following = base64.b64encode(str(end).encode()).decode() if end < len(job.rows) else "null"
        return out.getvalue(), end - start, following

    # ---- routes (registered by SalesforceEmulator._routes) ---------------------------------

    def add_routes(self, add: Callable[..., None], base: str, template: str) -> None:
        jobs = template + "/jobs/query"
        add("POST", base + r"/jobs/query/?", jobs, self._create)
        add("GET", base + r"/jobs/query/?", jobs, self._list)
        add("GET", base + r"/jobs/query/(?P<job>\w+)/results/?", jobs + "/{id}/results", self._get)
        add("GET", base + r"/jobs/query/(?P<job>\w+)/?", jobs + "/{id}", self._info)
        add("PATCH", base + r"/jobs/query/(?P<job>\w+)/?", jobs + "/{id}", self._abort)
        add("DELETE", base + r"/jobs/query/(?P<job>\w+)/?", jobs + "/{id}", self._delete)

    def _create(self, request: Request) -> Response:
        with self.org.lock:
            job = self.create(request.json(), request.params["ver"])
        return Response.json(200, job.info())

    def _list(self, request: Request) -> Response:
        body = {"done": True, "records": [j.info() for j in self.jobs.values()]}
        return Response.json(200, {**body, "nextRecordsUrl": None})

    def _info(self, request: Request) -> Response:
        with self.org.lock:
            return Response.json(200, self.poll(request.params["job"]).info())

    def _abort(self, request: Request) -> Response:
        body = request.json()
        state = str(body.get("state")) if isinstance(body, dict) else ""
        return Response.json(200, self.abort(request.params["job"], state).info())

    def _delete(self, request: Request) -> Response:
        del self.jobs[self.get(request.params["job"]).id]
        return Response(204)

    def _get(self, request: Request) -> Response:
        text, count, following = self.results(
            request.params["job"],
            request.params["ver"],
            request.arg("locator"),
            request.arg("maxRecords"),
        )
        response = Response.text(200, text, "text/csv", records=count)
        response.headers["Sforce-NumberOfRecords"] = str(count)
        response.headers["Sforce-Locator"] = following
        return response
