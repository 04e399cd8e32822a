"""The fewest API calls a run's work allows, on the best path the APIs offer (issue 15).

The run report and the benchmarks set the calls a run made against these figures. Every
call priced here is one the API's documented shape requires for that work; a call the
connector makes beyond them (a size probe, an extra poll) shows as a ratio above 1.00, it is
never priced in to hide it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tierwise.tiering.records import FieldRow, row_layout, row_values

# Largest page / batch each API allows (reads, writes, task creates).
PAGE_SIZE = {"salesforce": 2000, "hubspot": 100}
BATCH_SIZE = {"salesforce": 200, "hubspot": 100}

# The bulk paths' calls (issue 15), each justified by the documented shape of its API.
#
# Status reads: an async job needs at least one ("poll until done": nothing else says it
# is done); more are the server's processing time, which the client does not choose. The
# run report prices that floor (``STATUS_READS``); a benchmark against the sandbox passes
# the emulated server's count (``bulk_poll_steps`` / ``export_poll_steps`` /
# ``import_poll_steps`` + 1 = 2 by default: the first read of every job answers InProgress,
# sandbox/README.md lists that as a guess).
#
# Salesforce Bulk API 2.0 query ("Bulk API 2.0 and Bulk API Developer Guide": Create a Query
# Job, Get Information About a Query Job, Get Results for a Query Job): per job one create,
# the status reads, then result pages of up to ``maxRecords`` rows followed by
# ``Sforce-Locator`` (50,000: simple-salesforce's default page; one page even when empty).
# Bulk 2.0 refuses parent-to-child subqueries and aggregates ("Understanding Bulk API 2.0
# Query", .../api_asynch/queries.htm), so every related object the run reads (open
# Opportunities for deal inputs; Tasks and Events for the activity count) is a job of its
# own; the REST path reads open Opportunities in the account query's subquery at no call.
# Bulk API 2.0 ingest (Create a Job, Upload Job Data, Close or Abort a Job, Get Job Info):
# create, upload (one PUT up to 100 MB of CSV), close (UploadComplete), the status reads;
# failed-record results only when Get Job Info reports ``numberRecordsFailed`` > 0. One
# job per 100 MB of CSV: "Upload Job Data" caps a job's data in total, so a larger write
# set is several jobs (``upload_files``: how many the rows' CSV needs).
# HubSpot CRM exports (developers.hubspot.com/docs/api/crm/exports): start, the status
# reads, one download per file (one file up to 1,000,000 rows). HubSpot imports
# (developers.hubspot.com/docs/api/crm/imports): the multipart create (file and mapping in
# one request), the status reads, and the errors page that names failed rows (the status'
# ``metadata.counters`` keys are undocumented, so "no errors" cannot be read from it). One
# import per distinct property set: whether an empty cell leaves a property unchanged is
# not documented (sandbox/README.md), and a second file in one import is documented only
# for another object joined by a common column, so rows that change different properties
# cannot share a file.
STATUS_READS = 1
SF_BULK_QUERY_PAGE = 50_000
SF_BULK_QUERY_FIXED = 1  # create; + status reads + result pages, per job
SF_BULK_INGEST_FIXED = 3  # create, upload, close; + status reads
HS_SEARCH_PAGE = 200
HS_EXPORT_FILE_ROWS = 1_000_000
HS_EXPORT_FIXED = 1  # start; + status reads + one download per file
HS_IMPORT_FIXED = 2  # create, errors page; + status reads, per file
HS_IMPORT_FILE_ROWS = 1_000_000


@dataclass(frozen=True)
class PathMinimum:
    """The cheapest path the API offers for one kind of work, and its call count."""

    path: str
    calls: int


def _pages(rows: int, size: int) -> int:
    return max(1, math.ceil(rows / size))


def read_minimum(
    system: str,
    rows: int,
    *,
    full: bool = True,
    bulk: bool = True,
    related: Sequence[int] = (),
    status_reads: int = STATUS_READS,
) -> PathMinimum:
    """Fewest calls to read ``rows`` records: the cheaper of the paged REST path and the
    bulk path (a pull always costs one call, even when it returns nothing). ``bulk=False``
    prices the paged REST path alone (what the API allows without async jobs).

    ``related`` (Salesforce): the rows of each related object the run reads with the
    accounts (one Bulk 2.0 job each; open Opportunities come free in the REST path's
    subquery, while its activity count adds two grouped queries per 200 accounts that
    this REST price leaves out, so it is a floor there). HubSpot exports
    count for incremental pulls too: the 30 exports a rolling 24 h allows (developers.
    hubspot.com/docs/api/crm/exports, "Limits") cover an hourly schedule plus a nightly
    full pull (25), so the path is open to such a run; a connector that keeps small
    change sets on search (``hubspot.export_threshold``) trades calls for latency and
    quota headroom, and its ratio shows that price. (A schedule running more than 29
    times a day could not export every run: exclude the export for it then.)"""
    if system == "salesforce":
        rest = PathMinimum("rest query", _pages(rows, PAGE_SIZE[system]))
        job = PathMinimum(
            "bulk2 query",
            sum(
                SF_BULK_QUERY_FIXED + status_reads + _pages(n, SF_BULK_QUERY_PAGE)
                for n in (rows, *related)
            ),
        )
    else:
        page = PAGE_SIZE.get(system, 100) if full else HS_SEARCH_PAGE
        rest = PathMinimum("list" if full else "search", _pages(rows, page))
        job = PathMinimum(
            "export", HS_EXPORT_FIXED + status_reads + _pages(rows, HS_EXPORT_FILE_ROWS)
        )
    return rest if not bulk or rest.calls <= job.calls else job


def write_minimum(
    system: str,
    rows: int,
    *,
    bulk: bool = True,
    property_sets: int = 1,
    upload_files: int = 1,
    status_reads: int = STATUS_READS,
) -> PathMinimum:
    """Fewest calls to update ``rows`` records by id: batches, or bulk jobs/imports
    (``bulk=False``: batches alone). ``property_sets`` (HubSpot): distinct sets of
    properties the rows change, one import each (see the constants above); a Bulk 2.0
    ingest CSV takes any mix, since an empty field there leaves a value unchanged ("Prepare
    CSV Files": ``#N/A`` sets null). ``upload_files`` (Salesforce): the 100 MB files the
    rows' CSV fills, one ingest job each."""
    batch = PathMinimum(
        "collections" if system == "salesforce" else "batch",
        math.ceil(rows / BATCH_SIZE.get(system, 100)),
    )
    if not rows or not bulk:
        return batch
    if system == "salesforce":
        jobs = max(1, upload_files)
        job = PathMinimum("bulk2 ingest", jobs * (SF_BULK_INGEST_FIXED + status_reads))
    else:
        files = max(max(1, property_sets), math.ceil(rows / HS_IMPORT_FILE_ROWS))
        job = PathMinimum("import", files * (HS_IMPORT_FIXED + status_reads))
    return batch if batch.calls <= job.calls else job


def property_sets(changes: Iterable[Mapping[str, object]]) -> int:
    """Distinct sets of fields among change-only updates that clear nothing (a clear goes
    by batch: an import's empty cell is not a documented clear). A plan's updates are
    ``FieldRow``s: their names are read once per layout (every run prices its plan)."""
    sets: set[frozenset[str]] = set()
    names: dict[int, frozenset[str]] = {}
    for values in changes:
        if not values:
            continue
        if isinstance(values, FieldRow):
            if None in row_values(values):
                continue
            layout = row_layout(values)
            found = names.get(id(layout))
            if found is None:
                found = names[id(layout)] = frozenset(layout.names)
            sets.add(found)
        elif None not in values.values():
            sets.add(frozenset(values))
    return len(sets)


def task_minimum(system: str, tasks: int) -> PathMinimum:
    """Fewest calls to create or upsert ``tasks`` tasks: Salesforce Collections upsert by
    external id, or HubSpot's batch create (its imports are not used for tasks)."""
    return PathMinimum("tasks", math.ceil(tasks / BATCH_SIZE.get(system, 100)))


def minimum_calls(
    system: str,
    pulled: int,
    writes: int,
    tasks: int,
    *,
    full: bool = True,
    related: Sequence[int] = (),
    property_sets: int = 1,
    upload_files: int = 1,
    status_reads: int = STATUS_READS,
) -> int:
    """Fewest calls the API allows for this work, on the best path for each volume:
    reads (paged REST or a bulk query/export), writes (batches or one bulk job/import)
    and tasks (batches)."""
    return (
        read_minimum(system, pulled, full=full, related=related, status_reads=status_reads).calls
        + write_minimum(
            system,
            writes,
            property_sets=property_sets,
            upload_files=upload_files,
            status_reads=status_reads,
        ).calls
        + task_minimum(system, tasks).calls
    )
