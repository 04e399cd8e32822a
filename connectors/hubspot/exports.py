"""HubSpot CRM exports: one export file instead of 100-row list pages, for large pulls.

Used by ``Companies.pull`` when the caller expects at least ``hubspot.export_threshold``
companies (off by default; sandbox/README.md "Bulk paths" has the figures). One pull is:

1. ``POST /crm/v3/exports/export/async`` - a VIEW export of companies, CSV, internal names
   and values (``exportInternalValuesOptions: ["NAMES", "VALUES"]``), the properties the
   pull needs, and for an incremental pull one filter ``modified GTE since``
   (``publicCrmSearchRequest.filters``); answers a task id.
2. ``GET .../tasks/{taskId}/status`` every ``bulk_poll_seconds`` until COMPLETE (the wait
   goes through ``tierwise.connectors.retry.sleep``, the engine's one sleep, so tests never
   wait); CANCELED or ``bulk_max_wait_seconds`` ends the pull with an error.
3. A plain HTTPS GET of the ``result`` URL (no token: the guide says it needs none and
   expires after 5 minutes), read row by row: a CSV streams straight from the socket; a
   zip (files over 2 MB, or several files over 1,000,000 rows) is spooled to a temporary
   file on disk and each member streamed from there. Memory stays one row deep.

Each row becomes the same ``{"id", "properties"}`` shape a list page has, so
``Companies.parse`` maps it unchanged. Every request is counted under its label below.
Starting an export is not retried blind after a lost answer would be invisible: the request
retry covers only answers the classifier calls transient (429, 5xx, dropped connection) -
one of those may cost one more of the 30 exports a day; the pull is still correct.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any, cast

import structlog
import urllib3

from tierwise.connectors.errors import FatalCrmError, RetriableError
from tierwise.connectors.hubspot.client import HubSpotClient, to_dict
from tierwise.connectors.hubspot.paging import epoch_ms

Row = dict[str, Any]

# Usage labels: the bench's "calls against the best path" reads these.
EXPORT_START = "POST /crm/v3/exports/export/async"
EXPORT_STATUS = "GET /crm/v3/exports/export/async/tasks/{taskId}/status"
EXPORT_DOWNLOAD = "GET {export file URL}"
RECORD_ID = "Record ID"
CHUNK = 1 << 16

log = structlog.get_logger(__name__)


def export_rows(
    client: HubSpotClient,
    properties: list[str],
    *,
    since: datetime | None,
    modified: str,
    poll_seconds: float,
    max_wait_seconds: float,
) -> Iterator[Row]:
    """Every company (modified at or after ``since`` when given) as a list-shaped row."""
    api = client.api("exports")
    body: dict[str, Any] = {
        "exportType": "VIEW",
        "exportName": "tierwise companies",
        "format": "CSV",
        "language": "EN",
        "objectType": "COMPANY",
        "objectProperties": properties,
        "exportInternalValuesOptions": ["NAMES", "VALUES"],
    }
    if since is not None:
        body["publicCrmSearchRequest"] = {
            "filters": [{"propertyName": modified, "operator": "GTE", "value": epoch_ms(since)}]
        }
    started = to_dict(
        client.call(
            EXPORT_START,
            lambda t: api.start(body, _request_timeout=t, _preload_content=False),
            operation="start company export",
            object_name="companies",
        )
    )
    task_id = str(started.get("id") or "")
    if not task_id:
        raise FatalCrmError("HubSpot started an export without a task id", system="hubspot")
    url = _wait(client, api, task_id, poll_seconds, max_wait_seconds)
    count = 0
    for row in _download(client, url):
        count += 1
        yield row
    log.info("hubspot_export_read", task=task_id, rows=count, incremental=since is not None)


def _wait(
    client: HubSpotClient,
    api: Any,
    task_id: str,
    poll_seconds: float,
    max_wait_seconds: float,
) -> str:
    """Poll the task (the retry engine's ``poll``, every ``bulk_poll_seconds``) until its
    file URL is there, it is canceled, or ``bulk_max_wait_seconds`` have passed."""
    status = client.policy.poll(
        lambda: to_dict(
            client.call(
                EXPORT_STATUS,
                lambda t: api.get_status(task_id, _request_timeout=t, _preload_content=False),
                operation="read export status",
                object_name="companies",
            )
        ),
        lambda status: _finished(status) or status.get("status") == "CANCELED",
        first_wait=poll_seconds,
        max_wait=poll_seconds,
        budget=max_wait_seconds,
    )
    state = str(status.get("status") or "")
    if _finished(status):
        return str(status["result"])
    if state == "CANCELED":
        raise FatalCrmError(
            f"HubSpot canceled export {task_id}: {status.get('errors') or 'no reason given'}",
            system="hubspot",
            object_name="companies",
        )
    raise RetriableError(
        f"HubSpot export {task_id} was still {state or 'unknown'} after "
        f"{max_wait_seconds:.0f} s (TIERWISE_HUBSPOT__BULK_MAX_WAIT_SECONDS)",
        system="hubspot",
        object_name="companies",
    )


def _finished(status: dict[str, Any]) -> bool:
    return status.get("status") == "COMPLETE" and bool(status.get("result"))


def _download(client: HubSpotClient, url: str) -> Iterator[Row]:
    """The export file, row by row; the GET is one counted request (no token sent)."""
    pool = urllib3.PoolManager(retries=False)
    response = client.attempt(
        EXPORT_DOWNLOAD,
        lambda t: pool.request(
            "GET", url, preload_content=False, timeout=urllib3.Timeout(connect=t[0], read=t[1])
        ),
        operation="download company export",
        object_name="companies",
    )
    # urllib3's HTTPResponse is an io.IOBase; its stub's base class does not say so.
    stream = cast(urllib3.HTTPResponse, response)
    stream.auto_close = False  # io.TextIOWrapper needs the stream open until it is done
    try:
        if response.status != 200:
            raise (RetriableError if response.status >= 500 else FatalCrmError)(
                f"HubSpot export download answered {response.status}",
                system="hubspot",
                object_name="companies",
                status=response.status,
            )
        kind = str(response.headers.get("Content-Type") or "")
        if "zip" in kind or url.split("?", 1)[0].endswith(".zip"):
            yield from _zip_rows(cast(IO[bytes], stream))
        else:
            yield from _csv_rows(
                io.TextIOWrapper(cast(IO[bytes], stream), encoding="utf-8-sig", newline="")
            )
    finally:
        response.release_conn()
        pool.clear()


def _zip_rows(response: IO[bytes]) -> Iterator[Row]:
    """A zip needs its directory at the end: spool to disk, then stream each CSV member."""
    with tempfile.TemporaryFile(prefix="tierwise-export-") as spool:
        shutil.copyfileobj(response, spool, CHUNK)
        spool.seek(0)
        with zipfile.ZipFile(spool) as archive:
            for name in sorted(archive.namelist()):
                if not name.lower().endswith(".csv"):
                    continue
                with archive.open(name) as member:
                    yield from _csv_rows(io.TextIOWrapper(member, encoding="utf-8-sig", newline=""))


def _csv_rows(text: IO[str]) -> Iterator[Row]:
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        return
    if RECORD_ID not in header:
        raise FatalCrmError(
            f"HubSpot export file has no {RECORD_ID!r} column (header: {header[:5]})",
            system="hubspot",
            object_name="companies",
        )
    id_at = header.index(RECORD_ID)
    names = [(i, name) for i, name in enumerate(header) if i != id_at]
    for cells in reader:
        if not cells:
            continue
        props = {
            name: (cells[i] if i < len(cells) and cells[i] != "" else None) for i, name in names
        }
        yield {"id": cells[id_at], "properties": props}
