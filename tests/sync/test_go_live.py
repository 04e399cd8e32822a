# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""A safe go-live (issue 12): the first run against an org tiers everyone and writes the
tier fields but creates no entry tasks unless backfill is asked for; the per-owner daily
cap defers the rest to later days, in priority order, each still created exactly once
(also when a run dies between the CRM's create and the ledger); unmapped inputs are
listed once per run."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.sync.fakes import FakeCrm, seed
from tests.sync.test_engine import Clock
from tierwise.config.settings import Settings
from tierwise.connectors.base import TaskOutcome, TaskRequest
from tierwise.connectors.errors import RetriableError
from tierwise.sync.bootstrap import App, bootstrap
from tierwise.sync.report import summary
from tierwise.sync.state import StateStore


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def crms(clock: Clock) -> tuple[FakeCrm, FakeCrm]:
    sf, hs = FakeCrm("salesforce", clock), FakeCrm("hubspot", clock)
    seed(sf, 120)
    seed(hs, 100)
    return sf, hs


def make_app(store: StateStore, crms: tuple[FakeCrm, ...], clock: Clock, **settings: Any) -> App:
    return bootstrap(
        Settings(_env_file=None, **settings),
        store=store,
        connectors=list(crms),  # type: ignore[arg-type]  # FakeCrm lacks pull_opportunities, so is no full Connector
        clock=clock,
    )


def test_the_first_run_tiers_everyone_writes_the_fields_and_creates_no_task(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, hs = crms
    report = make_app(store, crms, clock).engine.run(full=True).report

    assert "ok" == report.status
    assert {"salesforce": 120, "hubspot": 100} == report.writes
    assert all(w.tier is not None for w in sf.written().values())
    assert (0, 0) == (len(sf.tasks), len(hs.tasks))
    assert (True, False, 120, 0) == (
        report.first_run,
        report.backfill,
        report.newly_tiered,
        report.tier_changes,
    )
    assert report.tasks_held > 0
    assert 0 == report.tasks_planned
    text = summary(report)
    assert "first run: 120 accounts tiered for the first time" in text
    assert "0 tier changes" not in text
    assert f"go-live: {report.tasks_held} entry tasks not created" in text
    assert "--backfill-tasks" in text


def test_later_runs_create_tasks_on_real_tier_entries_only(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, _ = crms
    make_app(store, crms, clock).engine.run(full=True)
    weakest = min(sf.accounts, key=lambda i: sf.accounts[i].fields["employees"] or 0.0)
    assert sf.written()[weakest].tier not in ("tier_1", "tier_2")
    clock.jump(timedelta(hours=1))
    # The weakest account turns into the best one: a real entry into Strategic.
    best = sf.accounts[max(sf.accounts, key=lambda i: sf.accounts[i].fields["employees"] or 0.0)]
    sf.edit(weakest, fields={**best.fields, "open_pipeline": 2e6, "intent_score": 100.0})

    second = make_app(store, crms, clock).engine.run().report

    assert (False, 0) == (second.first_run, second.tasks_held)
    assert "tier_1" == sf.written()[weakest].tier
    assert {weakest} == {t.request.crm_account_id for t in sf.tasks.values()}
    assert 2 == second.tasks_created["salesforce"]  # the Strategic play's two tasks
    assert "accounts tiered for the first time" not in summary(second)


def test_backfill_creates_the_entry_tasks_of_the_first_run(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, _ = crms
    report = make_app(store, crms, clock, backfill_tasks=True).engine.run(full=True).report

    assert (True, True, 0) == (report.first_run, report.backfill, report.tasks_held)
    assert report.tasks_planned == report.tasks_created["salesforce"] == len(sf.tasks) > 0
    assert "go-live backfill: entry tasks created" in summary(report)


def _reference_keys(clock: Clock) -> dict[str, TaskRequest]:
    """The tasks one uninterrupted, uncapped backfilled first run creates."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = StateStore.from_url(f"sqlite:///{Path(tmp) / 'ref.db'}")
        store.migrate()
        ref_clock = Clock()
        sf, hs = FakeCrm("salesforce", ref_clock), FakeCrm("hubspot", ref_clock)
        seed(sf, 120)
        seed(hs, 100)
        make_app(store, (sf, hs), ref_clock, backfill_tasks=True).engine.run(full=True)
        store.dispose()
    return {k: t.request for k, t in sf.tasks.items()}


def _owner_days(sf: FakeCrm, created_on: dict[str, int]) -> Counter[tuple[str | None, int]]:
    return Counter((sf.tasks[k].request.owner_id, day) for k, day in created_on.items())


def test_the_daily_cap_defers_by_priority_and_creates_each_task_once_on_later_days(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, _ = crms
    reference = _reference_keys(clock)
    cap = 10
    created_on: dict[str, int] = {}
    reports = []
    for day in range(8):
        for _hourly in range(2):  # two runs a day: the cap is per day, not per run
            report = (
                make_app(store, crms, clock, backfill_tasks=True, tasks_per_owner_per_day=cap)
                .engine.run(full=day == 0)
                .report
            )
            assert "ok" == report.status, report.message
            reports.append(report)
            for key in sf.tasks:
                created_on.setdefault(key, day)
            clock.jump(timedelta(hours=1))
        clock.jump(timedelta(days=1, hours=-2))

    # Every task of the uncapped run, under the same key, exactly once (the fake's task
    # store is keyed, so a second create under one key would show as "existing").
    assert set(reference) == set(sf.tasks)
    assert 0 == sum(sum(r.tasks_existing.values()) for r in reports)
    assert all(n <= cap for n in _owner_days(sf, created_on).values())
    first = reports[0]
    assert first.tasks_deferred == len(reference) - sum(first.tasks_created.values()) > 0
    assert "tasks deferred (over TIERWISE_TASKS_PER_OWNER_PER_DAY)" in summary(first)
    # Priority: on day one the account owner's budget went to Strategic tasks first.
    day_one = [sf.tasks[k].request for k, d in created_on.items() if d == 0]
    owners = [r for r in day_one if r.owner_id == "owner-1"]
    assert cap == len(owners)
    assert {"Build account plan", "Executive sponsor outreach"} >= {r.subject for r in owners}
    assert 0 == sum(r.tasks_deferred for r in reports[-2:])
    assert [] == store.tasks(status="deferred")


def test_a_deferred_task_whose_create_dies_in_flight_is_created_exactly_once(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, _ = crms
    reference = _reference_keys(clock)
    settings = {"backfill_tasks": True, "tasks_per_owner_per_day": 10}
    make_app(store, crms, clock, **settings).engine.run(full=True)
    deferred = {t.key for t in store.tasks(status="deferred")}
    assert deferred
    clock.jump(timedelta(days=1))

    # Day two: the CRM commits the creates, then the connection drops before the answer.
    original = sf.ensure_tasks
    seen: list[TaskRequest] = []

    def create_then_drop(tasks: list[TaskRequest]) -> TaskOutcome:
        seen.extend(tasks)
        original(tasks)
        raise RetriableError("connection reset after the create", system="salesforce")

    sf.ensure_tasks = create_then_drop  # type: ignore[method-assign,assignment]  # a test double; it takes list, the method Sequence
    died = make_app(store, crms, clock, **settings).engine.run().report
    assert "ok" != died.status
    attempted = {r.key for r in seen}
    assert attempted
    assert attempted <= deferred
    assert attempted <= {t.key for t in store.tasks(status="pending")}

    sf.ensure_tasks = original  # type: ignore[method-assign]  # restores the bound method patched above
    retried: list[TaskRequest] = []

    def spy(tasks: list[TaskRequest]) -> TaskOutcome:
        retried.extend(tasks)
        return original(tasks)

    sf.ensure_tasks = spy  # type: ignore[method-assign,assignment]  # a test double; it takes list, the method Sequence
    clock.jump(timedelta(minutes=5))
    again = make_app(store, crms, clock, **settings).engine.run().report
    assert "ok" == again.status, again.message
    # The pending keys are checked in the CRM, found, and not created a second time.
    assert {r.key for r in retried if r.verify_existing} >= attempted
    assert again.tasks_existing["salesforce"] >= len(attempted)
    for _day in range(10):
        clock.jump(timedelta(days=1))
        make_app(store, crms, clock, **settings).engine.run()
    assert set(reference) == set(sf.tasks)
    assert [] == store.tasks(status="deferred")
    assert {t.key for t in store.tasks(status="created")} == set(reference)


def test_a_deferred_task_of_a_tier_left_is_dropped_not_created(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, _ = crms
    settings = {"backfill_tasks": True, "tasks_per_owner_per_day": 1}
    make_app(store, crms, clock, **settings).engine.run(full=True)
    waiting = {t.account_key: t for t in store.tasks(status="deferred") if t.tier == "tier_2"}
    _account, task = next(iter(sorted(waiting.items())))
    crm_id = task.crm_account_id
    clock.jump(timedelta(days=1))
    # The account pins itself to Nurture (a manual override): it leaves Core at once.
    sf.edit(crm_id, manual_tier="tier_4")

    report = make_app(store, crms, clock, **settings).engine.run().report

    assert "tier_4" == sf.written()[crm_id].tier
    assert report.tasks_dropped >= 1
    assert task.key not in sf.tasks
    assert "dropped" == {t.key: t.status for t in store.tasks()}[task.key]


def test_unmapped_inputs_are_listed_once_in_the_summary_and_the_report(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock, tmp_path: Path
) -> None:
    sf, hs = crms
    sf.unmapped = {
        "intent_score": "not mapped",
        "intent_surge": "not mapped",
        "web_visits": "no field Website_Sessions_30d__c",
    }
    hs.unmapped = {"payment_risk": "not mapped"}

    report = make_app(store, crms, clock).engine.run(full=True).report

    assert "ok" == report.status
    text = summary(report)
    assert (
        "  salesforce: not mapped: intent_score, intent_surge, web_visits (no field "
        "Website_Sessions_30d__c) (scored as missing)"
    ) in text.splitlines()
    assert "  hubspot: not mapped: payment_risk (scored as missing)" in text.splitlines()
    assert 1 == text.count("salesforce: not mapped")
    data = json.loads(report.write(tmp_path).read_text(encoding="utf-8"))
    assert {"salesforce": sf.unmapped, "hubspot": hs.unmapped} == data["unmapped_inputs"]
