# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The write-ahead journal: every chunk a run sends is journaled before it is sent.

The real worker (bootstrap -> engine -> change gate -> real connectors -> loopback
sandbox); each CRM's ``write_accounts`` is watched, and the journal is read at the
moment each chunk goes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog

from tierwise.connectors.base import AccountUpdate, TierwiseValues, WriteOutcome
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.bootstrap import App
from tierwise.sync.change.journal import ChangeJournal
from tierwise.sync.change.writeahead import WriteAhead
from tierwise.sync.cli import settings_from_env
from tierwise.sync.records import FieldChanges, Plan, Snapshot


def app_for(sandbox: Sandbox, tmp_path: Path) -> App:
    """The real worker against the sandbox, with its own store and report folder."""
    settings = settings_from_env(
        sandbox.env(),
        database_url=f"sqlite:///{tmp_path / 'state.db'}",
        report_dir=str(tmp_path / "reports"),
    )
    return boot.bootstrap(settings, clock=lambda: datetime.now(UTC))


def test_each_chunk_is_journaled_before_it_is_sent_and_the_journal_is_whole(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = app_for(sandbox, tmp_path)
    journal = ChangeJournal(app.store)
    sent: list[tuple[str, str]] = []
    late: list[tuple[str, str]] = []
    for crm in app.connectors:

        def watched(
            updates: Sequence[AccountUpdate],
            system: str = crm.system,
            write: object = crm.write_accounts,
        ) -> WriteOutcome:
            run_id = structlog.contextvars.get_contextvars()["run_id"]
            journaled = {(e.system, e.crm_id) for e in journal.entries(run_id)}
            for u in updates:
                sent.append((system, u.crm_id))
                if (system, u.crm_id) not in journaled:
                    late.append((system, u.crm_id))
            assert callable(write)
            outcome: WriteOutcome = write(updates)
            return outcome

        crm.write_accounts = watched  # type: ignore[method-assign]  # watching the real write

    report = app.engine.run(full=True).report

    assert "ok" == report.status, report.message
    assert 80 == len(sent)  # 40 companies in each CRM, every one tiered for the first time
    assert [] == late
    assert sorted(sent) == sorted((e.system, e.crm_id) for e in journal.entries(report.run_id))


def snapshot(system: str, crm_id: str, tier: str | None) -> Snapshot:
    return Snapshot(
        system=system,
        crm_id=crm_id,
        key=f"{crm_id}.example",
        domain=None,
        name=None,
        owner_id=None,
        modified_at=None,
        fields={},
        written=TierwiseValues(tier=tier),
    )


def test_updates_sent_out_of_plan_order_are_journaled_from_the_lookup(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """In step with the plan nothing is indexed; out of step, the entries are the same."""
    store = app_for(sandbox, tmp_path).store
    journal = ChangeJournal(store)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    records = [snapshot("hubspot", f"h{i}", "tier_2" if i % 2 else None) for i in range(5)]
    changes = FieldChanges()
    plan = Plan(changes=changes)
    for r in records:
        update = AccountUpdate(r.crm_id, {"tier": "tier_1"})
        plan.updates.setdefault("hubspot", []).append(update)
        changes.add("hubspot", update, r.key, None, r.written)
    updates = plan.updates["hubspot"]

    for run_id, order in (("in-step", updates), ("reversed", updates[::-1])):
        journal.record_run(run_id, (), [], now, model_hash=None)
        write_ahead = WriteAhead(journal, run_id, plan, now)
        write_ahead("hubspot", order[:2])
        write_ahead("hubspot", order[2:])

    in_step, reversed_ = journal.entries("in-step"), journal.entries("reversed")
    assert 5 == len(in_step)
    assert in_step == reversed_
    assert [r.written for r in records] == [e.held for e in in_step]
    assert [r.key for r in records] == [e.account_key for e in in_step]
