# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Assignment: thresholds, percentiles, capacity, overrides, triggers, stability, reasons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from tests.tiering.conftest import BASE_MODEL, NOW, TRIGGERS, account, model
from tierwise.tiering import TieringModel, tier_accounts
from tierwise.tiering.records import UNQUALIFIED, AccountHistory, Decision, ScorePoint

STABLE = "stability:\n  hysteresis_points: 5\n  min_dwell_days: 90\n"


def only(decisions: Sequence[Decision]) -> Decision:
    (decision,) = list(decisions)
    return decision


def with_tiers(tiers: str) -> TieringModel:
    return model(base=BASE_MODEL[: BASE_MODEL.index("tiers:")] + tiers)


CAPPED = (
    "tiers:\n  - {id: tier_1, label: S, min_score: 80, capacity: 2}\n"
    "  - {id: tier_2, label: C, min_score: 60}\n"
)


def test_scores_map_to_tiers_by_their_bars() -> None:
    accounts = [account(f"a{score}", score) for score in (95, 80, 79.99, 60, 45, 20, 19)]

    result = tier_accounts(model(), accounts, {}, NOW)

    assert ["tier_1", "tier_1", "tier_2", "tier_2", "tier_3", "tier_4", UNQUALIFIED] == [
        d.tier for d in result.decisions
    ]
    assert ["threshold"] * 6 + ["unqualified"] == [d.rule for d in result.decisions]


def test_risk_subtracts_and_the_breakdown_adds_up_to_the_score() -> None:
    decision = only(
        tier_accounts(model(), [account("a", 90, competitor_customer=True)], {}, NOW).decisions
    )

    assert 70.0 == decision.score
    assert "tier_2" == decision.tier
    fit, risk = decision.groups
    assert (90.0, 100.0, False) == (fit.points, fit.max_points, fit.subtracts)
    assert (20.0, 20.0, True) == (risk.points, risk.max_points, risk.subtracts)
    assert ("competitor", 20.0, "competitor") == (
        risk.signals[0].name,
        risk.signals[0].points,
        risk.signals[0].detail,
    )


def test_missing_values_score_the_signals_fallback_and_are_listed() -> None:
    decision = only(tier_accounts(model(), [account("a", None)], {}, NOW).decisions)

    assert 0.0 == decision.score
    assert ("size", "competitor") == decision.missing_signals
    assert decision.groups[0].signals[0].missing


def test_top_percent_tiers_take_that_share_of_accounts() -> None:
    m = with_tiers(
        "tiers:\n  - {id: tier_1, label: Top, top_percent: 10}\n"
        "  - {id: tier_2, label: Rest, top_percent: 50}\n"
    )
    accounts = [account(f"a{i:02d}", float(i)) for i in range(1, 21)]

    result = tier_accounts(m, accounts, {}, NOW)

    by_tier = {d.key: d.tier for d in result.decisions}
    assert {"a20", "a19"} == {k for k, t in by_tier.items() if t == "tier_1"}
    assert 8 == sum(1 for t in by_tier.values() if t == "tier_2")
    assert {"percentile"} == {d.rule for d in result.decisions if d.tier != UNQUALIFIED}


def test_a_full_tier_keeps_the_highest_scores_and_ties_break_on_the_key() -> None:
    m = with_tiers(CAPPED)
    accounts = [account("b", 90), account("a", 90), account("c", 95), account("d", 85)]

    result = tier_accounts(m, accounts, {}, NOW)

    tiers = {d.key: (d.tier, d.rule) for d in result.decisions}
    assert {
        "c": ("tier_1", "threshold"),
        "a": ("tier_1", "threshold"),
        "b": ("tier_2", "capacity_overflow"),
        "d": ("tier_2", "capacity_overflow"),
    } == tiers
    assert "Tier 1 S full (2)" in next(d.reason for d in result.decisions if d.key == "b")


def test_pinned_accounts_take_capacity_first() -> None:
    m = with_tiers(CAPPED)
    accounts = [account("pin", 10, manual_tier="tier_1"), account("x", 99), account("y", 98)]

    result = tier_accounts(m, accounts, {}, NOW)

    assert {"pin": "tier_1", "x": "tier_1", "y": "tier_2"} == {
        d.key: d.tier for d in result.decisions
    }
    assert (2, 2) == (result.stats.per_tier[0].accounts, result.stats.per_tier[0].capacity)


