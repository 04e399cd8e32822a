"""Salesforce SOQL routes: ``query``/``queryAll`` and Tooling ``query`` with paging.

A mixin of ``SalesforceEmulator`` (``salesforce.py`` registers the routes), kept apart
so the emulator class stays a readable size: the first page of a SOQL query, its
``nextRecordsUrl`` locator and the pages read through it. The SOQL itself runs in the
org (``SalesforceOrg.run_query``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tierwise.sandbox.sf_store import RequestError, SalesforceOrg
from tierwise.sandbox.wire import Request, Response

DEFAULT_BATCH = 2000
MAX_SOQL = 100_000


class QueryRoutes:
    """SOQL query and query locator routes; needs ``self.org``."""

    org: SalesforceOrg

    # ---- query --------------------------------------------------------------------------------

    def _batch_size(self, request: Request) -> int:
        options = request.header("Sforce-Query-Options") or ""
        found = re.search(r"batchSize\s*=\s*(\d+)", options)
        if not found:
            return DEFAULT_BATCH
        return min(DEFAULT_BATCH, max(200, int(found.group(1))))

    def _query(self, request: Request) -> Response:
        text = request.arg("q")
        if text is not None and len(text) > MAX_SOQL:
            raise RequestError(
                400, "MALFORMED_QUERY", f"SOQL statements cannot exceed {MAX_SOQL} characters"
            )
        if not text:
            raise RequestError(400, "MALFORMED_QUERY", "A query string has to be specified")
        version = request.params["ver"]
        include_deleted = request.params["kind"] == "queryAll"
        object_name, rows, total = self.org.run_query(
            text,
            include_deleted=include_deleted,
            version=version,
            tooling=request.path.split("/")[4] == "tooling",
        )
        return self._page(request, object_name, rows, total, 0, self._batch_size(request), None)

    def _tooling_query(self, request: Request) -> Response:
        """Tooling ``query/``: CustomField lives here (exists-or-not, whatever FLS says)."""
        return self._query(request)

    def _page(
        self,
        request: Request,
        object_name: str,
        rows: Sequence[dict[str, Any]],
        total: int,
        offset: int,
        batch: int,
        cursor_id: str | None,
    ) -> Response:
        page = rows[offset : offset + batch]
        body: dict[str, Any] = {"totalSize": total, "done": True, "records": page}
        if offset + batch < len(rows):
            if cursor_id is None:
                cursor_id = self.org.open_cursor(object_name, rows, batch)
            body["done"] = False
            kind = request.params["kind"]
            body["nextRecordsUrl"] = (
                f"/services/data/v{request.params['ver']}/{kind}/{cursor_id}-{offset + batch}"
            )
        return Response.json(200, body, records=len(page))

    def _query_more(self, request: Request) -> Response:
        cursor_id = request.params["cursor"]
        with self.org.lock:
            # A locator being paged is the most recently used: the child locators its
            # pages open (subqueries past their first batch) must not evict it from the
            # sandbox's memory guard (``SalesforceOrg.open_cursor``).
            cursor = self.org.cursors.pop(cursor_id, None)
            if cursor is not None:
                self.org.cursors[cursor_id] = cursor
        if cursor is None:
            raise RequestError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(request.params["offset"])
        return self._page(
            request,
            cursor.object_name,
            cursor.rows,
            len(cursor.rows),
            offset,
            cursor.batch,
            cursor_id,
        )
