# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect

from tierwise.connectors.base import CrmAccount, TierwiseValues
from tierwise.sync.state import LockHeldError, StateStore, TaskRecord, normalise_url
from tierwise.tiering.records import Decision

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def account(crm_id: str, **fields: object) -> CrmAccount:
    return CrmAccount(
        system="salesforce",
        crm_id=crm_id,
        name=f"Acme {crm_id}",
        domain=f"{crm_id}.example",
        owner_id="005A",
        modified_at=NOW,
        fields=fields,  # type: ignore[arg-type]  # test kwargs are typed object; callers pass field values
        written=TierwiseValues(tier="tier_2", score=51.5, sla_due=date(2026, 12, 1)),
    )


def decision(key: str, tier: str, score: float) -> Decision:
    return Decision(
        key=key,
        tier=tier,
        tier_label=tier,
        previous_tier=None,
        score=score,
        rule="threshold",
        reason="r",
        play=None,
    )


def test_migrations_create_every_table_on_an_empty_database(store: StateStore) -> None:
    expected = {
        "runs",
        "account_snapshot",
        "account_tier",
        "tier_history",
        "last_written",
        "tasks",
        "watermarks",
        "run_lock",
        "alembic_version",
    }
    assert expected <= set(inspect(store.engine).get_table_names())


def test_migrating_twice_is_harmless(store: StateStore) -> None:
    store.migrate()
    assert [] == store.list_runs()


def test_snapshot_round_trips_dates_lists_and_tierwise_values(store: StateStore) -> None:
    acc = account(
        "a1",
        employees=120.0,
        tech_stack=("AWS", "Okta"),
        last_activity=date(2026, 1, 2),
        intent_surge=True,
        industry=None,
    )
    store.upsert_snapshots([acc], {("salesforce", "a1"): "a1.example"}, NOW)
    [snap] = store.snapshots()
    assert dict(acc.fields) == dict(snap.fields)
    assert acc.written == snap.written
    assert "a1.example" == snap.key


def test_repulling_a_record_keeps_its_honoured_hand_edit(store: StateStore) -> None:
    keys = {("salesforce", "a1"): "a1.example"}
    store.upsert_snapshots([account("a1")], keys, NOW)
    store.set_overrides({("salesforce", "a1"): {"tier": "tier_1", "until": "2026-12-24"}})
    store.upsert_snapshots([account("a1", employees=5.0)], keys, NOW)
    [snap] = store.snapshots()
    assert {"tier": "tier_1", "until": "2026-12-24"} == snap.override
    assert {"employees": 5.0} == dict(snap.fields)


def test_full_pull_forgets_records_the_crm_no_longer_has(store: StateStore) -> None:
    keys = {("salesforce", i): i for i in ("a1", "a2", "a3")}
    store.upsert_snapshots([account(i) for i in ("a1", "a2", "a3")], keys, NOW)
    assert 1 == store.delete_snapshots_except("salesforce", ["a1", "a3"])
    assert ["a1", "a3"] == [s.crm_id for s in store.snapshots()]


def test_history_points_are_added_only_when_tier_or_score_moves(store: StateStore) -> None:
    assert 2 == store.record_decisions(
        "r1", NOW, [decision("k1", "tier_1", 90.04), decision("k2", "tier_2", 60)]
    )
    later = NOW + timedelta(hours=1)
    assert 1 == store.record_decisions(
        "r2", later, [decision("k1", "tier_1", 90.0), decision("k2", "tier_3", 40)]
    )
    histories = store.histories(later + timedelta(minutes=1))
    assert ("tier_1", NOW) == (histories["k1"].tier, histories["k1"].tier_since)
    assert ("tier_3", later) == (histories["k2"].tier, histories["k2"].tier_since)
    assert [60.0, 40.0] == [p.score for p in histories["k2"].points]
    assert ["tier_2", "tier_3"] == [h.tier for h in store.history("k2")]


def test_score_change_in_the_same_tier_keeps_tier_since(store: StateStore) -> None:
    store.record_decisions("r1", NOW, [decision("k1", "tier_1", 90)])
    store.record_decisions("r2", NOW + timedelta(days=3), [decision("k1", "tier_1", 80)])
    assert NOW == store.histories(NOW + timedelta(days=4))["k1"].tier_since


