# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The population a run tiers is exactly what the store holds after its pulls.

Each pull thread reads its saved batches back as it goes and the records it did not
save at the end (``tierwise.sync.gather.pull``); whatever the path, ``decide`` must
see what one read of the whole store gives. Real worker against the loopback sandbox: a full run,
then an incremental run an hour later after outside edits in both CRMs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.provisioning import provisioned
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import settings_from_env
from tierwise.sync.engine import SyncEngine
from tierwise.sync.gather import Gathered
from tierwise.sync.records import Snapshot
from tierwise.sync.targets import Decisions


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with provisioned(Sandbox(accounts=1200, seed=9)) as sb:
        yield sb


def test_the_population_decided_on_is_the_whole_store_full_and_incremental(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shift = [timedelta(0)]
    settings = settings_from_env(
        sandbox.env(),
        database_url=f"sqlite:///{tmp_path / 'state.db'}",
        report_dir=str(tmp_path / "reports"),
    )
    app = boot.bootstrap(settings, clock=lambda: datetime.now(UTC) + shift[0])
    seen: list[tuple[Sequence[Snapshot], list[Snapshot]]] = []
    decide = SyncEngine.decide

    def watched(engine: SyncEngine, gathered: Gathered, now: datetime) -> Decisions:
        seen.append((gathered.snapshots, list(app.store.iter_snapshots())))
        return decide(engine, gathered, now)

    monkeypatch.setattr(SyncEngine, "decide", watched)

    reports = [app.engine.run(full=True).report]
    shift[0] = timedelta(hours=1)  # re-reads what the full run wrote (echo reads)
    reports.append(app.engine.run().report)
    sf_ids = sorted(sandbox.salesforce.objects["Account"])[:3]
    hs_ids = sorted(sandbox.hubspot.objects["companies"])[:3]
    for crm_id in sf_ids:
        sandbox.salesforce.edit("Account", crm_id, {"NumberOfEmployees": 20_000})
    for crm_id in hs_ids:
        sandbox.hubspot.edit("companies", crm_id, {"numberofemployees": 20_000})
    shift[0] = timedelta(hours=2)
    reports.append(app.engine.run().report)

    assert ["ok", "ok", "ok"] == [r.status for r in reports]
    assert 3 == len(seen)
    assert 2400 == len(seen[0][1])  # 1,200 companies in each CRM
    for population, store in seen:
        assert store == list(population)
    # The last pull saved only what changed; the rest of the population is read apart.
    assert reports[2].pulled["salesforce"] < 1200
    assert reports[2].pulled["hubspot"] < 1200
    assert 2400 == len(seen[2][0])
    edited = {s.crm_id: s for s in seen[2][0] if s.crm_id in {*sf_ids, *hs_ids}}
    assert 6 == len(edited)
    assert {20_000.0} == {s.fields["employees"] for s in edited.values()}
