# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Pure outcome measures: AUC, the per-tier report, volatility, charts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from tierwise.connectors.base import CrmOpportunity, TierwiseValues
from tierwise.sync.outcomes import charts
from tierwise.sync.outcomes.customers import customer_inputs
from tierwise.sync.outcomes.data import Deal, attribute_deals, tiers_as_of
from tierwise.sync.outcomes.metrics import auc
from tierwise.sync.outcomes.report import ALL, BASELINE, build_report
from tierwise.sync.outcomes.volatility import volatility
from tierwise.sync.records import Snapshot
from tierwise.sync.state import StateStore
from tierwise.tiering.records import Decision


def test_auc_matches_scikit_learn_including_ties() -> None:
    rng = random.Random(3)
    scores = [float(rng.randrange(20)) for _ in range(300)]
    labels = [rng.random() < s / 25 for s in scores]

    assert roc_auc_score(labels, scores) == pytest.approx(auc(scores, labels))


def test_auc_is_undefined_with_one_class_only() -> None:
    assert auc([1.0, 2.0], [True, True]) is None


def _deal(
    key: str, n: int, won: bool | None, amount: float, created: date, closed: date | None
) -> Deal:
    return Deal(
        key, "salesforce", f"{key}-{n}", amount, won is not None, bool(won), created, closed
    )


def test_the_report_measures_each_tier_against_the_baseline() -> None:
    tiers = {"a": "tier_1", "b": "tier_1", "c": "unqualified", "d": "untiered", "e": "tier_2"}
    deals = [
        _deal("a", 1, True, 100.0, date(2026, 1, 1), date(2026, 1, 31)),
        _deal("a", 2, False, 50.0, date(2026, 2, 1), date(2026, 3, 1)),
        _deal("b", 1, None, 70.0, date(2026, 5, 1), None),  # open
        _deal("c", 1, False, 10.0, date(2026, 1, 1), date(2026, 2, 1)),
        _deal("d", 1, True, 300.0, date(2026, 1, 1), date(2026, 1, 11)),
        _deal("d", 2, False, 5.0, date(2026, 1, 1), date(2026, 1, 5)),
        _deal("e", 1, True, 40.0, date(2024, 1, 1), date(2024, 2, 1)),  # before the period
    ]

    report = build_report(
        tiers=tiers,
        scores={"a": 80.0, "b": 75.0},
        deals=deals,
        labels={"tier_1": "Strategic", "tier_2": "Core"},
        tier_ids=["tier_1", "tier_2"],
        min_scores={"tier_1": None, "tier_2": 40.0},
        since=date(2026, 1, 1),
        until=date(2026, 12, 31),
    )

    t1, base, everyone = report.row("tier_1"), report.row(BASELINE), report.row(ALL)
    assert (2, 2) == (t1.accounts, base.accounts)
    assert (0.5, 1 / 3) == (t1.win_rate, base.win_rate)
    assert pytest.approx(1.5) == t1.win_rate_vs_baseline
    assert 70.0 == t1.open_pipeline
    assert (100.0, 30.0) == (t1.avg_deal_size, t1.days_to_close)
    assert pytest.approx(220.0 / 2) == t1.pipeline_per_account
    assert pytest.approx(100.0 / 400.0) == t1.revenue_share
    assert 0 == report.row("tier_2").deals_closed
    assert 5 == everyone.accounts
    assert [("tier_1", 75.0), ("tier_2", 40.0)] == report.boundaries


def test_volatility_counts_moves_per_run_and_quarter_with_their_rules() -> None:
    jan, feb, apr = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 4))
    rows = [
        *[(f"k{i}", "r1", jan, "tier_2", "threshold") for i in range(20)],
        ("k0", "r2", feb, "tier_1", "trigger:surge"),
        ("k1", "r2", feb, "tier_3", "threshold"),
        ("k2", "r3", apr, "tier_3", "threshold"),
        ("k99", "r3", apr, "tier_4", "threshold"),  # a new account is not a move
    ]

    v = volatility(rows)

    assert [0, 2, 1] == [r.moves for r in v.runs]
    assert [None, 0.1, 0.05] == [r.share for r in v.runs]
    assert [("2026-Q1", 0, 0), ("2026-Q2", 20, 1)] == [
        (q.quarter, q.tiered_at_start, q.changed) for q in v.quarters
    ]
    assert {"threshold": 2, "trigger:surge": 1} == v.rules


