# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Outreach windows across runs against the sandbox, with the injected clock (issue 16)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.provisioning import provisioned
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import main, settings_from_env
from tierwise.sync.coverage.windows import load_windows
from tierwise.sync.report import RunReport
from tierwise.sync.state import StateStore

BUNDLED = Path(__file__).resolve().parents[2] / "config" / "model.yaml"
WINDOWED = """\
triggers:
  - name: big_revenue
    label: revenue>=9B
    when:
      - {field: annual_revenue, at_least: 9000000000}
    then: {promote: 1, for_days: 30}
"""
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with provisioned(Sandbox(accounts=60, seed=5)) as sb:
        yield sb


@pytest.fixture
def env(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("TIERWISE_"):
            monkeypatch.delenv(name)
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TIERWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("TIERWISE_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.chdir(tmp_path)
    text = BUNDLED.read_text(encoding="utf-8")
    head, _sep, rest = text.partition("\ntriggers:\n")
    tail = rest[rest.index("\nstability:") :]
    (tmp_path / "model.yaml").write_text(head + "\n" + WINDOWED + tail, encoding="utf-8")
    return tmp_path


def run_on(sb: Sandbox, tmp: Path, day: int) -> RunReport:
    settings = settings_from_env(
        sb.env(), database_url=f"sqlite:///{tmp / 'state.db'}", report_dir=str(tmp / "reports")
    )
    app = boot.bootstrap(
        settings, model_path=tmp / "model.yaml", clock=lambda: START + timedelta(days=day)
    )
    try:
        return app.engine.run(full=True).report
    finally:
        app.close()


def test_a_window_opens_holds_across_runs_and_closes_with_its_reason(
    sandbox: Sandbox, env: Path
) -> None:
    accounts = sandbox.salesforce.objects["Account"]
    first = run_on(sandbox, env, 0)
    assert "ok" == first.status, first.message
    crm_id, record = next(
        (i, a) for i, a in sorted(accounts.items()) if a["Tierwise_Tier__c"] == "tier_3"
    )
    revenue: Any = record["AnnualRevenue"]
    record["AnnualRevenue"] = 9_500_000_000.0

    opened = run_on(sandbox, env, 1)
    promoted = accounts[crm_id]["Tierwise_Tier__c"]
    assert 1 == len(opened.windows_opened)
    assert promoted in ("tier_1", "tier_2")
    assert "promoted by revenue>=9B" in accounts[crm_id]["Tierwise_Reason__c"]
    until = (START + timedelta(days=31)).date().isoformat()
    assert f"window until {until}" in accounts[crm_id]["Tierwise_Reason__c"]

    record["AnnualRevenue"] = revenue  # the trigger stops firing; the window still holds
    held = run_on(sandbox, env, 10)
    assert "ok" == held.status
    assert promoted == accounts[crm_id]["Tierwise_Tier__c"]
    assert "held by outreach window from revenue>=9B" in accounts[crm_id]["Tierwise_Reason__c"]
    explained = CliRunner().invoke(main, ["--model", "model.yaml", "explain", crm_id])
    assert 0 == explained.exit_code, explained.output
    assert f"held by outreach window from revenue>=9B until {until}" in explained.output

    closed = run_on(sandbox, env, 31)
    assert "ok" == closed.status
    assert 1 == len(closed.windows_ended)
    assert "tier_3" == accounts[crm_id]["Tierwise_Tier__c"]
    assert f"window from revenue>=9B ended {until}" in accounts[crm_id]["Tierwise_Reason__c"]
    store = StateStore.from_url(f"sqlite:///{env / 'state.db'}")
    assert {} == load_windows(store.engine)
    history = CliRunner().invoke(main, ["--model", "model.yaml", "history", crm_id])
    assert 0 == history.exit_code, history.output
    assert "ended" in history.output
