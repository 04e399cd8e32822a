"""Opportunity/deal pulls from both connectors against the sandbox, through the real clients."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.connectors.sandbox_support import calls, hubspot, salesforce
from tierwise.sandbox import FaultRule, Sandbox

TODAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with Sandbox(accounts=600, seed=5, today=TODAY, hubspot_contacts=False) as box:
        yield box


def _expected(sb: Any) -> dict[str, tuple[str, bool, bool, float]]:
    """deal key -> (company key, closed, won, amount) from the seeded records."""
    account_key = {sf: key for key, (sf, _) in sb.company_ids.items()}
    out = {}
    for deal_key, (sf_id, _) in sb.deal_ids.items():
        o = sb.salesforce.objects["Opportunity"][sf_id]
        out[deal_key] = (account_key[o["AccountId"]], o["IsClosed"], o["IsWon"], o["Amount"])
    return out


def test_salesforce_pulls_every_opportunity_with_its_account_in_pages_of_2000(sb: Any) -> None:
    sb.reset_calls()
    pulled = list(salesforce(sb).pull_opportunities(None))

    by_id = {o.crm_id: o for o in pulled}
    account_key = {sf: key for key, (sf, _) in sb.company_ids.items()}
    got = {
        deal_key: (
            account_key[by_id[sf].crm_account_id or ""],
            by_id[sf].is_closed,
            by_id[sf].is_won,
            by_id[sf].amount,
        )
        for deal_key, (sf, _) in sb.deal_ids.items()
    }
    assert _expected(sb) == got
    assert len(sb.deal_ids) == len(pulled)
    assert math.ceil(len(pulled) / 2000) == len(calls(sb, "salesforce", "GET", "/query"))
    closed = [o for o in pulled if o.is_closed]
    assert all(o.closed is not None and o.closed < TODAY for o in closed)
    assert all(o.closed is None for o in pulled if not o.is_closed)


def test_hubspot_pulls_the_same_deals_with_their_company_in_pages_of_100(sb: Any) -> None:
    sb.reset_calls()
    pulled = list(hubspot(sb).pull_opportunities(None))

    by_id = {o.crm_id: o for o in pulled}
    company_key = {hs: key for key, (_, hs) in sb.company_ids.items()}
    got = {
        deal_key: (
            company_key[by_id[hs].crm_account_id or ""],
            by_id[hs].is_closed,
            by_id[hs].is_won,
            by_id[hs].amount,
        )
        for deal_key, (_, hs) in sb.deal_ids.items()
    }
    assert _expected(sb) == got
    assert math.ceil(len(pulled) / 100) == len(calls(sb, "hubspot", "GET", "/crm/v3/objects/deals"))


def test_incremental_pulls_start_inclusive_at_the_watermark(sb: Any) -> None:
    sf_all = list(salesforce(sb).pull_opportunities(None))
    hs_all = list(hubspot(sb).pull_opportunities(None))
    for everything, connector in ((sf_all, salesforce(sb)), (hs_all, hubspot(sb))):
        stamps = sorted(o.modified for o in everything if o.modified)
        watermark = stamps[len(stamps) * 3 // 4]
        expected = {o.crm_id for o in everything if o.modified and o.modified >= watermark}

        later = list(connector.pull_opportunities(watermark))

        assert expected == {o.crm_id for o in later}
        assert all(o.crm_account_id for o in later)


def test_hubspot_incremental_reads_companies_in_date_based_association_batches(sb: Any) -> None:
    sb.reset_calls()
    later = list(hubspot(sb).pull_opportunities(datetime(2020, 1, 1, tzinfo=UTC)))

    assert len(sb.deal_ids) == len(later)
    reads = calls(sb, "hubspot", "POST", "/crm/associations/2026-03/{from}/{to}/batch/read")
    assert math.ceil(len(later) / 100) <= len(reads) <= math.ceil(len(later) / 200) * 2


def test_a_transient_failure_on_a_page_is_retried(sb: Any) -> None:
    sb.faults.add(
        FaultRule(
            system="hubspot", method="GET", path=r"/crm/v3/objects/deals", kind="http_503", nth=2
        )
    )
    sb.faults.add(
        FaultRule(system="salesforce", method="GET", path=r"/query", kind="http_503", nth=1)
    )
    try:
        assert len(sb.deal_ids) == len(list(hubspot(sb).pull_opportunities(None)))
        assert len(sb.deal_ids) == len(list(salesforce(sb).pull_opportunities(None)))
    finally:
        sb.faults.clear()
