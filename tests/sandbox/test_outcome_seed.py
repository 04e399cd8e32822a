"""Seeded deal history: same deals in both CRMs, wins concentrated by a known rule."""

from __future__ import annotations

from datetime import date

from tests.sandbox.conftest import hs_client, sf_client
from tierwise.sandbox import Sandbox
from tierwise.sandbox.outcomes import generate_deals, win_probability
from tierwise.sandbox.seed import generate_companies

TODAY = date(2026, 11, 1)


def test_deals_are_deterministic_per_company_whatever_else_is_loaded() -> None:
    companies = list(generate_companies(50, 7, today=TODAY))

    alone = list(generate_deals(companies[10:11], 7, today=TODAY))
    together = [
        d
        for d in generate_deals(companies, 7, today=TODAY)
        if d["company_key"] == companies[10]["key"]
    ]

    assert alone == together


def test_wins_are_concentrated_where_the_rule_says() -> None:
    companies = list(generate_companies(4000, 3, today=TODAY))
    by_key = {c["key"]: c for c in companies}
    strong = [0, 0]
    weak = [0, 0]
    for deal in generate_deals(companies, 3, today=TODAY):
        if not deal["is_closed"]:
            continue
        p = win_probability(by_key[deal["company_key"]])
        bucket = strong if p > 0.6 else weak if p < 0.15 else None
        if bucket is not None:
            bucket[0] += deal["is_won"]
            bucket[1] += 1

    assert strong[1] > 50
    assert weak[1] > 50
    assert strong[0] / strong[1] > 0.5 > 0.2 > weak[0] / weak[1]


def test_every_deal_lies_before_today_and_within_two_years() -> None:
    companies = list(generate_companies(300, 5, today=TODAY))

    deals = list(generate_deals(companies, 5, today=TODAY))

    assert deals
    assert all(d["created"].date() < TODAY and d["modified"].date() < TODAY for d in deals)
    assert all((TODAY - d["created"].date()).days <= 731 for d in deals)
    assert all(d["is_closed"] == (d["stage"] in ("Closed Won", "Closed Lost")) for d in deals)
    assert all(d["is_won"] == (d["stage"] == "Closed Won") for d in deals)


def test_opportunities_are_queryable_with_soql_filters() -> None:
    with Sandbox(accounts=300, seed=7, today=TODAY) as sb:
        sf = sf_client(sb)
        account_id = sb.salesforce.objects["Opportunity"][
            next(iter(sb.salesforce.objects["Opportunity"]))
        ]["AccountId"]
        expected = sorted(
            oid
            for oid, o in sb.salesforce.objects["Opportunity"].items()
            if o["AccountId"] == account_id and o["IsClosed"]
        )

        soql = (
            "SELECT Id, Amount, StageName, IsWon, CloseDate, SystemModstamp FROM Opportunity "  # noqa: S608 - a sandbox id
            f"WHERE AccountId = '{account_id}' AND IsClosed = true AND CloseDate >= 2024-01-01 "
            "ORDER BY Id"
        )
        rows = sf.query_all(soql)["records"]

        assert expected == [r["Id"] for r in rows]


def test_the_same_deals_are_hubspot_deals_associated_with_the_matching_company() -> None:
    with Sandbox(accounts=200, seed=7, today=TODAY) as sb:
        hs = hs_client(sb)
        deal_key, (sf_id, hs_id) = next(iter(sb.deal_ids.items()))
        opportunity = sb.salesforce.objects["Opportunity"][sf_id]

        page = hs.crm.deals.basic_api.get_page(
            limit=100,
            properties=["amount", "dealstage", "hs_is_closed_won"],
            associations=["companies"],
        )
        deal = next(d for d in page.results if d.id == hs_id)
        company_id = deal.associations["companies"].results[0].id
        sf_account = next(
            k for k, (s, _) in sb.company_ids.items() if s == opportunity["AccountId"]
        )

        assert sb.company_ids[sf_account][1] == company_id
        assert deal_key.startswith(sf_account)
        assert opportunity["Amount"] == float(deal.properties["amount"])
        assert opportunity["IsWon"] == (deal.properties["hs_is_closed_won"] == "true")
        assert opportunity["IsWon"] == (deal.properties["dealstage"] == "closedwon")


def test_opportunities_can_be_left_out() -> None:
    sb = Sandbox(accounts=50, seed=7, opportunities=False)

    assert not sb.salesforce.objects["Opportunity"]
    assert not sb.hubspot.objects["deals"]
