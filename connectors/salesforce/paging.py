"""SOQL paging: one loop (``tierwise.connectors.paging.paginate``) over ``nextRecordsUrl``.

Pages are fetched one by one (``query`` then ``query_more`` with the same
``Sforce-Query-Options: batchSize=2000`` header, as ``query_all_iter`` does) so that a
transient failure retries that page only, never the stream from the start. A
parent-to-child subquery result pages the same way (SOQL guide "Understanding Query
Results"), starting from the child result already in hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from tierwise.connectors.batching import chunked
from tierwise.connectors.paging import NextUrlPaginator, paginate
from tierwise.connectors.salesforce.client import SalesforceClient

# Rows per query page (the API's largest batchSize).
QUERY_BATCH_SIZE = 2000
# Ids per ``IN (...)`` clause: keeps a SOQL statement well under its length limit.
IN_CLAUSE_CHUNK = 200


def first_page(
    client: SalesforceClient, soql: str, *, object_name: str, label: str = "query"
) -> dict[str, Any]:
    """The first page of ``soql`` alone (its ``totalSize`` tells how large the result is);
    hand it to :func:`query` as ``first`` to read on without asking for it again."""
    headers = NextUrlPaginator(page_size=QUERY_BATCH_SIZE).headers
    page: dict[str, Any] = client.call(
        label,
        lambda sf: sf.query(soql, headers=headers),
        operation="query",
        object_name=object_name,
        read=True,
    )
    return page


def query(
    client: SalesforceClient,
    soql: str,
    *,
    object_name: str,
    label: str = "query",
    first: Mapping[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every row of ``soql``, one API call per page (none for ``first``, if given)."""
    paginator = NextUrlPaginator(page_size=QUERY_BATCH_SIZE)
    headers = paginator.headers

    def fetch(cursor: str | None) -> Mapping[str, Any]:
        if cursor is None and first is not None:
            return first
        page: dict[str, Any] = client.call(
            label,
            (
                (lambda sf: sf.query(soql, headers=headers))
                if cursor is None
                else (lambda sf: sf.query_more(cursor, identifier_is_url=True, headers=headers))
            ),
            operation="query",
            object_name=object_name,
            read=True,
        )
        return page

    return paginate(fetch, paginator, label=f"salesforce {object_name}")


def query_in_chunks(
    client: SalesforceClient,
    ids: Sequence[str],
    soql_for: Callable[[list[str]], str],
    *,
    object_name: str,
) -> Iterator[dict[str, Any]]:
    """Rows of ``soql_for(chunk)`` for each chunk of ``IN_CLAUSE_CHUNK`` ids."""
    for chunk in chunked(ids, IN_CLAUSE_CHUNK):
        yield from query(client, soql_for(chunk), object_name=object_name)


def child_rows(client: SalesforceClient, child: Any, *, object_name: str) -> Iterator[Any]:
    """Rows of a subquery result (None when the parent has no children), following the
    child result's own ``nextRecordsUrl`` when it pages."""
    if not isinstance(child, Mapping):
        return iter(())
    first: Mapping[str, Any] = child

    def fetch(cursor: str | None) -> Mapping[str, Any]:
        if cursor is None:
            return first
        page: dict[str, Any] = client.call(
            "query",
            lambda sf: sf.query_more(cursor, identifier_is_url=True),
            operation="query",
            object_name=object_name,
            read=True,
        )
        return page

    return paginate(fetch, NextUrlPaginator(page_size=None), label=f"salesforce {object_name}")
