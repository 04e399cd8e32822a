"""explain and the outcome commands' population go through the run's decide."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.sync.fakes import FakeCrm, seed
from tests.sync.test_engine import Clock, make_app
from tierwise.sync.merge import to_inputs
from tierwise.sync.preview import explain_decision, stored_inputs
from tierwise.sync.state import StateStore


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def crms(clock: Clock) -> tuple[FakeCrm, FakeCrm]:
    sf, hs = FakeCrm("salesforce", clock), FakeCrm("hubspot", clock)
    seed(sf, 40)
    seed(hs, 30)
    return sf, hs


def test_explain_gives_every_account_the_tier_the_run_gave_it_hand_edits_included(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, _ = crms
    app = make_app(store, crms, clock)
    app.engine.run(full=True)
    held = sf.accounts["sa0001"].written
    other = "tier_1" if held.tier != "tier_1" else "tier_4"
    clock.jump(timedelta(hours=1))
    sf.edit("sa0001", written=replace(held, tier=other))
    app.engine.run()  # honours the hand edit and stores it as an override
    clock.jump(timedelta(hours=1))
    # A dry run decides as the next run would, and stores nothing.
    outcome = app.engine.run(dry_run=True)
    now = outcome.report.started
    explained = {key: explain_decision(store, app.model, key, now) for key in outcome.decisions}
    assert {k: d.tier for k, d in outcome.decisions.items()} == {
        k: d.tier if d else None for k, d in explained.items()
    }
    [edited] = [a.key for a in outcome.accounts if any(r.crm_id == "sa0001" for r in a.records)]
    assert other == outcome.decisions[edited].tier


def test_the_outcome_commands_tier_the_population_a_run_tiers(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    outcome = make_app(store, crms, clock).engine.run(full=True)
    today = outcome.report.started.date()
    assert to_inputs(outcome.accounts) == stored_inputs(store, object(), today)
