"""One paging loop; each API's paging rule is a small paginator object (after dlt).

dlt's REST client has a single ``paginate()`` loop and per-API paginator objects
(``update_state(response)`` reads where the next page is, ``has_next_page`` says whether
there is one). Our transports are client libraries, not raw requests, so a paginator
here turns a page into the *cursor* of the next request and the connector's ``fetch``
turns a cursor into a page - one API call each, retried page by page by the retry
engine, never the stream from the start.

The page size belongs to the paginator (``page_size``): a caller never keeps a table
of page sizes.

Paginators provided: :class:`NextUrlPaginator` (Salesforce ``nextRecordsUrl``) and
:class:`JSONCursorPaginator` (a cursor at a JSON path, HubSpot's ``paging.next.after``).
A keyset paginator (HubSpot search by ``hs_object_id``) subclasses :class:`Paginator`.
"""

from __future__ import annotations

import contextvars
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import structlog

P = TypeVar("P")  # a page as the client returns it
C = TypeVar("C")  # the cursor of the next request

log = structlog.get_logger(__name__)


class Paginator(ABC, Generic[P, C]):
    """Where the next page is, read from the page just fetched.

    ``cursor`` is None for the first request; after ``update_state`` it is the next
    request's cursor, and ``has_next_page`` is False after the last page.
    """

    page_size: int | None = None

    def __init__(self) -> None:
        self.cursor: C | None = None
        self.has_next_page = True
        self.pages = 0

    @abstractmethod
    def update_state(self, page: P) -> None:
        """Read the next cursor (or the end) from ``page``."""

    @abstractmethod
    def records(self, page: P) -> Sequence[Any]:
        """The records on ``page``."""


def paginate(
    fetch: Callable[[C | None], P], paginator: Paginator[P, C], *, label: str = "page"
) -> Iterator[Any]:
    """THE paging loop: fetch the page at the paginator's cursor, yield its records,
    until the paginator says there is no next page.

    The next page is requested as soon as its cursor is known, before this page's
    records are handed on: the caller's work on them (parsing, saving) overlaps the next
    request's round trip instead of adding to it, which is what keeps a large pull near
    the API's rate bound rather than latency plus processing per page. The requests
    stay one at a time and in the same order; a page's failure surfaces when its records
    are wanted. A caller that stops early waits for the one request in flight.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tierwise-page") as ahead:
        coming: Future[P] | None = None
        while paginator.has_next_page:
            page = fetch(paginator.cursor) if coming is None else coming.result()
            coming = None
            paginator.pages += 1
            paginator.update_state(page)
            records = paginator.records(page)
            log.debug("crm_page", label=label, page=paginator.pages, records=len(records))
            if paginator.has_next_page:
                # Logging context (the run id) goes with the request.
                context = contextvars.copy_context()
                coming = ahead.submit(context.run, fetch, paginator.cursor)
            yield from records


class NextUrlPaginator(Paginator[Mapping[str, Any], str]):
    """Salesforce query results: ``done`` plus ``nextRecordsUrl`` (SOQL guide,
    "Understanding Query Results"); ``page_size`` goes out as
    ``Sforce-Query-Options: batchSize=N``."""

    def __init__(self, page_size: int | None = 2000) -> None:
        super().__init__()
        self.page_size = page_size

    @property
    def headers(self) -> dict[str, str]:
        if self.page_size is None:
            return {}
        return {"Sforce-Query-Options": f"batchSize={self.page_size}"}

    def update_state(self, page: Mapping[str, Any]) -> None:
        next_url = page.get("nextRecordsUrl")
        if page.get("done", True) or not next_url:
            self.has_next_page = False
            self.cursor = None
        else:
            self.cursor = str(next_url)

    def records(self, page: Mapping[str, Any]) -> Sequence[Any]:
        return list(page.get("records") or [])


class JSONCursorPaginator(Paginator[Mapping[str, Any], str]):
    """A cursor at a dotted JSON path (``paging.next.after``); no cursor = last page."""

    def __init__(
        self,
        cursor_path: str = "paging.next.after",
        records_path: str = "results",
        page_size: int | None = 100,
    ) -> None:
        super().__init__()
        self.cursor_path = cursor_path.split(".")
        self.records_path = records_path.split(".")
        self.page_size = page_size

    @staticmethod
    def _find(page: Mapping[str, Any], path: Sequence[str]) -> Any:
        node: Any = page
        for key in path:
            if not isinstance(node, Mapping):
                return None
            node = node.get(key)
        return node

    def update_state(self, page: Mapping[str, Any]) -> None:
        cursor = self._find(page, self.cursor_path)
        self.cursor = str(cursor) if cursor not in (None, "") else None
        self.has_next_page = self.cursor is not None

    def records(self, page: Mapping[str, Any]) -> Sequence[Any]:
        found = self._find(page, self.records_path)
        return list(found or [])
