# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Fault matrix, echo reads: an outside edit that races a tierwise write is never lost.

tierwise's own writes move ``SystemModstamp`` / ``hs_lastmodifieddate``, so the next
incremental pull returns every record it wrote ("echo reads"). Skipping those records
is tempting and unsafe (DESIGN.md, "Echo reads"): a person's edit that lands after
tierwise READ a record and before it WROTE that record leaves the record stamped,
last, by tierwise. These cases protect whatever pull strategy ships:

* an edit between tierwise's read and its write of that same record, and
* an edit right after its write,

are both read by the next incremental run, which stores the edited input and writes
the score it changes. Each case runs the real worker (bootstrap -> engine -> real
connectors -> loopback sandbox), the second run an hour later on both clocks.

``test_a_skip_by_last_modifier_would_lose_the_edit_between_read_and_write`` shows the
first case can fail: with a "skip what tierwise modified last" filter laid over the
real pull (what ``LastModifiedById != me`` or HubSpot's updated-by would do), the
edit is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.proof.test_fault_matrix import make_sandbox
from tierwise.connectors.base import AccountUpdate, Connector, CrmAccount, WriteOutcome
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.bootstrap import App
from tierwise.sync.cli import settings_from_env
from tierwise.sync.report import RunReport

BETWEEN_READ_AND_WRITE = "between read and write"
RIGHT_AFTER_WRITE = "right after write"
HOUR = timedelta(hours=1)
# The model's employees input is a range scored 0 below 50 and 1 from 5,000 on, with
# weight 3: moving a record across it always moves its score.
SMALL, LARGE = 10, 20_000


def app_for(
    sb: Sandbox, tmp: Path, primary: str, shift: timedelta = timedelta(0), *, path: str = "rest"
) -> App:
    settings = settings_from_env(
        sb.env(),
        database_url=f"sqlite:///{tmp / 'state.db'}",
        report_dir=str(tmp / "reports"),
        primary=primary,
    )
    if path == "bulk":
        # Every pull through the bulk read paths (Bulk API 2.0 query, CRM export).
        sf, hs = settings.salesforce, settings.hubspot
        assert sf is not None  # sb.env() configures both CRMs
        assert hs is not None
        if not (hasattr(sf, "bulk_query_threshold") and hasattr(hs, "export_threshold")):
            pytest.skip("the bulk read paths (sfbulk, hsbulk) are not in this tree yet")
        sf.bulk_query_threshold = 1
        hs.export_threshold = 1
    return boot.bootstrap(settings, clock=lambda: datetime.now(UTC) + shift)


def connector(app: App, system: str) -> Connector:
    (found,) = [c for c in app.connectors if c.system == system]
    return found


class Target:
    """One seed company, edited by "a person" in one CRM through the sandbox's UI path
    (validated, stamped from the sandbox clock, not an API call of tierwise's)."""

    def __init__(self, sb: Sandbox, system: str) -> None:
        self.sb, self.system = sb, system
        key = sorted(sb.company_ids)[7]
        sf_id, hs_id = sb.company_ids[key]
        self.crm_id = sf_id if system == "salesforce" else hs_id
        before = self.employees()
        self.new_value = LARGE if before is None or before < 1000 else SMALL

    def employees(self) -> float | None:
        if self.system == "salesforce":
            raw = self.sb.salesforce.objects["Account"][self.crm_id].get("NumberOfEmployees")
        else:
            props = self.sb.hubspot.objects["companies"][self.crm_id]["properties"]
            raw = props.get("numberofemployees")
        return None if raw in (None, "") else float(raw)

    def edit(self) -> None:
        if self.system == "salesforce":
            self.sb.salesforce.edit("Account", self.crm_id, {"NumberOfEmployees": self.new_value})
        else:
            self.sb.hubspot.edit("companies", self.crm_id, {"numberofemployees": self.new_value})

    def score(self) -> str:
        if self.system == "salesforce":
            return str(self.sb.salesforce.objects["Account"][self.crm_id].get("Tierwise_Score__c"))
        props = self.sb.hubspot.objects["companies"][self.crm_id]["properties"]
        return str(props.get("tierwise_score"))


def stored_employees(app: App, system: str, crm_id: str) -> Any:
    (snap,) = [s for s in app.store.snapshots() if (s.system, s.crm_id) == (system, crm_id)]
    return snap.fields.get("employees")


def arm(app: App, target: Target, when: str, last_writer: dict[str, str]) -> None:
    """Land the outside edit at ``when`` in this run; note who modified each record last."""
    crm = connector(app, target.system)
    real_write: Callable[[Sequence[AccountUpdate]], WriteOutcome] = crm.write_accounts

    def edit() -> None:
        target.edit()
        last_writer[target.crm_id] = "person"

    def write(updates: Sequence[AccountUpdate]) -> WriteOutcome:
        outcome = real_write(updates)
        last_writer.update(dict.fromkeys(outcome.written, "tierwise"))
        if when == RIGHT_AFTER_WRITE and target.crm_id in outcome.written:
            edit()
        return outcome

    crm.write_accounts = write  # type: ignore[method-assign]  # the race is injected around the real call
    if when == BETWEEN_READ_AND_WRITE:

        def before_apply(_probe: object, _now: datetime) -> bool:
            # Called once the plan is known: every record is read, none written yet.
            edit()
            return True

        app.engine.before_apply = before_apply


def skip_last_modified_by_tierwise(app: App, system: str, last_writer: dict[str, str]) -> None:
    """The unsafe echo filter, laid over the real pull (the mutant this file guards)."""
    crm = connector(app, system)
    real_pull = crm.pull_accounts

    def pull(since: datetime | None, *, expected: int | None = None) -> Iterator[CrmAccount]:
        for account in real_pull(since, expected=expected):
            if since is None or last_writer.get(account.crm_id) != "tierwise":
                yield account

    crm.pull_accounts = pull  # type: ignore[method-assign]  # the mutant filter under test


def race(
    tmp: Path, system: str, when: str, *, mutant: bool = False, path: str = "rest"
) -> tuple[Target, RunReport, RunReport, Any, Any, str, str]:
    """Run 1 with the edit racing its write, run 2 an hour later: what each saw."""
    last_writer: dict[str, str] = {}
    with make_sandbox() as sb:
        target = Target(sb, system)
        first_app = app_for(sb, tmp, system, path=path)
        try:
            arm(first_app, target, when, last_writer)
            first = first_app.engine.run(full=False).report
            seen_first = stored_employees(first_app, system, target.crm_id)
        finally:
            first_app.close()
        score_first = target.score()
        assert target.new_value == target.employees()  # the edit landed in the CRM

        sb.clock.advance(HOUR.total_seconds())
        second_app = app_for(sb, tmp, system, HOUR, path=path)
        try:
            if mutant:
                skip_last_modified_by_tierwise(second_app, system, last_writer)
            second = second_app.engine.run(full=False).report
            seen_second = stored_employees(second_app, system, target.crm_id)
        finally:
            second_app.close()
        return target, first, second, seen_first, seen_second, score_first, target.score()


@pytest.mark.parametrize("path", ["rest", "bulk"])
@pytest.mark.parametrize("system", ["salesforce", "hubspot"])
@pytest.mark.parametrize("when", [BETWEEN_READ_AND_WRITE, RIGHT_AFTER_WRITE])
def test_an_outside_edit_racing_a_tierwise_write_is_read_by_the_next_incremental_run(
    tmp_path: Path, system: str, when: str, path: str
) -> None:
    target, first, second, seen_first, seen_second, score_first, score_second = race(
        tmp_path, system, when, path=path
    )

    assert "ok" == first.status, first.message
    assert "ok" == second.status, second.message
    # Run 1 read the record before the edit and wrote it (the race really happened).
    assert target.new_value != seen_first
    assert "None" != score_first
    # Run 2 was incremental (the watermark held) and read the edit...
    assert {} == second.full_reconcile
    assert target.new_value == seen_second
    # ...and wrote the score the edited input gives.
    assert score_first != score_second


@pytest.mark.parametrize("system", ["salesforce", "hubspot"])
def test_a_skip_by_last_modifier_would_lose_the_edit_between_read_and_write(
    tmp_path: Path, system: str
) -> None:
    """Why tierwise does not skip its echoes: the record's last modifier is tierwise,
    so the edit a person made between tierwise's read and its write is never read."""
    target, _, second, seen_first, seen_second, score_first, score_second = race(
        tmp_path, system, BETWEEN_READ_AND_WRITE, mutant=True
    )

    assert "ok" == second.status, second.message
    assert seen_first == seen_second  # the stored input is still the pre-edit one
    assert target.new_value != seen_second
    assert score_first == score_second  # and the CRM keeps the stale score


@pytest.mark.parametrize("system", ["salesforce", "hubspot"])
def test_a_skip_by_last_modifier_does_read_an_edit_right_after_the_write(
    tmp_path: Path, system: str
) -> None:
    """The edit after the write is the easy case: its author is the last modifier."""
    target, _, _, _, seen_second, _, _ = race(tmp_path, system, RIGHT_AFTER_WRITE, mutant=True)
    assert target.new_value == seen_second
