# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The sync cycle end to end against in-memory CRMs and a real state store."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.sync.fakes import FakeCrm, seed
from tierwise.config.settings import Settings
from tierwise.connectors.base import AccountUpdate, WriteOutcome
from tierwise.connectors.errors import AuthenticationError, QuotaExhaustedError
from tierwise.sync.bootstrap import App, bootstrap
from tierwise.sync.state import StateStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now

    def jump(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def crms(clock: Clock) -> tuple[FakeCrm, FakeCrm]:
    sf, hs = FakeCrm("salesforce", clock), FakeCrm("hubspot", clock)
    seed(sf, 120)
    seed(hs, 100)  # the first 100 companies are in both CRMs
    return sf, hs


def make_app(
    store: StateStore,
    crms: tuple[FakeCrm, FakeCrm],
    clock: Clock,
    stop: threading.Event | None = None,
    **settings: Any,
) -> App:
    return bootstrap(
        Settings(_env_file=None, **settings),
        store=store,
        connectors=list(crms),  # type: ignore[arg-type]  # FakeCrm lacks pull_opportunities, so is no full Connector
        clock=clock,
        stop=stop,
    )


def test_first_run_tiers_everyone_and_writes_one_decision_to_both_crms(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, hs = crms
    report = make_app(store, crms, clock).engine.run(full=True).report
    assert "ok" == report.status
    assert 120 == report.accounts
    assert {"salesforce": 120, "hubspot": 100} == report.writes
    assert sf.written()["sa0042"] == hs.written()["hu0042"]
    assert None is not sf.written()["sa0042"].tier
    assert 120 == sum(report.per_tier.values())


def test_freed_memory_goes_back_between_the_steps_before_any_write(
    store: StateStore,
    crms: tuple[FakeCrm, FakeCrm],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After gather, decide and plan (sync/memory.py): each trim sees both CRMs pulled
    and nothing written yet."""
    seen: list[tuple[int, int]] = []

    def trim() -> None:
        seen.append(
            (sum(c.calls.get("read", 0) for c in crms), sum(c.calls.get("write", 0) for c in crms))
        )

    monkeypatch.setattr("tierwise.sync.engine.release_free_memory", trim)
    report = make_app(store, crms, clock).engine.run(full=True).report
    assert "ok" == report.status
    assert 3 == len(seen)
    assert all(pulls >= 2 and writes == 0 for pulls, writes in seen)
    assert sum(report.writes.values()) > 0


def test_each_report_counts_its_own_api_calls_when_one_worker_runs_many(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    """``tierwise schedule`` keeps one app (and its connectors) for every run: the second
    run's report, its minimum ratio and the metrics it feeds count that run alone."""
    sf, _hs = crms
    app = make_app(store, crms, clock)
    first = app.engine.run(full=True).report
    before = dict(sf.calls)
    clock.jump(timedelta(hours=1))
    second = app.engine.run().report
    made = {k: n - before.get(k, 0) for k, n in sf.calls.items() if n - before.get(k, 0)}

    assert sum(before.values()) == first.api_calls["salesforce"]["total"]
    assert made == second.api_calls["salesforce"]["calls"]
    assert sum(made.values()) == second.api_calls["salesforce"]["total"]
    assert second.api_calls["salesforce"]["total"] < sum(sf.calls.values())


def test_second_run_writes_nothing_and_creates_no_tasks(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    # Backfill: this test is about tasks created once, not about the go-live policy.
    app = make_app(store, crms, clock, backfill_tasks=True)
    first = app.engine.run(full=True).report
    tasks_after_first = {k: len(c.tasks) for k, c in zip(("sf", "hs"), crms, strict=True)}
    write_calls_after_first = [c.calls.get("write", 0) for c in crms]
    assert sum(first.tasks_created.values()) > 0
    clock.jump(timedelta(hours=1))
    second = app.engine.run().report
    assert "ok" == second.status
    assert {} == second.writes
    assert 0 == sum(second.tasks_created.values())
    assert tasks_after_first == {k: len(c.tasks) for k, c in zip(("sf", "hs"), crms, strict=True)}
    assert write_calls_after_first == [c.calls.get("write", 0) for c in crms]


def test_tasks_go_to_the_primary_crm_only(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    report = make_app(store, crms, clock, backfill_tasks=True).engine.run(full=True).report
    assert {"salesforce": report.tasks_planned} == report.tasks_created
    assert 0 == len(crms[1].tasks)


def test_a_dry_run_writes_nothing_anywhere(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    outcome = make_app(store, crms, clock).engine.run(full=True, dry_run=True)
    assert "dry_run" == outcome.report.status
    assert 220 == sum(outcome.report.planned_writes.values())
    assert 0 == crms[0].calls.get("write", 0) + crms[1].calls.get("write", 0)
    assert [] == [c for c in crms if c.tasks]
    assert [] == store.snapshots()
    assert 0 == store.count_history()
    assert None is store.watermark("salesforce", "accounts")


def test_a_read_failing_midway_fails_the_run_and_writes_nothing(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    crms[1].fail_pull_after = 50
    report = make_app(store, crms, clock).engine.run(full=True).report
    assert "failed" == report.status
    assert 1 == report.exit_code
    assert "QUERY_TIMEOUT" in report.message
    assert 0 == crms[0].calls.get("write", 0)
    assert "failed" == store.list_runs()[0].status


def test_quota_exhaustion_defers_the_run(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    crms[0].raise_on["write"] = QuotaExhaustedError("daily API limit reached", system="salesforce")
    report = make_app(store, crms, clock).engine.run(full=True).report
    assert ("deferred", 6) == (report.status, report.exit_code)


def test_an_authentication_error_exits_3_before_any_read(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    crms[1].raise_on["auth"] = AuthenticationError(
        "token rejected: TIERWISE_HUBSPOT__ACCESS_TOKEN", system="hubspot"
    )
    report = make_app(store, crms, clock).engine.run(full=True).report
    assert ("authentication", 3) == (report.status, report.exit_code)
    assert 0 == crms[0].calls.get("read", 0)


def test_per_record_failures_make_a_partial_run_that_the_next_run_repairs(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, _ = crms
    sf.fail_write_ids = {"sa0003", "sa0007"}
    app = make_app(store, crms, clock)
    report = app.engine.run(full=True).report
    assert ("partial", 4) == (report.status, report.exit_code)
    assert {"sa0003", "sa0007"} == {e["crm_id"] for e in report.errors}
    assert None is sf.written()["sa0003"].tier
    sf.fail_write_ids = set()
    clock.jump(timedelta(hours=1))
    again = app.engine.run().report
    assert ("ok", {"salesforce": 2}) == (again.status, again.writes)
    assert None is not sf.written()["sa0003"].tier


def test_a_held_lock_makes_the_other_run_exit_5_without_touching_crms(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    holder = store.lock("other-worker")
    holder.acquire()
    try:
        report = make_app(store, crms, clock).engine.run(full=True).report
    finally:
        holder.release()
    assert ("locked", 5) == (report.status, report.exit_code)
    assert {} == crms[0].calls


def test_incremental_run_pulls_only_changes_but_tiers_the_whole_population(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, _ = crms
    app = make_app(store, crms, clock)
    app.engine.run(full=True)
    clock.jump(timedelta(hours=1))
    app.engine.run()  # re-reads what the first run wrote
    clock.jump(timedelta(hours=1))
    sf.edit("sa0110", fields={**sf.accounts["sa0110"].fields, "intent_score": 0.0})
    report = app.engine.run().report
    # The edited record, plus records on the watermark boundary (inclusive start).
    assert report.pulled["salesforce"] <= 2
    assert report.pulled["hubspot"] <= 1
    assert "sa0110" in {s.crm_id for s in store.snapshots() if s.fields.get("intent_score") == 0.0}
    assert 120 == report.accounts


def test_a_corrupt_or_future_watermark_triggers_a_full_reconcile(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    app = make_app(store, crms, clock)
    app.engine.run(full=True)
    store.set_watermark("salesforce", "accounts", "garbage", clock())
    store.set_watermark("hubspot", "accounts", "2099-01-01T00:00:00+00:00", clock())
    report = app.engine.run().report
    assert {"salesforce": 120, "hubspot": 100} == report.pulled
    assert {"salesforce", "hubspot"} == set(report.full_reconcile)


def test_a_hand_edited_tier_is_honoured_and_reported(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, hs = crms
    app = make_app(store, crms, clock)
    app.engine.run(full=True)
    held = sf.accounts["sa0001"].written
    other = "tier_1" if held.tier != "tier_1" else "tier_4"
    clock.jump(timedelta(hours=1))
    sf.edit(
        "sa0001",
        written=type(held)(**{**{f: getattr(held, f) for f in held.__slots__}, "tier": other}),
    )
    report = app.engine.run().report
    assert [("sa0001", other)] == [(e["crm_id"], e["tier"]) for e in report.hand_edits]
    assert other == sf.written()["sa0001"].tier
    assert other == hs.written()["hu0001"].tier  # one decision for the company, in both CRMs


def test_stop_flag_ends_the_run_before_writing_and_saves_pulled_progress(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    stop = threading.Event()
    stop.set()
    report = (
        make_app(store, crms, clock, stop=stop, backfill_tasks=True).engine.run(full=True).report
    )
    assert ("stopped", 4) == (report.status, report.exit_code)
    assert 0 == crms[0].calls.get("write", 0)


def test_history_feeds_the_next_run_and_records_tier_changes(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    app = make_app(store, crms, clock)
    app.engine.run(full=True)
    assert 120 == store.count_history()
    clock.jump(timedelta(minutes=1))
    app.engine.run(full=True)
    assert 120 == store.count_history()  # nothing moved: no new points
    sf = crms[0]
    strongest = sf.accounts["sa0119"]
    sf.edit(
        "sa0119",
        fields={
            **strongest.fields,
            "intent_score": 0.0,
            "web_visits": 0.0,
            "open_pipeline": 0.0,
            "intent_surge": False,
        },
    )
    clock.jump(timedelta(minutes=1))
    app.engine.run()
    points = store.history("company119.example")
    assert 2 == len(points)
    assert points[1].score < points[0].score


def test_the_run_report_is_written_as_json(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock, tmp_path: Path
) -> None:
    import json

    report = make_app(store, crms, clock).engine.run(full=True).report
    data = json.loads(report.write(tmp_path).read_text())
    assert ("ok", 0, 120) == (data["status"], data["exit_code"], data["accounts"])


def test_sigterm_during_writes_keeps_what_was_written_and_the_next_run_does_the_rest(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, _ = crms
    stop = threading.Event()
    original = sf.write_accounts

    def write_then_stop(updates: Sequence[AccountUpdate]) -> WriteOutcome:
        outcome = original(updates)
        stop.set()  # SIGTERM arrives while this batch is in flight
        return outcome

    sf.write_accounts = write_then_stop  # type: ignore[method-assign]  # patches the fake to stop mid-batch
    report = (
        make_app(store, crms, clock, stop=stop, backfill_tasks=True).engine.run(full=True).report
    )
    assert ("stopped", 4) == (report.status, report.exit_code)
    assert 120 == len([k for k in store.last_written() if k[0] == "salesforce"])
    assert [] == [k for k in store.last_written() if k[0] == "hubspot"]
    assert None is store.watermark("salesforce", "accounts")
    sf.write_accounts = original  # type: ignore[method-assign]  # restores the bound method patched above
    clock.jump(timedelta(minutes=5))
    again = make_app(store, crms, clock, backfill_tasks=True).engine.run().report
    assert ("ok", {"hubspot": 100}) == (again.status, again.writes)
    assert sum(again.tasks_existing.values()) + sum(again.tasks_created.values()) > 0
    assert len({t.request.key for t in sf.tasks.values()}) == len(sf.tasks)
