"""Keyset paging over HubSpot search, for incremental pulls.

HubSpot's search ``after`` is an offset (CRM-API-NOTES §2.4): when a row already read is
modified mid-pull it moves to the end of the ``hs_lastmodifieddate`` order, every row
behind it slides one place forward, and the row at the page edge is never returned
(HubSpot's own rollups bump the stamp without any user edit). A keyset cannot skip: each
page asks again for ``modified GTE the last stamp seen``, sorted on it, and rows already
yielded on that boundary stamp are skipped by id.

The trap of a timestamp-only keyset (airbyte#43317): bulk updates give thousands of rows
one stamp, and a page that holds nothing but that stamp cannot move the boundary. Such a
stamp is drained by a second keyset on ``hs_object_id`` (``modified EQ stamp AND
hs_object_id GT last id``, sorted by id; airbyte#44899), and the pull goes on strictly
after it. No query uses ``after``, so none meets the 10,000-result search cap.

Search allows one sort, so each keyset sorts on its own key only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.parsing import UnparseableError, parse_datetime

Row = dict[str, Any]
# (filters of one filter group, property to sort ascending on) -> one page of rows
SearchPage = Callable[[list[dict[str, Any]], str], list[Row]]
OBJECT_ID = "hs_object_id"


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


def keyset_rows(search: SearchPage, since: datetime, modified: str, page_size: int
                ) -> Iterator[Row]:
    """Every row with ``modified >= since`` at the moment each page is read, each once
    per stamp it is seen with (a row edited mid-pull may come again, newer: callers
    de-duplicate by id)."""
    lower, operator = epoch_ms(since), "GTE"
    boundary: set[str] = set()  # ids already yielded whose stamp == lower
    while True:
        rows = search([{"propertyName": modified, "operator": operator, "value": lower}],
                      modified)
        if not rows:
            return
        stamps = [stamp_ms(row, modified) for row in rows]
        for row, stamp in zip(rows, stamps, strict=True):
            if not (stamp == lower and str(row.get("id")) in boundary):
                yield row
        last = stamps[-1]
        if len(rows) < page_size:
            return
        if stamps[0] == last:
            seen = {str(r.get("id")) for r in rows} | (boundary if last == lower else set())
            yield from _drain(search, modified, last, seen, page_size)
            lower, operator, boundary = last, "GT", set()
            continue
        if last != lower:
            boundary = set()
        lower, operator = last, "GTE"
        boundary |= {str(r.get("id")) for r, s in zip(rows, stamps, strict=True) if s == last}


def _drain(search: SearchPage, modified: str, stamp: str, seen: set[str], page_size: int
           ) -> Iterator[Row]:
    """Every row whose stamp is exactly ``stamp``, keyset-paged on the record id."""
    last_id = "0"
    while True:
        rows = search([{"propertyName": modified, "operator": "EQ", "value": stamp},
                       {"propertyName": OBJECT_ID, "operator": "GT", "value": last_id}],
                      OBJECT_ID)
        yield from (row for row in rows if str(row.get("id")) not in seen)
        if len(rows) < page_size:
            return
        last_id = str(rows[-1].get("id"))
