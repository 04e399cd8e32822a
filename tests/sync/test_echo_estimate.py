# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The ``expected`` estimate the engine hands ``pull_accounts`` (sync/state/echo.py).

It only picks a connector's read path (page by page or a bulk job), so what matters is
that it tracks what the pull really returns in the cases that cost calls: a full pull
(the stored population), the pull right after a run that wrote (tierwise's echoes), the
"nothing changed" pull after that (almost nothing), and one after outside edits.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.sync.fakes import FakeCrm, seed
from tests.sync.test_engine import Clock, make_app
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


def pulled(crm: FakeCrm, report_pulled: dict[str, int]) -> tuple[int | None, int]:
    """(what the engine expected, what the pull returned) for ``crm``'s last pull."""
    return crm.expected_seen[-1], report_pulled[crm.system]


def test_the_estimate_follows_the_echoes_of_tierwise_own_writes_and_outside_edits(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, hs = crms
    app = make_app(store, crms, clock)

    first = app.engine.run().report  # no watermark yet: a full pull of an empty store
    assert (None, 120) == pulled(sf, first.pulled)  # unknown: the connector probes
    assert (None, 100) == pulled(hs, first.pulled)
    assert {"salesforce": 120, "hubspot": 100} == first.writes

    clock.jump(timedelta(hours=1))
    echo = app.engine.run().report  # every record tierwise wrote comes back
    assert (120, 120) == pulled(sf, echo.pulled)
    assert (100, 100) == pulled(hs, echo.pulled)
    assert {} == echo.writes

    clock.jump(timedelta(hours=1))
    quiet = app.engine.run().report  # nothing changed: the watermark's boundary only
    for crm in crms:
        expected, got = pulled(crm, quiet.pulled)
        assert got == expected
        assert got <= 1

    clock.jump(timedelta(hours=1))
    for crm_id in ("sa0003", "sa0010", "sa0020"):
        sf.edit(crm_id, name=f"renamed {crm_id}")
    edited = app.engine.run().report
    expected, got = pulled(sf, edited.pulled)
    assert 3 <= got <= 4  # the three edits (and the boundary record)
    # The estimate knows the boundary, not yet the edits of an org that was quiet.
    assert expected is not None
    assert expected <= got

    clock.jump(timedelta(hours=1))
    app.engine.run()
    # The last incremental pull read outside edits: the next estimate counts that many.
    assert (sf.expected_seen[-1] or 0) >= 3


def test_a_full_pull_expects_the_stored_population(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    sf, hs = crms
    app = make_app(store, crms, clock)
    app.engine.run(full=True)
    clock.jump(timedelta(hours=1))
    report = app.engine.run(full=True).report
    assert (120, 120) == pulled(sf, report.pulled)
    assert (100, 100) == pulled(hs, report.pulled)


def test_an_echo_inside_the_watermark_lag_is_still_expected(
    store: StateStore, crms: tuple[FakeCrm, FakeCrm], clock: Clock
) -> None:
    """Runs a minute apart: the watermark stays 5 minutes behind, so the second run's
    pull and the third one's both return tierwise's writes; both expect them."""
    sf, _ = crms
    app = make_app(store, crms, clock)
    app.engine.run()
    clock.jump(timedelta(minutes=1))
    second = app.engine.run().report
    assert (120, 120) == pulled(sf, second.pulled)
    clock.jump(timedelta(minutes=1))
    third = app.engine.run().report
    assert (120, 120) == pulled(sf, third.pulled)
