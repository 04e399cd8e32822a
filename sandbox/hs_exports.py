"""HubSpot CRM exports (``/crm/v3/exports/export/async``): a VIEW export of one object.

Why it is here: above ``hubspot.export_threshold`` the connector pulls companies through one
export instead of 100-row list pages. What is emulated, with its source:

- ``POST /crm/v3/exports/export/async`` starts an export and answers ``{"id", "links"}``
  (developers.hubspot.com/docs/api-reference/crm-exports-v3/public-exports/
  post-crm-v3-exports-export-async); ``exportType`` VIEW or LIST, ``format`` XLSX/CSV/XLS,
  ``objectProperties``, ``exportInternalValuesOptions`` NAMES/VALUES and
  ``publicCrmSearchRequest.filters`` (flat list; operators of the client's ``Filter`` model:
  EQ ... BETWEEN, IN, HAS_PROPERTY) - developers.hubspot.com/docs/api/crm/exports.
- ``GET /crm/v3/exports/export/async/tasks/{taskId}/status`` answers ``status`` PENDING,
  PROCESSING, COMPLETE or CANCELED and, once COMPLETE, ``result`` = the file URL
  (client model ``ActionResponseWithSingleResultUri``; same guide). The URL "expires after
  5 minutes" and needs no authorization (guide, "Retrieve exports").
- Limits (guide, "Limits", as transcribed in public digests of that page): at most 30 exports
  in a rolling 24 h, processed one at a time (others wait as PENDING); filters at most 3
  filter groups x 3 filters (the request carries one flat list: at most 3 filters here);
  CSV files over 2 MB are zipped. Exports over 1,000,000 rows are split into files of
  1,000,000 rows delivered in one zip (developers.hubspot.com/changelog/
  crm-export-partitioning-and-association-limits).

GUESSES (listed in sandbox/README.md): the 202 status of the start; the 429 body when the 30
a day are spent; the file's header (``Record ID`` then the internal property names, as with
``exportInternalValuesOptions: ["NAMES", "VALUES"]``) and its values (the stored strings, the
same text the list endpoint returns); the 403 body of an expired URL; the download is not
counted against the 10-second window (it is a file URL, not an API path).

Time runs on the sandbox clock: an export completes ``export_seconds`` after it started
processing, or after ``export_poll_steps`` status polls when ``export_seconds`` is 0.
"""

from __future__ import annotations

import csv
import io
import itertools
import secrets
import zipfile
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from tierwise.sandbox.clock import hs_datetime
from tierwise.sandbox.hs_routes_common import hs_error
from tierwise.sandbox.wire import ApiError, Request, Response

if TYPE_CHECKING:
    from tierwise.sandbox.hubspot import HubSpotEmulator

EXPORT_PATH = "/crm/v3/exports/export/async"
FILE_PREFIX = "/sandbox-files/exports/"
OBJECT_TYPES = {"COMPANY": "companies", "COMPANIES": "companies", "0-2": "companies"}
MAX_FILTERS = 3
EXPORTS_PER_DAY = 30
ZIP_OVER_BYTES = 2 * 1024 * 1024
ROWS_PER_FILE = 1_000_000
URL_TTL = timedelta(minutes=5)
RECORD_ID = "Record ID"


@dataclass
class ExportBehaviour:
    """Knobs for tests and benches (documented limits are the defaults)."""

    export_seconds: float = 0.0
    export_poll_steps: int = 1
    exports_per_day: int = EXPORTS_PER_DAY
    zip_over_bytes: int = ZIP_OVER_BYTES
    rows_per_file: int = ROWS_PER_FILE


@dataclass
class ExportTask:
    task_id: str
    object_type: str
    columns: list[str]
    filters: list[dict[str, Any]]
    requested: datetime
    started: datetime | None = None
    polls: int = 0
    status: str = "PENDING"
    completed: datetime | None = None
    file: bytes = b""
    file_name: str = ""
    token: str = ""
    url_expires: datetime | None = None


