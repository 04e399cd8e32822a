# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Planning customer tiers beside prospect tiers (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.sync.test_plan import NOW, TODAY, decide, snap
from tierwise.connectors.base import TierwiseValues
from tierwise.sync.desired import diff_values
from tierwise.sync.merge import merge_accounts
from tierwise.sync.plan import CUSTOMER_KEY, plan_run, task_key
from tierwise.sync.state import TaskRecord
from tierwise.tiering.records import Play, TaskTemplate

EXPANSION = Play(
    name="Expansion",
    motion="grow",
    sla_hours=72,
    tasks=(TaskTemplate(subject="Plan expansion with the customer", due_business_days=10),),
)
RETENTION = Play(name="Retention", motion="keep", sla_hours=120)


def test_customer_fields_ride_in_the_same_one_update_per_record() -> None:
    accounts = merge_accounts(
        [snap("salesforce", "1", "a.com"), snap("salesforce", "2", "b.com")], "salesforce", TODAY
    )
    decisions = {k: decide(k, "tier_2", 60.0) for k in ("a.com", "b.com")}
    customers = {"a.com": decide("a.com", "grow", 71.26, play=EXPANSION)}
    plan = plan_run(accounts, decisions, [], NOW, customer_decisions=customers)
    updates = {u.crm_id: u.values for u in plan.updates["salesforce"]}
    assert 2 == len(plan.updates["salesforce"])
    assert ("grow", 71.3, "Expansion") == (
        updates["1"]["customer_tier"],
        updates["1"]["customer_score"],
        updates["1"]["customer_play"],
    )
    assert "tier" in updates["1"]
    assert not {n for n in updates["2"] if n.startswith("customer_")}


def test_customer_play_tasks_have_their_own_keys_and_are_planned_once() -> None:
    accounts = merge_accounts([snap("salesforce", "1", "a.com")], "salesforce", TODAY)
    decisions = {"a.com": decide("a.com", "tier_1", 90.0)}
    customers = {"a.com": decide("a.com", "grow", 70.0, play=EXPANSION)}
    first = plan_run(accounts, decisions, [], NOW, customer_decisions=customers)
    keys = {t.request.subject: t for t in first.tasks}
    customer_task = keys["Plan expansion with the customer"]
    assert task_key(CUSTOMER_KEY + "a.com", "Expansion", TODAY) == customer_task.request.key
    assert CUSTOMER_KEY + "a.com" == customer_task.account_key
    assert 2 == len({t.request.key for t in first.tasks})
    ledger = [
        TaskRecord(
            t.request.key, "salesforce", f"T{i}", t.account_key, "1", t.tier, "created", None
        )
        for i, t in enumerate(first.tasks)
    ]
    held = snap("salesforce", "1", "a.com", written=first.desired[("salesforce", "1")])
    second = plan_run(
        merge_accounts([held], "salesforce", TODAY),
        {"a.com": decide("a.com", "tier_1", 90.0, previous="tier_1")},
        ledger,
        NOW,
        customer_decisions={"a.com": decide("a.com", "grow", 70.0, "grow", play=EXPANSION)},
    )
    assert (0, [], []) == (second.write_count, second.tasks, second.closes)


def test_leaving_a_customer_tier_closes_only_the_customer_task() -> None:
    held = TierwiseValues(tier="tier_1", customer_tier="grow")
    accounts = merge_accounts([snap("salesforce", "1", "a.com", held)], "salesforce", TODAY)
    ledger = [
        TaskRecord("p", "salesforce", "TP", "a.com", "1", "tier_1", "created", None),
        TaskRecord("c", "salesforce", "TC", CUSTOMER_KEY + "a.com", "1", "grow", "created", None),
    ]
    plan = plan_run(
        accounts,
        {"a.com": decide("a.com", "tier_1", 90.0, previous="tier_1")},
        ledger,
        NOW,
        customer_decisions={"a.com": decide("a.com", "defend", 40.0, "grow", play=RETENTION)},
    )
    assert [("c", "TC")] == [(c.task_key, c.crm_task_id) for c in plan.closes]


def test_an_account_no_longer_a_customer_has_its_customer_fields_emptied() -> None:
    held = TierwiseValues(customer_tier="monitor", customer_score=12.0, customer_reason="x")
    accounts = merge_accounts([snap("salesforce", "1", "a.com", held)], "salesforce", TODAY)
    plan = plan_run(
        accounts, {"a.com": decide("a.com", "tier_3", 30.0)}, [], NOW, customer_decisions={}
    )
    [update] = plan.updates["salesforce"]
    assert (None, None, None) == (
        update.values["customer_tier"],
        update.values["customer_score"],
        update.values["customer_reason"],
    )


def test_with_customer_tiers_off_held_customer_values_are_left_alone() -> None:
    held = TierwiseValues(customer_tier="grow", customer_score=80.0)
    accounts = merge_accounts([snap("salesforce", "1", "a.com", held)], "salesforce", TODAY)
    plan = plan_run(accounts, {"a.com": decide("a.com", "tier_3", 30.0)}, [], NOW)
    [update] = plan.updates["salesforce"]
    assert not {n for n in update.values if n.startswith("customer_")}


def test_a_reworded_customer_reason_alone_is_not_written() -> None:
    held = TierwiseValues(tier="tier_1", customer_tier="grow", customer_reason="old words")
    assert {} == diff_values(held, replace(held, customer_reason="new words"))
    assert {"customer_tier": "defend", "customer_reason": "new"} == diff_values(
        held, replace(held, customer_tier="defend", customer_reason="new")
    )


def test_a_rerun_days_after_a_crash_derives_the_same_customer_task_key_from_the_crm() -> None:
    # The first run wrote grow + its tier-changed date, created the task, then died before
    # recording anything; the history still says "not grow", so the rerun plans the entry again.
    entered = TODAY - timedelta(days=3)
    held = TierwiseValues(customer_tier="grow", customer_tier_changed=entered)
    accounts = merge_accounts([snap("salesforce", "1", "a.com", held)], "salesforce", TODAY)

    plan = plan_run(
        accounts,
        {"a.com": decide("a.com", "tier_1", 90.0, previous="tier_1")},
        [],
        NOW,
        customer_decisions={"a.com": decide("a.com", "grow", 70.0, play=EXPANSION)},
    )

    [task] = [t for t in plan.tasks if t.account_key == CUSTOMER_KEY + "a.com"]
    assert task_key(CUSTOMER_KEY + "a.com", "Expansion", entered) == task.request.key
    assert entered == plan.desired[("salesforce", "1")].customer_tier_changed
