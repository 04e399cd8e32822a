"""HubSpot paging: list pages, keyset search pages and association pages.

Every stream goes through the one loop of ``tierwise.connectors.paging.paginate``; this module
only holds HubSpot's paging rules as paginator objects and the page fetchers (one
``client.call`` each, so a page is retried alone, never the stream from the start).

- **List pages** (``GET /crm/v3/objects/{type}``): ``paging.next.after`` cursor,
  100 a page (:func:`list_rows`, dlt's ``JSONResponseCursorPaginator``).
- **Keyset search** (incremental pulls, :class:`KeysetPaginator`). HubSpot's search
  ``after`` is an offset (CRM-API-NOTES §2.4): when a row already read is modified
  mid-pull it moves to the end of the ``hs_lastmodifieddate`` order, every row behind it
  slides one place forward, and the row at the page edge is never returned (HubSpot's
  own rollups bump the stamp without any user edit). A keyset cannot skip: each page asks
  again for ``modified GTE the last stamp seen``, sorted on it, and rows already yielded
  on that boundary stamp are skipped by id. The trap of a timestamp-only keyset
  (airbyte#43317): bulk updates give thousands of rows one stamp, and a page holding
  nothing but that stamp cannot move the boundary. Such a stamp is drained by a second
  keyset on ``hs_object_id`` (``modified EQ stamp AND hs_object_id GT last id``, sorted by
  id; airbyte#44899), and the pull goes on strictly after it. No query uses ``after``, so
  none meets the 10,000-result search cap. Search allows one sort, so each keyset sorts
  on its own key only.
- **Association pages** (:func:`associations`): 100 ids a call on the date-based path;
  a record with more than one page of associations is reported as not complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from tierwise.connectors.batching import chunked
from tierwise.connectors.hubspot import paths
from tierwise.connectors.hubspot.client import HubSpotClient, to_dict
from tierwise.connectors.paging import JSONCursorPaginator, Paginator, paginate
from tierwise.connectors.parsing import UnparseableError, parse_datetime

Row = dict[str, Any]
Filters = list[dict[str, Any]]
# (filters of one filter group, property to sort ascending on): one search request
Query = tuple[Filters, str]
# one search request -> one page of rows
SearchPage = Callable[[Filters, str], list[Row]]
OBJECT_ID = "hs_object_id"
PAGE_LIMIT = 100
SEARCH_LIMIT = 200
BATCH_MAX = 100

log = structlog.get_logger(__name__)


def epoch_ms(moment: datetime) -> str:
    """A datetime as the epoch-milliseconds string search filters take (naive = UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return str(int(aware.timestamp() * 1000))


def stamp_ms(row: Mapping[str, Any], modified: str) -> str:
    """A row's modified stamp as epoch ms; "0" when it has none or it cannot be read."""
    raw = (row.get("properties") or {}).get(modified)
    try:
        return epoch_ms(parse_datetime(raw)) if raw else "0"
    except UnparseableError:
        return "0"


def _ids(rows: Sequence[Row]) -> set[str]:
    return {str(row.get("id")) for row in rows}


class KeysetPaginator(Paginator[list[Row], Query]):
    """Keyset paging on the modified stamp, draining a full page of one stamp by id.

    The cursor is the next search request; ``records`` are a page's rows minus those
    already yielded on the boundary. A row edited mid-pull may come again, newer:
    callers de-duplicate by id.
    """

    def __init__(self, since: datetime, modified: str, page_size: int = SEARCH_LIMIT) -> None:
        super().__init__()
        self.page_size = page_size
        self.modified = modified
        self._lower, self._operator = epoch_ms(since), "GTE"
        self._boundary: set[str] = set()  # ids already yielded whose stamp == lower
        self._drain: tuple[str, set[str]] | None = None  # (stamp, ids seen) while draining
        self._last_id = "0"
        self._records: list[Row] = []
        self.cursor = self._query()

    def _query(self) -> Query:
        if self._drain is None:
            return [
                {"propertyName": self.modified, "operator": self._operator, "value": self._lower}
            ], self.modified
        stamp = self._drain[0]
        return [
            {"propertyName": self.modified, "operator": "EQ", "value": stamp},
            {"propertyName": OBJECT_ID, "operator": "GT", "value": self._last_id},
        ], OBJECT_ID

    def records(self, page: list[Row]) -> Sequence[Any]:
        return self._records

    def update_state(self, page: list[Row]) -> None:
        size = self.page_size or SEARCH_LIMIT
        if self._drain is not None:
            stamp, seen = self._drain
            self._records = [row for row in page if str(row.get("id")) not in seen]
            if len(page) < size:
                # The stamp is drained: go on strictly after it.
                self._drain = None
                self._lower, self._operator, self._boundary = stamp, "GT", set()
            else:
                self._last_id = str(page[-1].get("id"))
            self.cursor = self._query()
            return
        stamps = [stamp_ms(row, self.modified) for row in page]
        self._records = [
            row
            for row, stamp in zip(page, stamps, strict=True)
            if not (stamp == self._lower and str(row.get("id")) in self._boundary)
        ]
        if len(page) < size:
            self.has_next_page, self.cursor = False, None
            return
        last = stamps[-1]
        if stamps[0] == last:
            seen = _ids(page) | (self._boundary if last == self._lower else set())
            self._drain, self._last_id = (last, seen), "0"
        else:
            if last != self._lower:
                self._boundary = set()
            self._lower, self._operator = last, "GTE"
            self._boundary |= {
                str(row.get("id")) for row, s in zip(page, stamps, strict=True) if s == last
            }
        self.cursor = self._query()


def keyset_rows(
    search: SearchPage, since: datetime, modified: str, page_size: int
) -> Iterator[Row]:
    """Every row with ``modified >= since`` at the moment each page is read."""
    paginator = KeysetPaginator(since, modified, page_size)

    def fetch(query: Query | None) -> list[Row]:
        assert query is not None  # the keyset paginator always names its next request
        return search(*query)

    yield from paginate(fetch, paginator, label=f"keyset {modified}")


def list_rows(
    client: HubSpotClient, api_name: str, label: str, object_name: str, **params: Any
) -> Iterator[Row]:
    """Every row of a ``get_page`` listing, ``PAGE_LIMIT`` a page (``paging.next.after``).
    ``params`` go to ``get_page`` as they are (properties, associations, raw answers)."""
    api = client.api(api_name)
    paginator = JSONCursorPaginator(page_size=PAGE_LIMIT)

    def fetch(cursor: str | None) -> Mapping[str, Any]:
        return to_dict(
            client.call(
                label,
                lambda t: api.get_page(
                    limit=paginator.page_size,
                    after=cursor,
                    archived=False,
                    _request_timeout=t,
                    **params,
                ),
                operation=f"list {object_name}",
                object_name=object_name,
            )
        )

    yield from paginate(fetch, paginator, label=object_name)


def _search(
    client: HubSpotClient, object_type: str, body: dict[str, Any], operation: str
) -> dict[str, Any]:
    """ONE search request through the client (the search limiter and the retry engine)."""
    api = client.api(f"{object_type}.search")
    return to_dict(
        client.call(
            paths.label(paths.OBJECTS_SEARCH, object=object_type),
            lambda t: api.do_search(
                public_object_search_request=body,
                _request_timeout=t,
                _preload_content=False,
            ),
            operation=operation,
            object_name=object_type,
            search=True,
        )
    )


def search_page(
    client: HubSpotClient,
    object_type: str,
    filters: Filters,
    sort: str,
    props: list[str],
    on_total: Callable[[int], None] | None = None,
) -> list[Row]:
    """ONE search request (ascending on ``sort``), ``SEARCH_LIMIT`` rows at most;
    ``on_total`` sees the response's ``total`` (every record the filters match)."""
    body: dict[str, Any] = {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
        "properties": props,
        "limit": SEARCH_LIMIT,
    }
    page = _search(client, object_type, body, f"search {object_type}")
    total = page.get("total")
    if on_total is not None and isinstance(total, int):
        on_total(total)
    results: list[Row] = page.get("results") or []
    log.debug("hubspot_search_page", object=object_type, records=len(results))
    return results


def search_total(client: HubSpotClient, object_type: str, filters: Filters) -> int | None:
    """How many records match ``filters``: one search request of one row, read for its
    ``total`` (the search response carries it; the list endpoint does not). Only to pick a
    read path when nothing else estimates the size."""
    body: dict[str, Any] = {"filterGroups": [{"filters": filters}] if filters else [], "limit": 1}
    total = _search(client, object_type, body, f"count {object_type}").get("total")
    return int(total) if isinstance(total, int) else None


def search_rows(
    client: HubSpotClient,
    object_type: str,
    since: datetime,
    props: Sequence[str],
    modified: str,
    first_total: Callable[[int], None] | None = None,
) -> Iterator[Row]:
    """Rows of ``object_type`` modified at or after ``since``, keyset-paged.
    ``first_total`` sees the first page's ``total``: how many rows the whole pull holds
    (later pages' totals count only what is left), before any row is handed on."""
    wanted = list(props)
    if modified not in wanted:
        wanted.append(modified)
    pending = [first_total] if first_total is not None else []

    def page(filters: Filters, sort: str) -> list[Row]:
        return search_page(
            client, object_type, filters, sort, wanted, pending.pop() if pending else None
        )

    yield from keyset_rows(page, since, modified, SEARCH_LIMIT)


@dataclass
class Associations:
    """from id -> associated ids; ``paged`` the records with more than one page of them
    (callers that need completeness, the task lookup, treat those as "not sure")."""

    linked: dict[str, list[str]] = field(default_factory=dict)
    paged: set[str] = field(default_factory=set)

    def first(self) -> dict[str, str]:
        """from id -> its (first) associated id."""
        return {oid: targets[0] for oid, targets in self.linked.items() if targets}


def associations(
    client: HubSpotClient, from_type: str, to_type: str, ids: Sequence[str]
) -> Associations:
    """Associated ids, 100 ids a call, on the date-based associations path
    (``paths.ASSOCIATIONS_BATCH_READ``) through the client's own ApiClient: v4 ends
    on 2027-03-30 and the client has no date-based associations API yet."""
    api_client = client.api("associations.batch").api_client
    path = paths.associations_batch_read(from_type, to_type)
    label = paths.label(paths.ASSOCIATIONS_BATCH_READ, **{"from": from_type, "to": to_type})
    found = Associations()
    for chunk in chunked(ids, BATCH_MAX):
        body = {"inputs": [{"id": i} for i in dict.fromkeys(chunk)]}
        result = to_dict(
            client.call(
                label,
                lambda t, b=body: api_client.call_api(  # type: ignore[misc]  # lambda default binds the chunk
                    path,
                    "POST",
                    header_params={
                        "Content-Type": "application/json",
                        "Accept": "application/json",
                    },
                    body=b,
                    auth_settings=["oauth2"],
                    response_types_map={},
                    _return_http_data_only=True,
                    _preload_content=False,
                    _request_timeout=t,
                ),
                operation=f"read {from_type[:-1]} associations",
                object_name=from_type,
            )
        )
        for row in result.get("results") or []:
            source = str((row.get("from") or {}).get("id"))
            found.linked.setdefault(source, []).extend(
                str(target.get("toObjectId")) for target in row.get("to") or []
            )
            if (row.get("paging") or {}).get("next"):
                found.paged.add(source)
    return found