def test_a_manual_tier_wins_until_it_expires() -> None:
    accounts = [
        account("pinned", 10, manual_tier="tier_1"),
        account(
            "until_tomorrow",
            10,
            manual_tier="tier_1",
            manual_tier_until=NOW.date() + timedelta(days=1),
        ),
        account(
            "expired", 10, manual_tier="tier_1", manual_tier_until=NOW.date() - timedelta(days=1)
        ),
        account("bogus", 10, manual_tier="tier_9"),
    ]

    result = tier_accounts(model(), accounts, {}, NOW)

    assert [
        ("tier_1", "override"),
        ("tier_1", "override"),
        (UNQUALIFIED, "unqualified"),
        (UNQUALIFIED, "unqualified"),
    ] == [(d.tier, d.rule) for d in result.decisions]
    assert "manual override until " in result.decisions[1].reason


def test_an_expired_pin_still_wins_when_the_model_ignores_expiry() -> None:
    m = model("overrides:\n  enabled: true\n  honour_expiry: false\n")
    pin = account("a", 10, manual_tier="tier_2", manual_tier_until=date(2020, 1, 1))

    assert "tier_2" == only(tier_accounts(m, [pin], {}, NOW).decisions).tier


def history(tier: str, days_in_tier: float = 365.0, *points: tuple[float, float]) -> AccountHistory:
    """``points`` are (days ago, score)."""
    return AccountHistory(
        tier,
        NOW - timedelta(days=days_in_tier),
        tuple(ScorePoint(NOW - timedelta(days=ago), score, tier) for ago, score in points),
    )


@pytest.mark.parametrize(("score", "held"), [(77, "tier_1"), (76, "tier_1"), (74.9, "tier_2")])
def test_hysteresis_holds_a_tier_until_the_score_is_past_the_bar_by_the_margin(
    score: float, held: str
) -> None:
    decision = only(
        tier_accounts(model(STABLE), [account("a", score)], {"a": history("tier_1")}, NOW).decisions
    )

    assert held == decision.tier
    assert ("hysteresis" if held == "tier_1" else "threshold") == decision.rule


def test_hysteresis_stops_flip_flopping_on_noise_around_a_bar() -> None:
    m = model(STABLE)
    tier, since = "tier_2", NOW - timedelta(days=400)
    seen = []
    for week, noise in enumerate((+3, -3, +4, -4, +2, -2, +4.9, -4.9)):
        now = NOW + timedelta(weeks=week)
        decision = only(
            tier_accounts(
                m, [account("a", 80 + noise)], {"a": AccountHistory(tier, since)}, now
            ).decisions
        )
        if decision.tier != tier:
            since = now
        tier = decision.tier
        seen.append(tier)

    assert ["tier_2"] * 8 == seen


def test_a_trigger_still_moves_an_account_that_hysteresis_holds() -> None:
    m = model(STABLE + TRIGGERS)
    funded = account(
        "a", 62, last_funding_amount=60e6, last_funding_date=NOW.date() - timedelta(days=10)
    )

    decision = only(tier_accounts(m, [funded], {"a": history("tier_2")}, NOW).decisions)

    assert ("tier_1", "trigger:funding_50m") == (decision.tier, decision.rule)
    assert decision.reason.endswith("promoted by funding>=50M")


def test_dwell_blocks_an_early_demotion_but_not_a_later_one() -> None:
    m = model(STABLE)
    weak = [account("a", 50)]

    early = only(tier_accounts(m, weak, {"a": history("tier_1", 30)}, NOW).decisions)
    late = only(tier_accounts(m, weak, {"a": history("tier_1", 91)}, NOW).decisions)

    assert ("tier_1", "dwell") == (early.tier, early.rule)
    assert "held by dwell (30 of 90 days in tier)" in early.reason
    assert ("tier_3", "threshold") == (late.tier, late.rule)


