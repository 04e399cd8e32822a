"""HubSpot CRM imports (``/crm/v3/imports``): UPDATE companies by record id from a CSV file.

Why it is here: above ``hubspot.import_threshold`` the connector writes tier values through
one import instead of 100-input batch updates. What is emulated, with its source
(developers.hubspot.com/docs/api/crm/imports unless said otherwise):

- ``POST /crm/v3/imports``: ``multipart/form-data`` with ``importRequest`` (JSON text) and
  ``files``; ``importOperations`` ``{"0-2": "UPDATE"}``; a column mapped to ``hs_object_id``
  with ``"idColumnType": "HUBSPOT_OBJECT_ID"`` ("Record ID") names the record to update.
  Answers the import (``id``, ``state``, ``importName``, ...; client model
  ``PublicImportResponse``). An UPDATE import never creates a record.
- ``GET /crm/v3/imports/{importId}``: ``state`` STARTED, PROCESSING, DONE, FAILED, CANCELED
  (client model enum) and ``metadata.counters``.
- ``GET /crm/v3/imports/{importId}/errors``: paged ``results`` of ``PublicImportError``
  (``errorType`` from the client's enum, e.g. ``INVALID_OBJECT_ID``,
  ``INVALID_ENUMERATION_OPTION``; ``sourceData.rowData`` and ``lineNumber``).
- ``GET /crm/v3/imports``: the account's active imports (client ``CoreApi.get_page``:
  "Returns a paged list of active imports"); here every import of the last 24 h.
- Limits: 1,048,576 rows or 512 MB per file, 80,000,000 rows a day through the API, over
  them 429 (guide, "Limits"); 500 imports in a rolling 24 h
  (knowledge.hubspot.com/import-and-export/set-up-your-import-file).

GUESSES (sandbox/README.md): empty cells leave a property as it is (they never clear it);
the bodies of the 429s; the error type of an unknown record id (``INVALID_OBJECT_ID``) and of
a refused value (``INVALID_ENUMERATION_OPTION`` / ``FAILED_VALIDATION``); counters' keys.
Time runs on the sandbox clock: an import is DONE ``import_seconds`` after it started, or
after ``import_poll_steps`` status polls when ``import_seconds`` is 0; rows are written then.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from tierwise.sandbox.clock import hs_datetime
from tierwise.sandbox.hs_routes_common import hs_error
from tierwise.sandbox.hs_schema import PropertyValueError
from tierwise.sandbox.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from tierwise.sandbox.hubspot import HubSpotEmulator

IMPORT_PATH = "/crm/v3/imports"
OBJECT_TYPE_IDS = {"0-2": "companies"}
MAX_ROWS_PER_FILE = 1_048_576
MAX_FILE_BYTES = 512 * 1024 * 1024
ROWS_PER_DAY = 80_000_000
IMPORTS_PER_DAY = 500
ERRORS_PAGE = 100


@dataclass
class ImportBehaviour:
    import_seconds: float = 0.0
    import_poll_steps: int = 1
    imports_per_day: int = IMPORTS_PER_DAY
    rows_per_day: int = ROWS_PER_DAY
    max_rows_per_file: int = MAX_ROWS_PER_FILE


@dataclass
class ImportJob:
    import_id: str
    name: str
    object_type: str
    id_column: int
    columns: list[tuple[int, str]]  # (column index, property name)
    # The file's rows until the import is processed; then only their count is kept (the
    # status reads ``TOTAL_ROWS``; the errors page keeps the failed rows it names).
    rows: list[list[str]]
    failing: set[str]  # record ids a record_error fault names
    created: datetime
    request_json: dict[str, Any]
    total_rows: int = 0
    state: str = "STARTED"
    polls: int = 0
    updated: datetime | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    written: int = 0

    def as_json(self) -> dict[str, Any]:
        counters: dict[str, int] = {"TOTAL_ROWS": self.total_rows}
        if self.state == "DONE":
            counters.update(UPDATED_OBJECTS=self.written, ERRORS=len(self.errors))
        return {
            "id": self.import_id,
            "importName": self.name,
            "state": self.state,
            "importSource": "API",
            "createdAt": hs_datetime(self.created),
            "updatedAt": hs_datetime(self.updated or self.created),
            "optOutImport": False,
            "mappedObjectTypeIds": ["0-2"],
            "importRequestJson": self.request_json,
            "metadata": {"counters": counters, "fileIds": [], "objectLists": []},
        }


@dataclass
class HubSpotImports:
    """Import jobs of one portal; registered by ``HubSpotEmulator._routes``."""

    emulator: HubSpotEmulator
    behaviour: ImportBehaviour = field(default_factory=ImportBehaviour)
    jobs: dict[str, ImportJob] = field(default_factory=dict)
    _recent: deque[tuple[datetime, int]] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(71_000_001))

    def register(self) -> None:
        r = self.emulator.router.add
        r("POST", IMPORT_PATH + "/?", IMPORT_PATH, self._create)
        r("GET", IMPORT_PATH + "/?", IMPORT_PATH, self._list)
        r("GET", IMPORT_PATH + r"/(?P<iid>\d+)/?", IMPORT_PATH + "/{importId}", self._get)
        r(
            "GET",
            IMPORT_PATH + r"/(?P<iid>\d+)/errors/?",
            IMPORT_PATH + "/{importId}/errors",
            self._errors,
        )

    # ---- create -----------------------------------------------------------------------------
    def _create(self, request: Request) -> Response:
        em = self.emulator
        parts = _multipart(request)
        if "importRequest" not in parts or "files" not in parts:
            raise _bad("An import needs the form fields importRequest and files")
        spec = json.loads(parts["importRequest"].decode("utf-8"))
        operations = spec.get("importOperations") or {}
        if set(operations) - set(OBJECT_TYPE_IDS) or set(operations.values()) != {"UPDATE"}:
            raise _bad("sandbox: only importOperations {'0-2': 'UPDATE'} is emulated")
        files = spec.get("files") or []
        if len(files) != 1:
            raise _bad("sandbox: exactly one file per import is emulated")
        page = files[0].get("fileImportPage") or {}
        mappings = page.get("columnMappings") or []
        raw = parts["files"]
        if len(raw) > MAX_FILE_BYTES:
            raise ApiError(_error(429, "RATE_LIMITS", "Import files are limited to 512 MB"))
        table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        header, rows = (
            (table[0], table[1:]) if page.get("hasHeader", True) and table else ([], table)
        )
        if len(rows) > self.behaviour.max_rows_per_file:
            raise ApiError(
                _error(
                    429,
                    "RATE_LIMITS",
                    f"Import files are limited to {self.behaviour.max_rows_per_file} rows",
                )
            )
        id_column, columns = self._mapping(header, mappings)
        now = em.clock.peek()
        while self._recent and self._recent[0][0] <= now - timedelta(hours=24):
            self._recent.popleft()
        if len(self._recent) >= self.behaviour.imports_per_day or (
            sum(n for _, n in self._recent) + len(rows) > self.behaviour.rows_per_day
        ):
            raise ApiError(
                _error(429, "RATE_LIMITS", "You have reached the import limit for a rolling day")
            )
        self._recent.append((now, len(rows)))
        failing: set[str] = set()
        for rule in request.record_faults:
            failing.update(str(r) for r in rule.records or [])
        job = ImportJob(
            str(next(self._ids)),
            str(spec.get("name") or ""),
            "companies",
            id_column,
            columns,
            rows,
            failing,
            now,
            spec,
            len(rows),
        )
        self.jobs[job.import_id] = job
        return Response.json(200, job.as_json(), records=len(rows))

    def _mapping(
        self, header: list[str], mappings: list[dict[str, Any]]
    ) -> tuple[int, list[tuple[int, str]]]:
        known = self.emulator.portal.properties["companies"]
        position = {name: i for i, name in enumerate(header)}
        id_column: int | None = None
        columns: list[tuple[int, str]] = []
        for mapping in mappings:
            name = str(mapping.get("columnName"))
            if name not in position:
                raise _bad(f"Column {name!r} is not in the file's header")
            prop = str(mapping.get("propertyName"))
            if mapping.get("idColumnType") == "HUBSPOT_OBJECT_ID" and prop == "hs_object_id":
                id_column = position[name]
            elif prop not in known:
                raise _bad(f"Property {prop!r} does not exist on companies")
            else:
                columns.append((position[name], prop))
        if id_column is None:
            raise _bad("An UPDATE import needs a Record ID column (idColumnType HUBSPOT_OBJECT_ID)")
        return id_column, columns

    # ---- state ------------------------------------------------------------------------------
    def _job(self, request: Request) -> ImportJob:
        job = self.jobs.get(request.params["iid"])
        if job is None:
            raise ApiError(_error(404, "OBJECT_NOT_FOUND", "Import not found"))
        return job

    def _get(self, request: Request) -> Response:
        job = self._job(request)
        now = self.emulator.clock.peek()
        if job.state in ("STARTED", "PROCESSING"):
            job.polls += 1
            job.state = "PROCESSING"
            b = self.behaviour
            due = (
                now >= job.created + timedelta(seconds=b.import_seconds)
                if b.import_seconds > 0
                else job.polls > b.import_poll_steps
            )
            if due:
                self._process(job, now)
        return Response.json(200, job.as_json())

    def _list(self, request: Request) -> Response:
        return Response.json(200, {"results": [j.as_json() for j in self.jobs.values()]})

    def _process(self, job: ImportJob, now: datetime) -> None:
        """Each row: an UPDATE of the named company; a refused row is reported, the rest go on."""
        portal = self.emulator.portal
        with portal.lock:
            if job.state == "DONE":  # two status reads at once: the first processed it
                return
            store = portal.objects[job.object_type]
            for line, row in enumerate(job.rows, start=2):
                record_id = row[job.id_column].strip() if job.id_column < len(row) else ""
                if record_id not in store:
                    job.errors.append(
                        _row_error(job, line, row, "INVALID_OBJECT_ID", f"No company {record_id}")
                    )
                    continue
                if record_id in job.failing:
                    job.errors.append(
                        _row_error(job, line, row, "FAILED_VALIDATION", "injected failure")
                    )
                    continue
                # GUESS: an empty cell leaves the property as it is.
                values = {p: row[i] for i, p in job.columns if i < len(row) and row[i] != ""}
                try:
                    clean = portal.validate(job.object_type, values, record_id)
                except PropertyValueError as exc:
                    kind = (
                        "INVALID_ENUMERATION_OPTION"
                        if exc.code == "INVALID_OPTION"
                        else "FAILED_VALIDATION"
                    )
                    job.errors.append(_row_error(job, line, row, kind, exc.message, exc.name))
                    continue
                if clean:
                    portal.write(job.object_type, record_id, clean, self.emulator._lag())
                job.written += 1
            job.state, job.updated = "DONE", now
            # Written and reported: the rows are not read again (a sandbox memory measure;
            # at a million companies an import's rows held about 0.8 GB).
            job.rows = []

    def _errors(self, request: Request) -> Response:
        job = self._job(request)
        after = int(request.arg("after") or 0)
        limit = min(int(request.arg("limit") or ERRORS_PAGE), ERRORS_PAGE)
        page = job.errors[after : after + limit]
        # rowData and errorMessage only when asked for (the client's includeRowData /
        # includeErrorMessage query parameters; that they default to off is a GUESS).
        if str(request.arg("includeRowData")).lower() != "true":
            page = [{**e, "sourceData": _without(e["sourceData"], "rowData")} for e in page]
        if str(request.arg("includeErrorMessage")).lower() != "true":
            page = [_without(e, "errorMessage") for e in page]
        body: dict[str, Any] = {"results": page}
        if after + limit < len(job.errors):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return Response.json(200, body, records=len(page))


def _row_error(
    job: ImportJob, line: int, row: list[str], kind: str, message: str, prop: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f"{job.import_id}-{line}",
        "createdAt": hs_datetime(job.created),
        "objectType": "COMPANY",
        "objectTypeId": "0-2",
        "errorType": kind,
        "errorMessage": message,
        "sourceData": {
            "rowData": row,
            "lineNumber": line,
            "containsEncryptedProperties": False,
            "fileId": 1,
        },
    }
    if prop is not None:
        out["invalidValue"] = next((row[i] for i, p in job.columns if p == prop), "")
    return out


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


def _multipart(request: Request) -> dict[str, bytes]:
    kind = request.header("Content-Type") or ""
    if not kind.startswith("multipart/form-data"):
        raise _bad("Imports are sent as multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + kind.encode() + b"\r\n\r\n" + request.body
    )
    parts: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = payload
    return parts


def _error(status: int, category: str, message: str) -> Response:
    return hs_error(status, category, message)


def _bad(message: str) -> ApiError:
    return ApiError(_error(400, "VALIDATION_ERROR", message))