def test_written_values_update_snapshot_and_last_written(store: StateStore) -> None:
    store.upsert_snapshots([account("a1")], {("salesforce", "a1"): "a1.example"}, NOW)
    values = TierwiseValues(
        tier="tier_1",
        score=88.2,
        reason="x",
        play="Strategic",
        sla_due=date(2026, 11, 26),
        tier_changed=date(2026, 11, 24),
    )
    store.record_written({("salesforce", "a1"): values}, NOW)
    assert {("salesforce", "a1"): values} == store.last_written()
    assert values == store.snapshots()[0].written


def test_task_ledger_records_and_closes(store: StateStore) -> None:
    task = TaskRecord(
        key="k" * 32,
        system="hubspot",
        crm_task_id="t1",
        account_key="acme.com",
        crm_account_id="c1",
        tier="tier_1",
        status="created",
        due=date(2026, 11, 27),
    )
    store.record_tasks([task], NOW)
    assert [task] == store.tasks(status="created")
    assert [NOW] == [t.created for t in store.tasks()]
    store.close_tasks([task.key], NOW)
    assert [] == store.tasks(status="created")
    assert ["closed"] == [t.status for t in store.tasks()]


def test_watermark_is_stored_per_system_and_object(store: StateStore) -> None:
    store.set_watermark("hubspot", "companies", "2026-11-24T11:55:00+00:00", NOW)
    store.set_watermark("hubspot", "companies", "2026-11-24T11:56:00+00:00", NOW)
    assert "2026-11-24T11:56:00+00:00" == store.watermark("hubspot", "companies")
    assert None is store.watermark("salesforce", "Account")


def test_run_ledger_keeps_counts_calls_and_errors(store: StateStore) -> None:
    store.start_run("r1", "full", False, NOW)
    store.finish_run(
        "r1",
        finished=NOW + timedelta(seconds=5),
        status="partial",
        counts={"writes": 3},
        api_calls={"hubspot": {"read": 2}},
        errors=[{"crm_id": "c1", "reason": "UNABLE_TO_LOCK_ROW"}],
    )
    [run] = store.list_runs()
    assert ("partial", {"writes": 3}, NOW) == (run.status, dict(run.counts), run.started)
    assert [{"crm_id": "c1", "reason": "UNABLE_TO_LOCK_ROW"}] == list(run.errors)


def test_run_lock_is_exclusive_across_two_engines(
    store: StateStore, second_store: StateStore
) -> None:
    first = store.lock("worker-a")
    first.acquire()
    try:
        with pytest.raises(LockHeldError):
            second_store.lock("worker-b").acquire()
    finally:
        first.release()
    second = second_store.lock("worker-b")
    second.acquire()
    second.release()


def test_an_expired_sqlite_lock_row_can_be_taken_over(tmp_path: object) -> None:
    store = StateStore.from_url(f"sqlite:///{tmp_path}/s.db")
    store.migrate()
    stale = store.lock("crashed")
    stale.acquire(now=NOW - timedelta(hours=1))
    fresh = store.lock("new")
    fresh.acquire(now=NOW)
    assert fresh.held
    fresh.release()
    store.dispose()


def test_a_live_sqlite_lock_row_is_not_taken_over(tmp_path: object) -> None:
    store = StateStore.from_url(f"sqlite:///{tmp_path}/s.db")
    store.migrate()
    store.lock("alive").acquire(now=NOW)
    with pytest.raises(LockHeldError, match="alive"):
        store.lock("other").acquire(now=NOW + timedelta(minutes=5))
    store.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///tierwise.db", "sqlite:///tierwise.db"),
    ],
)
def test_database_urls_are_normalised_to_psycopg3(url: str, expected: str) -> None:
    assert expected == normalise_url(url)


def test_a_lock_row_left_by_a_killed_process_on_this_host_is_taken_over(tmp_path: object) -> None:
    import subprocess
    import sys

    from sqlalchemy import update

    from tierwise.sync.state.tables import run_lock

    store = StateStore.from_url(f"sqlite:///{tmp_path}/s.db")
    store.migrate()
    store.lock("killed").acquire(now=NOW)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with store.engine.begin() as conn:
        conn.execute(update(run_lock).values(pid=int(gone.stdout)))
    fresh = store.lock("next")
    fresh.acquire(now=NOW + timedelta(seconds=5))
    assert fresh.held
    store.dispose()
