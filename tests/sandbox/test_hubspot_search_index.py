"""Keyset paging's range search is served from a sorted index: same rows as a scan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.conftest import hs_client
from tierwise.sandbox import Sandbox


def pages(sb: Sandbox, filters: list[dict[str, Any]], sort: str) -> list[tuple[int, list[str]]]:
    hs = hs_client(sb)
    out: list[tuple[int, list[str]]] = []
    after: str | None = "0"
    while after is not None:
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": [sort],
            "limit": 7,
            "after": after,
        }
        page = hs.crm.companies.search_api.do_search(body)
        out.append((page.total, [r.id for r in page.results]))
        after = page.paging.next.after if page.paging else None
    return out


@pytest.mark.parametrize(
    ("name", "op"),
    [("hs_lastmodifieddate", "GTE"), ("hs_lastmodifieddate", "GT"), ("hs_object_id", "GT")],
)
def test_a_range_search_answers_what_the_scan_answers(
    make_sandbox: Callable[..., Sandbox], name: str, op: str
) -> None:
    sb = make_sandbox(accounts=60, hubspot_search_per_second=None)
    companies = list(sb.hubspot.objects["companies"].values())
    # Stamps shared by several companies: ties keep the store's order, as the scan's sort.
    for company in companies[:12]:
        company["properties"]["hs_lastmodifieddate"] = "2026-10-01T10:00:00.000Z"
    sb.hubspot.portal.version += 1
    values = sorted(str(c["properties"][name]) for c in companies)
    bound = values[20] if name == "hs_object_id" else "1759312800000"  # 2026-10-01T10:00Z
    ranged = [{"propertyName": name, "operator": op, "value": bound}]
    # A second, always-true filter sends the same search down the scan.
    scanned = [*ranged, {"propertyName": "hs_object_id", "operator": "HAS_PROPERTY"}]

    indexed = pages(sb, ranged, name)

    assert pages(sb, scanned, name) == indexed
    assert indexed[0][0] > 0


def test_a_write_between_pages_is_seen_by_the_next_range_search(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    sb = make_sandbox(accounts=10, hubspot_search_per_second=None)
    ranged = [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}]
    before = pages(sb, ranged, "hs_lastmodifieddate")
    first = before[0][1][0]
    sb.hubspot.edit("companies", first, {"name": "edited"})

    after = [i for _, ids in pages(sb, ranged, "hs_lastmodifieddate") for i in ids]

    assert first == after[-1]  # now the newest stamp
