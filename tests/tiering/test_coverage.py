# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Issue 16 in the pure core: per-owner books, pin limits, distance to the next tier."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.tiering.conftest import BASE_MODEL, NOW, account, model
from tierwise.tiering import ModelError, TieringModel, parse_model, tier_accounts
from tierwise.tiering.records import AccountHistory, AccountInput, Decision, Window


def with_tiers(tiers: str, extra: str = "") -> TieringModel:
    return model(extra, base=BASE_MODEL[: BASE_MODEL.index("tiers:")] + tiers)


BOOKS = (
    "tiers:\n  - {id: tier_1, label: Strategic, min_score: 80, per_owner_capacity: 2}\n"
    "  - {id: tier_2, label: Core, min_score: 60, per_owner_capacity: 1}\n"
    "  - {id: tier_3, label: Programmatic, min_score: 20}\n"
)
GROUPS = (
    "owner_groups:\n  - id: senior_ae\n    label: Senior AEs\n    owners: [u_senior]\n"
    "    capacity: {tier_1: 3}\n"
)


def owned(key: str, employees: float, owner: str | None, **kw: object) -> AccountInput:
    return replace(account(key, employees, **kw), owner=owner)  # type: ignore[arg-type]  # test kwargs


def test_an_owners_full_book_overflows_its_lowest_scores_to_the_next_tier_with_the_reason() -> None:
    m = with_tiers(BOOKS)
    accounts = [
        owned("a", 99, "u1"),
        owned("b", 95, "u1"),
        owned("c", 90, "u1"),
        owned("d", 85, "u2"),
        owned("e", 88, None),
    ]

    result = tier_accounts(m, accounts, {}, NOW)

    tiers = {d.key: (d.tier, d.rule) for d in result.decisions}
    assert ("tier_1", "threshold") == tiers["a"] == tiers["b"]
    assert ("tier_2", "owner_capacity") == tiers["c"]
    assert ("tier_1", "threshold") == tiers["d"] == tiers["e"]
    reason = next(d.reason for d in result.decisions if d.key == "c")
    assert "owner book full (2/2 in Tier 1 Strategic)" in reason


def test_overflow_cascades_and_no_owner_ever_exceeds_a_cap() -> None:
    m = with_tiers(BOOKS, GROUPS)
    accounts = [owned(f"s{i}", 99 - i, "u_senior") for i in range(6)]
    accounts += [owned(f"j{i}", 98 - i, "u_junior") for i in range(6)]

    result = tier_accounts(m, accounts, {}, NOW)

    books = Counter((d.owner, d.tier) for d in result.decisions)
    assert 3 == books[("u_senior", "tier_1")]
    assert 2 == books[("u_junior", "tier_1")]
    assert 1 == books[("u_senior", "tier_2")] == books[("u_junior", "tier_2")]
    reason = next(d.reason for d in result.decisions if d.key == "s3")
    assert "Senior AEs book full (3/3 in Tier 1 Strategic)" in reason
    load = {
        (row.owner, row.tier): (row.load, row.cap, row.overflow) for row in result.stats.owner_load
    }
    assert (3, 3, 3) == load[("u_senior", "tier_1")]
    assert (1, 1, 2) == load[("u_senior", "tier_2")]


def test_pinned_accounts_take_an_owners_seats_first() -> None:
    m = with_tiers(BOOKS)
    accounts = [
        owned("pin", 30, "u1", manual_tier="tier_1"),
        owned("x", 99, "u1"),
        owned("y", 98, "u1"),
    ]

    result = tier_accounts(m, accounts, {}, NOW)

    assert {"pin": "tier_1", "x": "tier_1", "y": "tier_2"} == {
        d.key: d.tier for d in result.decisions
    }


def test_the_tier_wide_capacity_still_binds_after_owner_books() -> None:
    tiers = BOOKS.replace("per_owner_capacity: 2}", "per_owner_capacity: 2, capacity: 3}")
    m = with_tiers(tiers)
    accounts = [
        owned(f"{o}{i}", 99 - i - (10 if o == "v" else 0), o) for o in ("u", "v") for i in range(2)
    ]

    result = tier_accounts(m, accounts, {}, NOW)

    assert 3 == sum(1 for d in result.decisions if d.tier == "tier_1")