@dataclass
class HubSpotExports:
    """Export tasks of one portal; registered by ``HubSpotEmulator._routes``."""

    emulator: HubSpotEmulator
    behaviour: ExportBehaviour = field(default_factory=ExportBehaviour)
    tasks: dict[str, ExportTask] = field(default_factory=dict)
    _started: deque[datetime] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(91_000_001))

    def register(self) -> None:
        r = self.emulator.router.add
        r("POST", EXPORT_PATH + "/?", EXPORT_PATH, self._start)
        r(
            "GET",
            EXPORT_PATH + r"/tasks/(?P<task>\d+)/status/?",
            EXPORT_PATH + "/tasks/{taskId}/status",
            self._status,
        )
        # Only for the ledger's path template: ``dispatch`` answers these before auth.
        r("GET", FILE_PREFIX + r"[^/]+/[^/]+", FILE_PREFIX + "{token}/{file}", self.download)

    def serves(self, request: Request) -> bool:
        """The download URL: answered without a token (guide: no authorization needed)."""
        return request.method == "GET" and request.path.startswith(FILE_PREFIX)

    # ---- start ------------------------------------------------------------------------------
    def _start(self, request: Request) -> Response:
        em = self.emulator
        body = em._body(request)
        if body.get("exportType") not in ("VIEW", "LIST"):
            raise _bad("exportType must be VIEW or LIST")
        if str(body.get("format") or "").upper() not in ("CSV", "XLSX", "XLS"):
            raise _bad("format must be one of XLSX, CSV, XLS")
        if str(body.get("format")).upper() != "CSV":
            raise _bad("sandbox: only CSV exports are emulated")
        object_type = OBJECT_TYPES.get(str(body.get("objectType") or "").upper())
        if object_type is None:
            raise _bad(f"sandbox: objectType {body.get('objectType')!r} is not emulated")
        known = em.portal.properties[object_type]
        names = [str(n) for n in body.get("objectProperties") or []]
        missing = [n for n in names if n not in known]
        if missing:
            raise _bad(f"Properties do not exist: {', '.join(missing)}")
        search = body.get("publicCrmSearchRequest") or {}
        filters = list(search.get("filters") or [])
        if len(filters) > MAX_FILTERS:
            raise _bad(f"At most {MAX_FILTERS} filters are allowed in an export")
        for spec in filters:
            em._filter(known, spec)  # validates property and operator now (400 at start)
        now = em.clock.peek()
        while self._started and self._started[0] <= now - timedelta(hours=24):
            self._started.popleft()
        if len(self._started) >= self.behaviour.exports_per_day:
            raise ApiError(
                _error(
                    429,
                    "RATE_LIMITS",
                    f"You have reached the limit of {self.behaviour.exports_per_day} exports "
                    "in a rolling 24 hours.",
                )
            )
        self._started.append(now)
        task_id = str(next(self._ids))
        columns = list(dict.fromkeys(names))
        self.tasks[task_id] = ExportTask(task_id, object_type, columns, filters, now)
        status = f"{em.base_url}{EXPORT_PATH}/tasks/{task_id}/status"
        return Response.json(202, {"id": task_id, "links": {"status": status}})

    # ---- status -----------------------------------------------------------------------------
    def _status(self, request: Request) -> Response:
        em = self.emulator
        task = self.tasks.get(request.params["task"])
        if task is None:
            raise ApiError(_error(404, "OBJECT_NOT_FOUND", "Export task not found"))
        now = em.clock.peek()
        self._advance(now)
        if task.status == "PROCESSING":
            task.polls += 1
            b = self.behaviour
            due = (
                task.started is not None
                and now >= task.started + timedelta(seconds=b.export_seconds)
                if b.export_seconds > 0
                else task.polls > b.export_poll_steps
            )
            if due:
                self._complete(task, now)
                self._advance(now)
        out: dict[str, Any] = {
            "status": task.status,
            "requestedAt": hs_datetime(task.requested),
            "startedAt": hs_datetime(task.started or task.requested),
            "links": {},
        }
        if task.status == "COMPLETE" and task.completed is not None:
            task.token = secrets.token_urlsafe(16)
            task.url_expires = now + URL_TTL
            out["completedAt"] = hs_datetime(task.completed)
            out["result"] = f"{em.base_url}{FILE_PREFIX}{task.token}/{task.file_name}"
        return Response.json(200, out)

    def _advance(self, now: datetime) -> None:
        """One export at a time: the oldest PENDING one starts when none is PROCESSING."""
        if any(t.status == "PROCESSING" for t in self.tasks.values()):
            return
        for task in self.tasks.values():
            if task.status == "PENDING":
                task.status, task.started = "PROCESSING", now
                return

    def _complete(self, task: ExportTask, now: datetime) -> None:
        """The snapshot is taken when processing ends (rows as they are then)."""
        em = self.emulator
        known = em.portal.properties[task.object_type]
        predicates = [em._filter(known, spec) for spec in task.filters]
        header = [RECORD_ID, *task.columns]
        columns = task.columns
        packer = _Packer(task.task_id, header, self.behaviour)
        with em.portal.lock:
            for obj in em.portal.objects[task.object_type].values():
                props = obj["properties"]
                if all(p(props) for p in predicates):
                    packer.add(
                        [obj["id"], *("" if props.get(c) is None else props[c] for c in columns)]
                    )
        task.file_name, task.file = packer.finish()
        task.status, task.completed = "COMPLETE", now

    # ---- download ---------------------------------------------------------------------------
    def download(self, request: Request) -> Response:
        token = request.path.removeprefix(FILE_PREFIX).split("/", 1)[0]
        now = self.emulator.clock.peek()
        for task in self.tasks.values():
            if task.token and secrets.compare_digest(task.token, token):
                if task.url_expires is None or now > task.url_expires:
                    break
                kind = "application/zip" if task.file_name.endswith(".zip") else "text/csv"
                return Response(200, task.file, {"Content-Type": kind})
        return _error(403, "FORBIDDEN", "The export URL has expired or is not valid")