def test_the_score_histogram_draws_each_tier_boundary() -> None:
    svg = charts.histogram("scores", [5.0, 55.0, 81.0], [("tier_1", 80.0), ("tier_2", 50.0)])

    assert svg.startswith("<svg")
    assert "tier_1 ≥ 80.0" in svg
    assert "tier_2 ≥ 50.0" in svg
    assert 2 == svg.count('stroke-dasharray="4 3"')


def _snap(system: str, crm_id: str, key: str) -> Snapshot:
    return Snapshot(
        system=system,
        crm_id=crm_id,
        key=key,
        domain=None,
        name=None,
        owner_id=None,
        modified_at=None,
        fields={},
        written=TierwiseValues(),
    )


def _opp(system: str, crm_id: str, account: str | None, won: bool = True) -> CrmOpportunity:
    return CrmOpportunity(
        system,
        crm_id,
        account,
        10.0,
        "x",
        True,
        won,
        datetime(2026, 1, 1, tzinfo=UTC),
        date(2026, 2, 1),
        None,
    )


@pytest.mark.parametrize(
    ("primary", "expected_system"), [("salesforce", "salesforce"), ("hubspot", "hubspot")]
)
def test_a_company_in_both_crms_has_its_deals_counted_once_from_the_primary(
    primary: str, expected_system: str
) -> None:
    snapshots = [
        _snap("salesforce", "001A", "acme.com"),
        _snap("hubspot", "18", "acme.com"),
        _snap("hubspot", "19", "solo.io"),
    ]
    opportunities = [
        _opp("salesforce", "006A", "001A"),
        _opp("hubspot", "48", "18"),
        _opp("hubspot", "49", "19"),
        _opp("hubspot", "50", "999"),
        _opp("salesforce", "006B", None),
    ]

    deals, unmatched = attribute_deals(opportunities, snapshots, primary)

    assert 2 == unmatched
    assert {("acme.com", expected_system), ("solo.io", "hubspot")} == {
        (d.account_key, d.system) for d in deals
    }


def _decision(key: str, tier: str, score: float) -> Decision:
    return Decision(
        key=key,
        tier=tier,
        tier_label=tier,
        previous_tier=None,
        score=score,
        rule="threshold",
        reason="",
        play=None,
    )


def test_tiers_as_of_a_date_are_the_last_decisions_recorded_by_then(tmp_path: Path) -> None:
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    jan, mar = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)
    store.record_decisions(
        "r1", jan, [_decision("a", "tier_2", 50.0), _decision("b", "tier_4", 10.0)]
    )
    store.record_decisions(
        "r2", mar, [_decision("a", "tier_1", 80.0), _decision("c", "tier_3", 30.0)]
    )

    february = tiers_as_of(store, datetime(2026, 2, 1, tzinfo=UTC))
    april = tiers_as_of(store, datetime(2026, 4, 1, tzinfo=UTC))
    store.dispose()

    assert {"a": ("tier_2", 50.0), "b": ("tier_4", 10.0)} == {
        k: (p.tier, p.score) for k, p in february.items()
    }
    assert {"a": "tier_1", "b": "tier_4", "c": "tier_3"} == {k: p.tier for k, p in april.items()}


def test_customer_fields_are_derived_from_the_deal_history() -> None:
    today = date(2026, 11, 1)
    deals = [
        _deal("a", 1, True, 100.0, date(2026, 1, 1), date(2026, 3, 1)),
        _deal("a", 2, True, 50.0, date(2025, 1, 1), date(2025, 3, 1)),
        _deal("a", 3, False, 9.0, date(2026, 1, 1), date(2026, 4, 1)),
        _deal("a", 4, None, 70.0, date(2026, 9, 1), None),
        _deal("b", 1, False, 10.0, date(2026, 1, 1), date(2026, 2, 1)),  # never won: no customer
    ]

    inputs = customer_inputs(
        deals, today, {"a": {"health_score": 82.0, "industry": "x"}, "b": {"health_score": 10.0}}
    )

    assert ["a"] == [i.key for i in inputs]
    # Deal-derived measures, plus the customer-success fields the CRM holds (only those).
    assert {
        "arr": 100.0,
        "wins_12m": 1.0,
        "expansion": 2.0,
        "last_win": date(2026, 3, 1),
        "open_pipeline": 70.0,
        "lost_12m": 1.0,
        "health_score": 82.0,
        "product_adoption": None,
    } == dict(inputs[0].fields)