def test_pins_past_max_per_tier_fall_back_lowest_score_first_and_are_reported() -> None:
    tiers = (
        "tiers:\n  - {id: tier_1, label: Strategic, min_score: 80, capacity: 10}\n"
        "  - {id: tier_2, label: Core, min_score: 20}\n"
    )
    m = with_tiers(tiers, "overrides:\n  max_per_tier: 3\n")
    accounts = [account(f"p{i}", 50 - i, manual_tier="tier_1") for i in range(5)]

    result = tier_accounts(m, accounts, {}, NOW)

    kept = {d.key for d in result.decisions if d.rule == "override"}
    assert {"p0", "p1", "p2"} == kept
    assert ("p3", "p4") == result.stats.pins_over_limit
    fallen = next(d for d in result.decisions if d.key == "p4")
    assert ("tier_2", "override_limit") == (fallen.tier, fallen.rule)
    assert "past overrides.max_per_tier (3" in fallen.reason
    assert any(
        "2 pin(s) past overrides.max_per_tier (3)" in note for note in result.stats.capacity_notes
    )


def test_a_share_limit_is_a_share_of_the_tiers_capacity() -> None:
    tiers = (
        "tiers:\n  - {id: tier_1, label: Strategic, min_score: 80, capacity: 8}\n"
        "  - {id: tier_2, label: Core, min_score: 20}\n"
    )
    m = with_tiers(tiers, "overrides:\n  max_per_tier: '25%'\n")
    accounts = [account(f"p{i}", 50 - i, manual_tier="tier_1") for i in range(5)]

    result = tier_accounts(m, accounts, {}, NOW)

    assert 2 == sum(1 for d in result.decisions if d.rule == "override")


def test_a_tier_over_capacity_by_pins_is_said_so_in_the_stats() -> None:
    tiers = (
        "tiers:\n  - {id: tier_1, label: Strategic, min_score: 80, capacity: 2}\n"
        "  - {id: tier_2, label: Core, min_score: 20}\n"
    )
    m = with_tiers(tiers)
    accounts = [account(f"p{i}", 50, manual_tier="tier_1") for i in range(5)]

    result = tier_accounts(m, accounts, {}, NOW)

    assert ("tier_1 Strategic: 5 accounts, capacity 2 (2.5x over; 5 pinned)",) == (
        result.stats.capacity_notes
    )


def test_distance_to_the_next_tier_names_the_gap_and_the_cheapest_lever() -> None:
    m = model()
    result = tier_accounts(m, [account("a", 74), account("top", 90)], {}, NOW)

    decision = next(d for d in result.decisions if d.key == "a")
    assert "+6 pts to Tier 1 Strategic: size 74→80 is the cheapest lever" == decision.next_tier
    assert decision.reason.endswith(decision.next_tier)
    assert "" == next(d for d in result.decisions if d.key == "top").next_tier


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "owner_groups:\n  - id: g\n    owners: [u1]\n    capacity: {tier_9: 3}\n",
            "owner_groups[0].capacity.tier_9: unknown tier 'tier_9'",
        ),
        (
            "owner_groups:\n  - id: g\n    owners: [u1]\n    capacity: {tier_1: 0}\n",
            "owner_groups[0].capacity.tier_1: must be a positive integer",
        ),
        ("overrides:\n  max_per_tier: lots\n", "overrides.max_per_tier: must be a number of pins"),
        (
            "overrides:\n  max_per_tier: '250%'\n",
            "overrides.max_per_tier: must be a number of pins",
        ),
    ],
)
def test_bad_coverage_keys_name_file_line_and_key(extra: str, expected: str) -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(BASE_MODEL + extra)

    assert expected in str(caught.value)
    assert str(caught.value).startswith("model.yaml:")