class _Packer:
    """Writes the export as its rows arrive: one CSV, or (over ``zip_over_bytes`` or over
    ``rows_per_file`` rows) a zip of CSVs of ``rows_per_file`` rows each.

    Why streaming: a 1,000,000-company export held as text, then bytes, then a zip took
    several hundred MB at once (issue 15); here only the compressed file and one small
    batch of rows are held, and the file is the same as before.
    """

    BATCH = 2_000

    def __init__(self, task_id: str, header: list[str], behaviour: ExportBehaviour) -> None:
        self.task_id, self.header, self.behaviour = task_id, header, behaviour
        self.plain = io.BytesIO()  # part 1 while it may still be a plain CSV
        self.out = io.BytesIO()
        self.archive: zipfile.ZipFile | None = None
        self.member: IO[bytes] | None = None
        self.part, self.in_part = 1, 0
        self.batch: list[list[Any]] = []
        self._write([header])

    def add(self, row: list[Any]) -> None:
        if self.in_part == self.behaviour.rows_per_file:
            self._flush()
            self._zip()
            assert self.member is not None
            self.member.close()
            self.part, self.in_part = self.part + 1, 0
            self.member = self._open_member()
            self._write([self.header])
        self.batch.append(row)
        self.in_part += 1
        if len(self.batch) >= self.BATCH:
            self._flush()

    def finish(self) -> tuple[str, bytes]:
        self._flush()
        if self.archive is None:
            return f"export-{self.task_id}-1.csv", self.plain.getvalue()
        assert self.member is not None
        self.member.close()
        self.archive.close()
        return f"export-{self.task_id}.zip", self.out.getvalue()

    def _flush(self) -> None:
        if self.batch:
            self._write(self.batch)
            self.batch = []

    def _write(self, rows: list[list[Any]]) -> None:
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(rows)
        data = text.getvalue().encode()
        if self.member is not None:
            self.member.write(data)
            return
        self.plain.write(data)
        if self.plain.tell() > self.behaviour.zip_over_bytes:
            self._zip()

    def _zip(self) -> None:
        """From here on the file is a zip; part 1 so far becomes its first member."""
        if self.archive is not None:
            return
        self.archive = zipfile.ZipFile(self.out, "w", zipfile.ZIP_DEFLATED)
        self.member = self._open_member()
        self.member.write(self.plain.getvalue())
        self.plain = io.BytesIO()

    def _open_member(self) -> IO[bytes]:
        assert self.archive is not None
        return self.archive.open(f"export-{self.task_id}-{self.part}.csv", "w")


def _error(status: int, category: str, message: str) -> Response:
    return hs_error(status, category, message)


def _bad(message: str) -> ApiError:
    return ApiError(_error(400, "VALIDATION_ERROR", message))