def test_dwell_does_not_hold_back_a_promotion() -> None:
    decision = only(
        tier_accounts(model(STABLE), [account("a", 99)], {"a": history("tier_3", 1)}, NOW).decisions
    )

    assert "tier_1" == decision.tier


def test_funding_trigger_promotes_to_tier_1_only_when_recent() -> None:
    m = model(TRIGGERS)
    old = NOW.date() - timedelta(days=400)
    recent = NOW.date() - timedelta(days=30)
    accounts = [
        account("recent", 45, last_funding_amount=50e6, last_funding_date=recent),
        account("old", 45, last_funding_amount=50e6, last_funding_date=old),
        account("small", 45, last_funding_amount=49e6, last_funding_date=recent),
    ]

    result = tier_accounts(m, accounts, {}, NOW)

    assert [
        ("tier_1", "trigger:funding_50m"),
        ("tier_3", "threshold"),
        ("tier_3", "threshold"),
    ] == [(d.tier, d.rule) for d in result.decisions]


def test_intent_surge_with_an_engagement_spike_promotes_one_tier() -> None:
    m = model(TRIGGERS)
    accounts = [
        account("both", 45, intent_surge=True, web_visits=150.0),
        account("surge_only", 45, intent_surge=True, web_visits=5.0),
        account("unqualified", 5, intent_surge=True, web_visits=150.0),
    ]

    result = tier_accounts(m, accounts, {}, NOW)

    assert [
        ("tier_2", "trigger:intent_spike"),
        ("tier_3", "threshold"),
        ("tier_4", "trigger:intent_spike"),
    ] == [(d.tier, d.rule) for d in result.decisions]


def test_a_score_drop_of_more_than_20_points_within_30_days_demotes_one_tier_at_once() -> None:
    m = model(STABLE + TRIGGERS)
    hist = {
        "fell": history("tier_1", 10, (10, 99)),
        "fell_long_ago": history("tier_1", 10, (60, 99)),
        "fell_20": history("tier_1", 10, (10, 97)),
    }
    accounts = [account("fell", 77), account("fell_long_ago", 77), account("fell_20", 77)]

    result = tier_accounts(m, accounts, hist, NOW)

    assert [
        ("tier_2", "trigger:score_drop"),
        ("tier_1", "hysteresis"),
        ("tier_1", "hysteresis"),
    ] == [(d.tier, d.rule) for d in result.decisions]
    assert result.decisions[0].reason.endswith("demoted by score fell >20 in 30 days")


def test_no_activity_for_180_days_moves_an_account_to_nurture() -> None:
    m = model(TRIGGERS)
    accounts = [
        account("quiet", 95, last_activity=NOW.date() - timedelta(days=180)),
        account("active", 95, last_activity=NOW.date() - timedelta(days=179)),
        account("never", 95),
    ]

    result = tier_accounts(m, accounts, {}, NOW)

    assert [("tier_4", "trigger:gone_quiet"), ("tier_1", "threshold"), ("tier_1", "threshold")] == [
        (d.tier, d.rule) for d in result.decisions
    ]


def test_every_reason_names_the_tier_and_score_and_fits_a_crm_text_field() -> None:
    decision = only(tier_accounts(model(), [account("a", 87)], {}, NOW).decisions)

    assert "Tier 1 Strategic (score 87): fit 87/100 87; risk -0; score >= 80" == decision.reason


def test_run_statistics_count_tiers_moves_volatility_and_rules() -> None:
    accounts = [account("up", 95), account("down", 45), account("same", 65), account("new", 25)]
    hist = {"up": history("tier_2"), "down": history("tier_1"), "same": history("tier_2")}

    stats = tier_accounts(model(), accounts, hist, NOW).stats

    assert [("tier_1", 1), ("tier_2", 1), ("tier_3", 1), ("tier_4", 1), (UNQUALIFIED, 0)] == [
        (t.tier, t.accounts) for t in stats.per_tier
    ]
    assert (4, 1, 1) == (stats.accounts, stats.promotions, stats.demotions)
    assert pytest.approx(2 / 3) == stats.volatility
    assert {"threshold": 4} == dict(stats.rules)