def test_the_rebalance_proposal_moves_overflow_to_owners_with_room_in_the_same_group() -> None:
    from tierwise.tiering.capacity import propose_rebalance

    m = with_tiers(BOOKS)
    accounts = [
        owned("a", 99, "u1"),
        owned("b", 95, "u1"),
        owned("c", 90, "u1"),
        owned("d", 85, "u2"),
        owned("e", 50, "u3"),
    ]
    result = tier_accounts(m, accounts, {}, NOW)

    moves = propose_rebalance(m, list(result.decisions), result.stats.owner_load)

    assert [("c", "u1", "u3", "tier_1")] == [
        (mv.account, mv.from_owner, mv.to_owner, mv.tier) for mv in moves
    ]


WINDOWED = """\
triggers:
  - name: intent_spike
    label: intent spike
    when:
      - {field: intent_surge, is: true}
    then: {promote: 1, for_days: 60}
stability:
  hysteresis_points: 5
  min_dwell_days: 90
"""


def _run(
    m: TieringModel,
    surge: bool,
    day: int,
    windows: dict[str, Window],
    history: dict[str, AccountHistory],
) -> tuple[Decision, dict[str, Window], dict[str, AccountHistory]]:
    now = NOW + timedelta(days=day)
    result = tier_accounts(m, [account("a", 65, intent_surge=surge)], history, now, windows)
    (decision,) = list(result.decisions)
    since = history["a"].tier_since if history and history["a"].tier == decision.tier else now
    return decision, dict(result.windows), {"a": AccountHistory(decision.tier, since)}


def test_an_outreach_window_holds_the_promotion_then_ends_with_the_reason() -> None:
    m = model(WINDOWED)

    first, windows, history = _run(m, True, 0, {}, {})
    assert ("tier_1", "trigger:intent_spike") == (first.tier, first.rule)
    assert "window until 2027-01-23" in first.reason
    assert {"a"} == set(windows)

    held, windows, history = _run(m, False, 30, windows, history)
    assert ("tier_1", "window") == (held.tier, held.rule)
    assert "held by outreach window from intent spike until 2027-01-23" in held.reason

    ended, windows, history = _run(m, False, 60, windows, history)
    assert "tier_2" == ended.tier
    assert "window from intent spike ended 2027-01-23" in ended.reason
    assert {} == windows


def test_a_trigger_still_firing_after_its_window_does_not_renew_it_until_it_stops_once() -> None:
    m = model(WINDOWED)
    _first, windows, history = _run(m, True, 0, {}, {})

    ended, windows, history = _run(m, True, 61, windows, history)
    assert "tier_2" == ended.tier
    assert {"a"} == set(windows)

    _quiet, windows, history = _run(m, False, 62, windows, history)
    assert {} == windows
    again, windows, history = _run(m, True, 63, windows, history)
    assert ("tier_1", "trigger:intent_spike") == (again.tier, again.rule)
    assert {"a"} == set(windows)


def test_for_days_only_holds_promotions() -> None:
    with pytest.raises(ModelError) as caught:
        model(
            "triggers:\n  - name: t\n    when:\n      - {field: intent_surge, is: true}\n"
            "    then: {demote: 1, for_days: 30}\n"
        )

    assert "triggers[0].then.for_days: an outreach window holds a promotion" in str(caught.value)


def test_the_default_model_shows_per_owner_capacity_and_a_commented_windowed_trigger() -> None:
    bundled = Path(__file__).resolve().parents[2] / "config" / "model.yaml"
    text = bundled.read_text(encoding="utf-8")

    assert 20 == parse_model(text).tiers[0].per_owner_capacity
    uncommented = (
        text.replace("  # - name: exec_hire", "  - name: exec_hire")
        .replace("  #   label: new executive", "    label: new executive")
        .replace(
            "  #   when:\n  #     - {field: exec_hire_date",
            "    when:\n      - {field: exec_hire_date",
        )
        .replace("  #   then: {promote: 1, for_days: 60}", "    then: {promote: 1, for_days: 60}")
        .replace("  payment_risk: string", "  payment_risk: string\n  exec_hire_date: date")
    )
    windowed = parse_model(uncommented)
    assert 60 == next(t for t in windowed.triggers if t.name == "exec_hire").for_days


