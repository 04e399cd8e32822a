# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The pipeline stage through the CLI against the sandbox: enter / leave, closes once."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.provisioning import provisioned
from tierwise.sandbox import Sandbox

BUNDLED = Path(__file__).resolve().parents[2] / "config" / "model.yaml"
PIPELINE = """\
pipeline:
  label: Active pipeline
  when:
    - {field: open_deals, at_least: 1}
  play:
    name: Deal support
    motion: Help the AE close; no prospecting
    sla_hours: 24
    tasks:
      - {subject: Align deal support, due_business_days: 2}
"""


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.yaml"
    text = BUNDLED.read_text(encoding="utf-8").replace(  # every tier's play has a task
        "    sla_hours: 336\n",
        "    sla_hours: 336\n    tasks:\n      - {subject: Add to nurture, due_business_days: 5}\n",
    )
    path.write_text(text + "\n" + PIPELINE, encoding="utf-8")
    return path


@pytest.fixture
def sandbox(model_file: Path) -> Iterator[Sandbox]:
    with provisioned(Sandbox(accounts=60, seed=3), model_path=model_file) as sb:
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
    return tmp_path


def run() -> dict[str, Any]:
    result = CliRunner().invoke(
        main_cli(), ["--model", "model.yaml", "run", "--full", "--backfill-tasks", "--json"]
    )
    assert 0 == result.exit_code, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def main_cli() -> Any:
    from tierwise.sync.cli import main

    return main


def open_tasks(sb: Sandbox, account_id: str) -> list[str]:
    return sorted(
        t["Subject"]
        for t in sb.salesforce.objects["Task"].values()
        if t.get("WhatId") == account_id and not t.get("IsClosed")
    )


def test_an_account_enters_pipeline_and_leaves_it_with_each_task_closed_exactly_once(
    sandbox: Sandbox, env: Path
) -> None:
    accounts = sandbox.salesforce.objects["Account"]
    opps = sandbox.salesforce.objects["Opportunity"]
    first = run()
    assert first["per_tier"].get("pipeline", 0) > 0
    in_deal = [a for a in accounts.values() if a["Tierwise_Tier__c"] == "pipeline"]
    assert all("open deal" in a["Tierwise_Reason__c"] for a in in_deal)
    account = max(in_deal, key=lambda a: float(a["Tierwise_Score__c"] or 0))
    assert ["Align deal support"] == open_tasks(sandbox, account["Id"])
    mine = [o for o in opps.values() if o["AccountId"] == account["Id"] and not o["IsClosed"]]
    stages = {o["Id"]: o["StageName"] for o in mine}

    for opp in mine:  # the deal closes
        opp.update(StageName="Closed Lost", IsClosed=True, IsWon=False)
    left = run()
    tier = accounts[account["Id"]]["Tierwise_Tier__c"]
    assert tier not in ("pipeline", "", None)
    assert 1 == left["tasks_closed"]
    assert "Align deal support" not in open_tasks(sandbox, account["Id"])
    assert 0 == run()["tasks_closed"]

    tier_tasks = open_tasks(sandbox, account["Id"])
    assert tier_tasks, f"the play of {tier} created tasks on return"
    for opp in mine:  # a new deal opens: prospecting tasks are superseded
        opp.update(StageName=stages[opp["Id"]], IsClosed=False)
    entered = run()
    assert "pipeline" == accounts[account["Id"]]["Tierwise_Tier__c"]
    assert len(tier_tasks) == entered["tasks_closed"]
    # No prospecting task stays open. (The deal-support task is not created twice on one
    # day: task keys hash the entry day, and that key was already done this morning.)
    assert not set(open_tasks(sandbox, account["Id"])) & set(tier_tasks)
    assert 0 == run()["tasks_closed"]
