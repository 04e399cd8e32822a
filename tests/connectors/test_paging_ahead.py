"""The one paging loop asks for the next page before handing on this page's records
(connectors/paging.py ``paginate``): same requests, same order, overlapped."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from tierwise.connectors.paging import JSONCursorPaginator, paginate

PAGES: dict[str | None, dict[str, Any]] = {
    None: {"results": [1, 2], "paging": {"next": {"after": "b"}}},
    "b": {"results": [3, 4], "paging": {"next": {"after": "c"}}},
    "c": {"results": [5]},
}


class Server:
    def __init__(self, fail_at: str = "none") -> None:
        self.asked: list[str | None] = []
        self.fail_at = fail_at
        self.second_asked = threading.Event()

    def fetch(self, cursor: str | None) -> Mapping[str, Any]:
        self.asked.append(cursor)
        if cursor == "b":
            self.second_asked.set()
        if cursor == self.fail_at:
            raise RuntimeError(f"page {cursor} failed")
        return PAGES[cursor]


def test_every_record_comes_once_in_order_from_one_request_per_page() -> None:
    server = Server()
    assert list(paginate(server.fetch, JSONCursorPaginator())) == [1, 2, 3, 4, 5]
    assert server.asked == [None, "b", "c"]


def test_the_next_page_is_requested_while_the_caller_still_works_on_this_one() -> None:
    server = Server()
    stream = paginate(server.fetch, JSONCursorPaginator())
    assert next(stream) == 1
    # The caller holds record 1 of page one and has not asked for more: page two is
    # already on its way (the wait would time out without the read-ahead).
    assert server.second_asked.wait(timeout=10)
    assert list(stream) == [2, 3, 4, 5]


def test_a_failed_page_surfaces_when_its_records_are_wanted() -> None:
    server = Server(fail_at="b")
    stream = paginate(server.fetch, JSONCursorPaginator())
    assert [next(stream), next(stream)] == [1, 2]
    with pytest.raises(RuntimeError, match="page b failed"):
        next(stream)
    assert server.asked == [None, "b"]


def test_a_caller_that_stops_early_leaves_no_request_behind() -> None:
    server = Server()
    stream = paginate(server.fetch, JSONCursorPaginator())
    assert next(stream) == 1
    stream.close()  # waits for the request in flight; asks for nothing more
    assert server.asked == [None, "b"]