def test_an_open_deal_puts_the_account_in_pipeline_outside_capacity_and_back_when_it_closes() -> (
    None
):
    tiers = (
        "tiers:\n  - {id: tier_1, label: Strategic, min_score: 80, capacity: 1}\n"
        "  - {id: tier_2, label: Core, min_score: 20}\n"
    )
    pipeline = (
        "pipeline:\n  label: Active pipeline\n  when:\n"
        "    - {field: web_visits, at_least: 1}\n"
        "  play: {name: Deal support, motion: Help close, sla_hours: 24}\n"
    )
    m = with_tiers(tiers, pipeline)

    dealing = tier_accounts(m, [account("deal", 99, web_visits=2.0), account("b", 90)], {}, NOW)
    by_key = {d.key: d for d in dealing.decisions}
    assert ("pipeline", "pipeline") == (by_key["deal"].tier, by_key["deal"].rule)
    assert "Deal support" == by_key["deal"].play.name  # type: ignore[union-attr]  # has a play
    assert "tier_1" == by_key["b"].tier  # the deal does not take Strategic's one seat
    assert {"pipeline": 1} == {
        t.tier: t.accounts for t in dealing.stats.per_tier if t.tier == "pipeline"
    }

    history = {"deal": AccountHistory("pipeline", NOW), "b": AccountHistory("tier_1", NOW)}
    closed = tier_accounts(m, [account("deal", 99), account("b", 90)], history, NOW)
    back = next(d for d in closed.decisions if d.key == "deal")
    assert ("tier_1", "pipeline") == (back.tier, back.previous_tier)


def test_spend_per_tier_and_what_it_bought_over_the_untiered_baseline() -> None:
    from tierwise.tiering.spend import TierOutcome, spend_rows

    rows = spend_rows(
        {"tier_1": 50.0, "tier_2": None},
        {"tier_1": TierOutcome(10, 30000.0, 10000.0), "tier_2": TierOutcome(20, 1000.0, 0.0)},
        TierOutcome(100, 50000.0, 10000.0),
    )

    first, second = rows
    assert (500.0, 60.0, 20.0) == (
        first.planned_spend,
        first.pipeline_per_spend,
        first.revenue_per_spend,
    )
    # (3,000 - 500 pipeline per account) / 50 per account; (1,000 - 100) / 50
    assert (50.0, 18.0) == (
        first.incremental_pipeline_per_spend,
        first.incremental_revenue_per_spend,
    )
    assert (None, None) == (second.planned_spend, second.incremental_pipeline_per_spend)


def test_an_owner_group_by_a_mapped_field_caps_each_owners_book_of_that_segment() -> None:
    fields = BASE_MODEL.replace("fields:\n", "fields:\n  segment: string\n", 1)
    base = fields[: fields.index("tiers:")] + BOOKS
    m = model(
        "owner_groups:\n  - id: mid_market\n    label: mid-market AEs\n"
        "    field: segment\n    values: [mid_market]\n    capacity: {tier_1: 1}\n",
        base=base,
    )
    accounts = [
        owned("m1", 99, "u1", segment="mid_market"),
        owned("m2", 98, "u1", segment="mid_market"),
        owned("e1", 97, "u1", segment="enterprise"),
        owned("e2", 96, "u1", segment="enterprise"),
    ]

    result = tier_accounts(m, accounts, {}, NOW)

    tiers = {d.key: d.tier for d in result.decisions}
    assert {"m1": "tier_1", "m2": "tier_2", "e1": "tier_1", "e2": "tier_1"} == tiers
    reason = next(d.reason for d in result.decisions if d.key == "m2")
    assert "mid-market AEs book full (1/1 in Tier 1 Strategic)" in reason
    load = {(r.owner, r.group, r.tier): (r.load, r.cap) for r in result.stats.owner_load}
    assert (1, 1) == load[("u1", "mid-market AEs", "tier_1")]
    assert (2, 2) == load[("u1", "", "tier_1")]


def test_an_owner_group_needs_owners_or_a_field() -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(BASE_MODEL + "owner_groups:\n  - id: g\n    capacity: {tier_1: 3}\n")

    assert "owner_groups[0]: needs either owners" in str(caught.value)
