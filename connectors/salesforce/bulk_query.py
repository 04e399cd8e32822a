"""Bulk API 2.0 query jobs: one create, status polls, then CSV result pages by locator.

Large pulls read through query jobs because a results page holds up to ``maxRecords``
rows (50,000 here, simple-salesforce's default) where REST ``queryMore`` stops at 2,000
(Bulk API 2.0 Developer Guide, "Get Results for a Query Job",
developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_job_results.htm).
The statement may not hold GROUP BY, aggregates, OFFSET or parent-to-child subqueries, and
ORDER BY disables PK chunking ("Understanding Bulk API 2.0 Query", .../queries.htm;
"Troubleshooting Query Timeouts"), so callers send plain filtered selects and join by id.

simple-salesforce's ``sf.bulk2.<Object>.query`` waits in-process between polls (real
sleeps) and hides each request from the retry engine. Here every request is one
attempt of ``SalesforceClient.call`` on the library's own request builder
(``SFBulk2Type._client``: ``create_job``, ``get_job``, ``get_query_results``,
``abort_job``), so each is counted under its label, classified by ``salesforce.errors`` and
retried alone; the waits between polls belong to the retry engine (``RetryPolicy.poll``,
whose sleep tests replace). Pages are parsed one at a time: memory holds one page, never
the whole result.

Usage labels (what a benchmark reads): ``bulk2 query`` (job creates), ``bulk2 query
status`` (polls), ``bulk2 query results`` (result pages), ``bulk2 query abort``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from typing import Any

import structlog

from tierwise.connectors.errors import FatalCrmError
from tierwise.connectors.salesforce.bulk_jobs import WAIT_BUDGET, wait_for_job
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient

# Rows per results page (``maxRecords``); the docs give no maximum, only "subject to the
# size limits"; 50,000 is simple-salesforce's DEFAULT_QUERY_PAGE_SIZE.
PAGE_ROWS = 50_000
CREATE = "bulk2 query"
STATUS = "bulk2 query status"
RESULTS = "bulk2 query results"
ABORT = "bulk2 query abort"
# Waits between status reads: ``bulk_jobs``; a query job still running after its 30 min
# is aborted (that long is stuck; the docs put no bound on processing time).

log = structlog.get_logger(__name__)


def minimum_calls(rows: int, *, page_rows: int = PAGE_ROWS, status_reads: int = 1) -> int:
    """Fewest requests one query job of ``rows`` rows can take: a create, the status reads
    until it reports ``JobComplete`` (at least one; how many is the server's processing
    time, not the client's choice: the sandbox's ``bulk_poll_steps`` + 1), and
    ``ceil(rows / page_rows)`` result pages (one even when the result is empty)."""
    return 1 + max(1, status_reads) + max(1, math.ceil(rows / page_rows))


def typed(row: Mapping[str, str | None], types: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row as the REST API's JSON would give it, by the fields' describe types:
    Bulk 2.0 CSV writes null as an empty field (Salesforce stores no empty strings) and
    booleans as ``true``/``false``; numbers come as text."""
    out: dict[str, Any] = {}
    for name, raw in row.items():
        if raw is None or raw == "":
            out[name] = None
            continue
        kind = types.get(name)
        if kind == "boolean":
            out[name] = raw.lower() == "true"
        elif kind == "int":
            out[name] = int(float(raw))
        elif kind in ("double", "currency", "percent"):
            out[name] = float(raw)
        else:
            out[name] = raw
    return out


class BulkQuery:
    """Query jobs of one org, each request counted under a ``bulk2 query`` label."""

    def __init__(self, client: SalesforceClient, *, page_rows: int | None = None) -> None:
        self.client = client
        # Read at construction, not at import, so a test can shrink the pages.
        self.page_rows = page_rows or PAGE_ROWS

    def _api(self, sf: Any, object_name: str) -> Any:
        # The library's per-request builder; its public ``query`` would wait for real.
        return getattr(sf.bulk2, object_name)._client

    def submit(self, soql: str, *, object_name: str) -> str:
        """Create the job (it starts at once) and return its id."""
        job: dict[str, Any] = self.client.call(
            CREATE,
            lambda sf: self._api(sf, object_name).create_job("query", soql),
            operation="bulk query",
            object_name=object_name,
            read=True,
        )
        log.debug("salesforce_bulk_query_created", job=job["id"], object=object_name)
        return str(job["id"])

    def wait(self, job_id: str, *, object_name: str) -> None:
        """Poll until ``JobComplete``; ``Failed``/``Aborted`` raise from the error tree, and
        a job still running after the wait budget is aborted."""

        job = wait_for_job(
            self.client,
            lambda sf: self._api(sf, object_name).get_job(job_id, True),
            label=STATUS,
            operation="bulk query",
            object_name=object_name,
        )
        state = job.get("state")
        if state == "JobComplete":
            return
        self.abort(job_id, object_name=object_name)
        raise FatalCrmError(
            f"Salesforce bulk query job {job_id} on {object_name} was still {state} after "
            f"{WAIT_BUDGET:.0f} s of polling; it was aborted, nothing is changed",
            system=SYSTEM,
            object_name=object_name,
        )

    def abort(self, job_id: str, *, object_name: str) -> None:
        self.client.call(
            ABORT,
            lambda sf: self._api(sf, object_name).abort_job(job_id, True),
            operation="bulk query abort",
            object_name=object_name,
        )

    def rows(self, job_id: str, *, object_name: str) -> Iterator[dict[str, str | None]]:
        """Every row of a completed job, one results page in memory at a time; the locator
        of a page is stable, so a retried page is the same page."""
        locator = ""
        while True:

            def fetch(sf: Any, at: str = locator) -> dict[str, Any]:
                page: dict[str, Any] = self._api(sf, object_name).get_query_results(
                    job_id, at, self.page_rows
                )
                return page

            page = self.client.call(
                RESULTS,
                fetch,
                operation="bulk query results",
                object_name=object_name,
                read=True,
            )
            reader = csv.reader(io.StringIO(page["records"]))
            del page["records"]
            header = next(reader, None)
            if header is not None:
                for values in reader:
                    yield {
                        name: (v if v != "" else None)
                        for name, v in zip(header, values, strict=False)
                    }
            locator = str(page.get("locator") or "")
            if not locator:
                return

    def query(self, soql: str, *, object_name: str) -> Iterator[dict[str, str | None]]:
        """Submit, wait, and stream: one job from start to finish."""
        job_id = self.submit(soql, object_name=object_name)
        self.wait(job_id, object_name=object_name)
        yield from self.rows(job_id, object_name=object_name)
