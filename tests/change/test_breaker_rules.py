# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The breaker's arithmetic on plain records: what counts as a tier change and a clear."""

from __future__ import annotations

from tierwise.connectors.base import AccountUpdate, TierwiseValues
from tierwise.sync.change.breaker import BlastRadius, blast_radius, trips
from tierwise.sync.records import FieldChanges, MergedAccount, Plan, Snapshot
from tierwise.tiering.records import FieldValue


def account(key: str, tier: str | None) -> MergedAccount:
    record = Snapshot(
        system="salesforce",
        crm_id=key,
        key=key,
        domain=None,
        name=None,
        owner_id=None,
        modified_at=None,
        fields={},
        written=TierwiseValues(tier=tier),
    )
    return MergedAccount(key, (record,), {}, None, None)


def changes_of(*rows: tuple[str, str, str | None, str | None]) -> FieldChanges:
    """Plan changes of (account key, field, old, new): one update per row."""
    changes = FieldChanges()
    for key, field, old, new in rows:
        held = TierwiseValues(**{field: old})
        changes.add("salesforce", AccountUpdate(key, {field: new}), key, None, held)
    return changes


def test_the_first_tiering_of_an_org_is_not_a_change() -> None:
    accounts = [account(f"a{i}", None) for i in range(10)]
    plan = Plan(changes=changes_of(*[(f"a{i}", "tier", None, "tier_1") for i in range(10)]))

    radius = blast_radius(accounts, plan)

    assert BlastRadius(tiered=0, moved=0, cleared=0) == radius
    assert trips(radius, 0.2, 100) is None


def test_three_of_ten_tiered_accounts_moving_trips_a_20_percent_breaker() -> None:
    accounts = [account(f"a{i}", "tier_2") for i in range(10)]
    plan = Plan(changes=changes_of(*[(f"a{i}", "tier", "tier_2", "tier_3") for i in range(3)]))

    radius = blast_radius(accounts, plan)

    assert (10, 3) == (radius.tiered, radius.moved)
    reason = trips(radius, 0.2, None)
    assert reason is not None
    assert "3 of 10 tiered accounts (30%" in reason
    assert trips(radius, 0.3, None) is None


def test_clearing_more_tier_fields_than_allowed_trips_the_breaker() -> None:
    accounts = [account(f"a{i}", "tier_2") for i in range(10)]
    plan = Plan(changes=changes_of(*[(f"a{i}", "customer_tier", "grow", None) for i in range(4)]))

    reason = trips(blast_radius(accounts, plan), 0.9, 3)

    assert reason is not None
    assert "clear 4 tier fields" in reason


def test_the_engines_update_by_update_plan_counts_as_its_field_changes_do() -> None:
    """The engine's plan is read update by update (no object per changed field): it must
    count exactly what the same changes as a list count."""
    accounts = [account(f"a{i}", "tier_2" if i % 2 else None) for i in range(12)]
    changes = FieldChanges()
    for i, a in enumerate(accounts):
        held = a.records[0].written
        values: dict[str, FieldValue] = {"score": 50.0}
        if i % 3 == 0:
            values["tier"] = "tier_1"
        if i % 4 == 1:
            values["tier"] = None
        if i % 5 == 0:
            values["customer_tier"] = None
        changes.add("salesforce", AccountUpdate(a.key, values), a.key, None, held)

    by_update = blast_radius(accounts, Plan(changes=changes))

    # The same count made from the plan's field changes one object per field.
    tiered = {a.key for a in accounts if a.records[0].written.tier}
    replaced = [c for c in changes if c.field in ("tier", "customer_tier") and c.old is not None]
    moved = {c.key for c in replaced if c.field == "tier" and c.key in tiered}
    cleared = sum(c.new is None for c in replaced)
    assert (len(tiered), len(moved), cleared) == (6, 4, 3)
    assert BlastRadius(6, 4, 3) == by_update
