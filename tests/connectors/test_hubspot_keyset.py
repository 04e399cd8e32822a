"""Keyset paging (``tierwise.connectors.hubspot.paging``) against a plain in-memory "search"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tierwise.connectors.hubspot.paging import keyset_rows

MOD = "hs_lastmodifieddate"


class FakeSearch:
    """Filters (GTE/GT/EQ on the stamp, GT on the id) and one ascending sort, like HubSpot;
    ``between_pages`` runs after each page is answered (edits land mid-pull)."""

    def __init__(self, stamps: dict[int, int], page: int, between_pages: Any = None) -> None:
        self.stamps = stamps
        self.page = page
        self.between_pages = between_pages
        self.calls = 0

    def __call__(self, filters: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
        def ok(rid: int) -> bool:
            for f in filters:
                have = self.stamps[rid] if f["propertyName"] == MOD else rid
                want = int(f["value"])
                if not {"GTE": have >= want, "GT": have > want, "EQ": have == want}[f["operator"]]:
                    return False
            return True

        key = (lambda r: (self.stamps[r], r)) if sort == MOD else (lambda r: r)
        rows = sorted((r for r in self.stamps if ok(r)), key=key)[: self.page]
        self.calls += 1
        answer = [{"id": str(r), "properties": {MOD: str(self.stamps[r])}} for r in rows]
        if self.between_pages:
            self.between_pages(self)
        return answer


SINCE = datetime.fromtimestamp(0, UTC)


def test_every_row_is_read_once_when_stamps_differ() -> None:
    search = FakeSearch({i: 1000 + i for i in range(1, 501)}, page=200)
    ids = [r["id"] for r in keyset_rows(search, SINCE, MOD, 200)]
    assert [str(i) for i in range(1, 501)] == ids


def test_rows_sharing_the_boundary_stamp_are_not_repeated() -> None:
    stamps = {i: 1000 + i // 7 for i in range(1, 501)}  # runs of 7 rows per stamp
    ids = [r["id"] for r in keyset_rows(FakeSearch(stamps, page=50), SINCE, MOD, 50)]
    assert len(ids) == len(set(ids)) == 500


def test_more_than_a_page_on_one_stamp_is_drained_by_id() -> None:
    stamps = {i: 5000 if 100 <= i < 900 else 1000 + i for i in range(1, 1001)}
    search = FakeSearch(stamps, page=200)
    ids = [r["id"] for r in keyset_rows(search, SINCE, MOD, 200)]
    assert sorted(ids, key=int) == sorted(set(ids), key=int)
    assert {str(i) for i in stamps} == set(ids)
    assert search.calls < 15


def test_rows_edited_mid_pull_are_not_skipped() -> None:
    clock = iter(range(10_000, 20_000))

    def edit(search: FakeSearch) -> None:
        for rid in list(search.stamps)[search.calls * 10 : search.calls * 10 + 30]:
            search.stamps[rid] = next(clock)  # already read or not: moves to the end

    search = FakeSearch({i: 1000 + i for i in range(1, 601)}, page=100, between_pages=edit)
    ids = {r["id"] for r in keyset_rows(search, SINCE, MOD, 100)}
    assert {str(i) for i in range(1, 601)} == ids
