# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The whole worker against the sandbox: real connectors over loopback, real state store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.provisioning import provisioned
from tests.sync.conftest import POSTGRES_URL
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import main, provision_all, settings_from_env
from tierwise.sync.report import RunReport
from tierwise.sync.state import StateStore

WRITE_PATHS = ("batch/update", "composite/sobjects", "/tasks", "batch/create", "batch/upsert")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with provisioned(Sandbox(accounts=150, seed=11)) as sb:
        yield sb


def run_once(
    sb: Sandbox, db: str, tmp: Path, *, full: bool = False, dry_run: bool = False, **extra: str
) -> RunReport:
    settings = settings_from_env(
        sb.env(), database_url=db, report_dir=str(tmp / "reports"), **extra
    )
    app = boot.bootstrap(settings)
    try:
        return app.engine.run(full=full, dry_run=dry_run).report
    finally:
        app.close()


def sandbox_writes(sb: Sandbox) -> list[str]:
    return [
        f"{c.system} {c.method} {c.path}"
        for c in sb.calls
        if c.method in ("POST", "PATCH", "PUT", "DELETE")
        and "search" not in c.path
        and "query" not in c.path
    ]


def test_a_second_run_makes_no_writes_and_no_new_tasks(sandbox: Sandbox, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    # Backfill: the first run creates entry tasks, so "no new tasks" means something.
    first = run_once(sandbox, db, tmp_path, full=True, backfill_tasks="true")
    assert "ok" == first.status, first.message
    assert {"salesforce": 150, "hubspot": 150} == first.writes
    sf_tasks = len(sandbox.salesforce.objects["Task"])
    hs_tasks = len(sandbox.hubspot.objects["tasks"])
    assert sf_tasks + hs_tasks == sum(first.tasks_created.values()) > 0
    sandbox.reset_calls()
    second = run_once(sandbox, db, tmp_path, backfill_tasks="true")
    assert "ok" == second.status, second.message
    assert {} == second.writes
    assert [] == sandbox_writes(sandbox)
    assert (sf_tasks, hs_tasks) == (
        len(sandbox.salesforce.objects["Task"]),
        len(sandbox.hubspot.objects["tasks"]),
    )


def test_with_tasks_in_all_both_crms_get_tasks_once(sandbox: Sandbox, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    first = run_once(sandbox, db, tmp_path, full=True, tasks_in="all", backfill_tasks="true")
    assert first.tasks_created["salesforce"] == first.tasks_created["hubspot"] > 0
    counts = (len(sandbox.salesforce.objects["Task"]), len(sandbox.hubspot.objects["tasks"]))
    second = run_once(sandbox, db, tmp_path, tasks_in="all", backfill_tasks="true")
    assert ("ok", 0) == (second.status, sum(second.tasks_created.values()))
    assert counts == (
        len(sandbox.salesforce.objects["Task"]),
        len(sandbox.hubspot.objects["tasks"]),
    )


def test_the_same_decision_lands_in_both_crms(sandbox: Sandbox, tmp_path: Path) -> None:
    run_once(sandbox, f"sqlite:///{tmp_path / 'state.db'}", tmp_path, full=True)
    mismatched = []
    for sf_id, hs_id in sandbox.company_ids.values():
        sf_tier = sandbox.salesforce.objects["Account"][sf_id]["Tierwise_Tier__c"]
        hs_tier = sandbox.hubspot.objects["companies"][hs_id]["properties"]["tierwise_tier"]
        if sf_tier != hs_tier or not sf_tier:
            mismatched.append((sf_id, sf_tier, hs_tier))
    assert [] == mismatched


def test_a_dry_run_sends_no_write_to_either_crm(sandbox: Sandbox, tmp_path: Path) -> None:
    report = run_once(
        sandbox, f"sqlite:///{tmp_path / 'state.db'}", tmp_path, full=True, dry_run=True
    )
    assert "dry_run" == report.status, report.message
    assert {"salesforce": 150, "hubspot": 150} == report.planned_writes
    assert [] == sandbox_writes(sandbox)
    assert 0 == len(sandbox.salesforce.objects["Task"])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    schema = request.getfixturevalue("postgres_schema")
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def test_two_workers_at_once_one_runs_the_other_exits_5(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    """Like two containers sharing one state database."""
    db = database_url
    setup = StateStore.from_url(db)
    setup.migrate()
    setup.dispose()
    barrier = threading.Barrier(2)
    reports: list[RunReport] = []

    def worker() -> None:
        settings = settings_from_env(sandbox.env(), database_url=db, report_dir=str(tmp_path))
        app = boot.bootstrap(settings)
        barrier.wait()
        try:
            reports.append(app.engine.run(full=True).report)
        finally:
            app.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [0, 5] == sorted(r.exit_code for r in reports)


def test_a_run_on_postgresql_records_history_and_a_second_run_writes_nothing(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    first = run_once(sandbox, database_url, tmp_path, full=True)
    second = run_once(sandbox, database_url, tmp_path)
    assert ("ok", "ok", {}) == (first.status, second.status, second.writes)
    store = StateStore.from_url(database_url)
    assert ["incremental", "full"] == [r.kind for r in store.list_runs()]
    assert 150 == store.count_history()
    store.dispose()


def test_demo_completes_and_its_second_run_writes_nothing() -> None:
    result = CliRunner().invoke(main, ["demo", "--accounts", "120"])
    assert 0 == result.exit_code, result.output
    second = result.stdout.split("== Second run")[1]
    assert "  writes: 0" in second
    assert "tasks: 0 planned, 0 created" in second
    assert "Where next" in result.stdout


def test_provisioning_a_fresh_sandbox_is_idempotent(tmp_path: Path) -> None:
    with Sandbox(accounts=5, seed=3) as sb:
        settings = settings_from_env(sb.env(), database_url=f"sqlite:///{tmp_path / 's.db'}")
        model = boot.build_model(settings)
        first = provision_all(boot.build_crm_connectors(settings, model), model, dry_run=False)
        again = provision_all(boot.build_crm_connectors(settings, model), model, dry_run=False)
    assert any(not step.exists for _, step in first)
    assert all(step.exists for _, step in again)


def test_overdue_play_tasks_are_reported_and_escalated_once_to_the_configured_user(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    db = f"sqlite:///{tmp_path / 'state.db'}"
    manager = next(iter(sandbox.salesforce.objects["Account"].values()))["OwnerId"]
    settings = settings_from_env(
        sandbox.env(),
        database_url=db,
        report_dir=str(tmp_path / "reports"),
        escalate_overdue=True,
        backfill_tasks=True,  # play tasks from the first run, to go overdue
    )
    assert settings.salesforce is not None
    settings.salesforce.escalation_user_id = manager
    start = datetime.now(UTC)

    def run_at(when: datetime) -> RunReport:
        app = boot.bootstrap(settings, clock=lambda: when)
        try:
            return app.engine.run().report
        finally:
            app.close()

    first = run_at(start)
    assert "ok" == first.status, first.message
    assert 0 == first.tasks_escalated
    later = start + timedelta(days=40)
    second = run_at(later)
    third = run_at(later + timedelta(hours=1))

    escalations = [
        t
        for t in sandbox.salesforce.objects["Task"].values()
        if str(t.get("Tierwise_Key__c", "")).endswith("-esc")
    ]
    assert "ok" == second.status, second.message
    assert second.tasks_overdue
    assert len(second.tasks_overdue) == second.tasks_escalated == len(escalations)
    assert {manager} == {t["OwnerId"] for t in escalations}
    assert 0 == third.tasks_escalated


def test_go_live_writes_every_tier_but_creates_no_task_until_a_real_entry(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    from tierwise.sync.report import summary

    db = f"sqlite:///{tmp_path / 'state.db'}"
    tasks_before = (len(sandbox.salesforce.objects["Task"]), len(sandbox.hubspot.objects["tasks"]))

    first = run_once(sandbox, db, tmp_path, full=True)

    assert "ok" == first.status, first.message
    assert {"salesforce": 150, "hubspot": 150} == first.writes
    assert tasks_before == (
        len(sandbox.salesforce.objects["Task"]),
        len(sandbox.hubspot.objects["tasks"]),
    )
    assert (True, 150, 0) == (first.first_run, first.newly_tiered, first.tasks_planned)
    assert first.tasks_held > 0
    assert "first run: 150 accounts tiered for the first time" in summary(first)
    second = run_once(sandbox, db, tmp_path)
    assert (False, 0) == (second.first_run, second.tasks_held)