def test_a_previous_tier_no_longer_in_the_model_is_reported_but_tiered_afresh() -> None:
    decision = only(
        tier_accounts(model(STABLE), [account("a", 50)], {"a": history("tier_9", 1)}, NOW).decisions
    )

    assert ("tier_3", "tier_9", "threshold") == (
        decision.tier,
        decision.previous_tier,
        decision.rule,
    )


def test_each_decision_carries_its_tiers_play() -> None:
    play = (
        "plays:\n  tier_1:\n    name: 1:1 ABM\n    motion: named\n    sla_hours: 24\n"
        "    tasks:\n      - {subject: Plan, due_business_days: 2, owner: 'queue:abm'}\n"
    )
    result = tier_accounts(model(play), [account("a", 90), account("b", 10)], {}, NOW)

    first, second = result.decisions
    assert first.play is not None
    assert ("1:1 ABM", "queue:abm") == (first.play.name, first.play.tasks[0].owner)
    assert second.play is None


def test_naive_history_datetimes_are_read_as_utc() -> None:
    naive_since = (NOW - timedelta(days=30)).replace(tzinfo=None)
    hist = {
        "a": AccountHistory(
            "tier_1", naive_since, (ScorePoint(naive_since + timedelta(days=20), 99.0, "tier_1"),)
        )
    }

    decision = only(
        tier_accounts(model(STABLE + TRIGGERS), [account("a", 50)], hist, NOW).decisions
    )

    assert ("tier_2", "trigger:score_drop") == (decision.tier, decision.rule)


def test_numpy_numbers_count_as_numbers_and_bools_do_not() -> None:
    import numpy as np

    result = tier_accounts(model(), [account("np", np.float64(85)), account("bool", True)], {}, NOW)

    assert [(85.0, ("competitor",)), (0.0, ("size", "competitor"))] == [
        (d.score, d.missing_signals) for d in result.decisions
    ]


def test_a_promotion_counts_from_the_score_tier_and_names_the_trigger_that_holds_the_tier() -> None:
    m = model(STABLE + TRIGGERS)
    surging = account("a", 45, intent_surge=True, web_visits=150.0)

    held = only(tier_accounts(m, [surging], {"a": history("tier_2", 10)}, NOW).decisions)
    free = only(tier_accounts(m, [surging], {"a": history("tier_3", 10)}, NOW).decisions)

    # Not leapt to Strategic; and the trigger, not dwell, is why it sits in Core both times,
    # so the reason written to the CRM reads the same on every run.
    assert ("tier_2", "trigger:intent_spike") == (held.tier, held.rule)
    assert ("tier_2", "trigger:intent_spike") == (free.tier, free.rule)


def test_the_first_trigger_that_fires_decides_even_without_moving_the_account() -> None:
    m = model(TRIGGERS)
    funded_but_quiet = account(
        "a",
        95,
        last_funding_amount=80e6,
        last_funding_date=NOW.date() - timedelta(days=5),
        last_activity=NOW.date() - timedelta(days=400),
    )

    decision = only(tier_accounts(m, [funded_but_quiet], {}, NOW).decisions)

    assert ("tier_1", "threshold") == (decision.tier, decision.rule)


def test_the_decision_table_indexes_slices_and_lists_changes_without_building_all() -> None:
    accounts = [account("same", 65), account("up", 95), account("new", 25)]
    result = tier_accounts(
        model(), accounts, {"same": history("tier_2"), "up": history("tier_2")}, NOW
    )
    table = result.decisions

    assert ["tier_2", "tier_1", "tier_4"] == table.tier_ids()  # type: ignore[attr-defined]  # decisions is typed Sequence[Decision]; it is a DecisionTable
    assert [1, 2] == table.changed_indices()  # type: ignore[attr-defined]  # decisions is typed Sequence[Decision]; it is a DecisionTable
    assert [65.0, 95.0, 25.0] == table.scores()  # type: ignore[attr-defined]  # decisions is typed Sequence[Decision]; it is a DecisionTable
    assert ["new"] == [d.key for d in table[-1:]]
    assert table[1] == table[-2]
    with pytest.raises(IndexError):
        table[3]
