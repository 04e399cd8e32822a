# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""``pipeline.stage`` through the CLI against the sandbox (issue 16): an account enters
the pipeline when an open deal reaches the configured stage (Salesforce's OpportunityStage
SortOrder, HubSpot's pipeline displayOrder), not before, and leaves it when the deal
closes; prospecting and deal-support tasks are each closed exactly once."""

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
  stage:
    salesforce: Value Proposition
    hubspot: presentationscheduled
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
    from tierwise.sync.cli import main

    result = CliRunner().invoke(
        main, ["--model", "model.yaml", "run", "--full", "--backfill-tasks", "--json"]
    )
    assert 0 == result.exit_code, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def sf_open_tasks(sb: Sandbox, account_id: str) -> list[str]:
    return sorted(
        t["Subject"]
        for t in sb.salesforce.objects["Task"].values()
        if t.get("WhatId") == account_id and not t.get("IsClosed")
    )


def sf_stage_order(sb: Sandbox) -> dict[str, int]:
    return {
        r["ApiName"]: r["SortOrder"] for r in sb.salesforce.objects["OpportunityStage"].values()
    }


def test_salesforce_deal_enters_at_the_stage_not_before_and_leaves_when_it_closes(
    sandbox: Sandbox, env: Path
) -> None:
    accounts = sandbox.salesforce.objects["Account"]
    opps = sandbox.salesforce.objects["Opportunity"]
    order = sf_stage_order(sandbox)
    entry = order["Value Proposition"]
    first = run()

    open_by_account: dict[str, list[dict[str, Any]]] = {}
    for opp in opps.values():
        if not opp["IsClosed"]:
            open_by_account.setdefault(opp["AccountId"], []).append(opp)
    in_pipeline = {a["Id"] for a in accounts.values() if a["Tierwise_Tier__c"] == "pipeline"}
    at_stage = {
        account_id
        for account_id, mine in open_by_account.items()
        if any(order[o["StageName"]] >= entry for o in mine)
    }
    # Exactly the accounts with an open deal at or past Value Proposition, none earlier.
    assert at_stage == in_pipeline
    assert len(in_pipeline) == first["per_tier"]["pipeline"]
    early = sorted(set(open_by_account) - at_stage)
    assert early, "the seed has accounts whose open deals are all before the entry stage"

    account_id = early[0]
    deal = open_by_account[account_id][0]
    tier = accounts[account_id]["Tierwise_Tier__c"]
    tier_tasks = sf_open_tasks(sandbox, account_id)
    assert tier not in ("pipeline", "", None)
    assert tier_tasks

    deal.update(StageName="Needs Analysis")  # one step short of the entry stage
    assert 0 == run()["tasks_closed"]
    assert tier == accounts[account_id]["Tierwise_Tier__c"]

    deal.update(StageName="Value Proposition")  # reaches it
    entered = run()
    assert "pipeline" == accounts[account_id]["Tierwise_Tier__c"]
    assert "open deal" in accounts[account_id]["Tierwise_Reason__c"]
    assert len(tier_tasks) == entered["tasks_closed"]  # prospecting tasks superseded, once
    assert ["Align deal support"] == sf_open_tasks(sandbox, account_id)
    assert 0 == run()["tasks_closed"]

    for opp in open_by_account[account_id]:  # every open deal closes
        opp.update(StageName="Closed Won", IsClosed=True, IsWon=True)
    left = run()
    assert accounts[account_id]["Tierwise_Tier__c"] not in ("pipeline", "", None)
    assert 1 == left["tasks_closed"]  # the deal-support task, once
    assert "Align deal support" not in sf_open_tasks(sandbox, account_id)
    assert 0 == run()["tasks_closed"]


def test_hubspot_deal_enters_at_the_pipeline_stage_and_leaves_when_it_closes(
    sandbox: Sandbox, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HubSpot alone: with both CRMs an account merged by domain takes Salesforce's values.
    for name in list(os.environ):
        if name.startswith("TIERWISE_SALESFORCE__"):
            monkeypatch.delenv(name)
    portal = sandbox.hubspot.portal
    companies = portal.objects["companies"]
    deals = portal.objects["deals"]
    run()

    def company_of(deal_id: str) -> str:
        return next(iter(portal.associated("deals", deal_id, "companies")))

    def tier(company_id: str) -> str | None:
        return companies[company_id]["properties"].get("tierwise_tier")

    open_deals: dict[str, list[dict[str, Any]]] = {}
    for deal in deals.values():
        if deal["properties"]["hs_is_closed"] != "true":
            open_deals.setdefault(company_of(deal["id"]), []).append(deal)
    past = {"presentationscheduled", "decisionmakerboughtin", "contractsent"}
    at_stage = {
        c
        for c, mine in open_deals.items()
        if any(d["properties"]["dealstage"] in past for d in mine)
    }
    in_pipeline = {c for c in companies if tier(c) == "pipeline"}
    assert at_stage == in_pipeline
    early = sorted(set(open_deals) - at_stage)
    assert early

    def open_tasks(company_id: str) -> int:
        tasks = portal.objects["tasks"]
        linked = portal.associated("companies", company_id, "tasks")
        return sum(1 for t in linked if tasks[t]["properties"].get("hs_task_status") != "COMPLETED")

    company = early[0]
    before = tier(company)
    prospecting = open_tasks(company)
    assert prospecting
    deal = open_deals[company][0]
    deal["properties"]["dealstage"] = "qualifiedtobuy"  # still before the entry stage
    run()
    assert before == tier(company)
    deal["properties"]["dealstage"] = "presentationscheduled"
    entered = run()
    assert "pipeline" == tier(company)
    assert prospecting == entered["tasks_closed"]  # prospecting tasks superseded, once
    assert 1 == open_tasks(company)  # the deal-support task
    assert 0 == run()["tasks_closed"]
    for mine in open_deals[company]:
        mine["properties"].update(dealstage="closedlost", hs_is_closed="true")
    left = run()
    assert tier(company) not in ("pipeline", "", None)
    assert 1 == left["tasks_closed"]
    assert 0 == run()["tasks_closed"]


def test_a_probability_floor_picks_stages_by_their_default_probability() -> None:
    from tierwise.connectors.hubspot.deals import qualifying_stages as hubspot_stages
    from tierwise.connectors.salesforce.opportunities import qualifying_stages as sf_stages
    from tierwise.sandbox.hs_pipelines import deal_pipelines
    from tierwise.sandbox.sf_schema import STOCK_OPPORTUNITY_STAGES
    from tierwise.tiering.model import PipelineStage

    rows = [
        {"ApiName": n, "MasterLabel": n, "SortOrder": i, "IsClosed": c, "DefaultProbability": p}
        for i, (n, c, _w, p) in enumerate(STOCK_OPPORTUNITY_STAGES, 1)
    ]
    assert {"Perception Analysis", "Proposal/Price Quote", "Negotiation/Review"} == sf_stages(
        rows, PipelineStage(probability=70)
    )
    assert {"decisionmakerboughtin", "contractsent", "1002"} == hubspot_stages(
        deal_pipelines(), PipelineStage(probability=80)
    )
    # A named stage wins over the floor; the order is the entry's own pipeline's.
    assert {"1002"} == hubspot_stages(deal_pipelines(), PipelineStage("x", "Renewal quoted", 5))


@pytest.mark.parametrize(
    ("stage", "problem"),
    [
        ({"salesforce": "Nope"}, "no Opportunity stage 'Nope'"),
        ({"salesforce": "Closed Won"}, "is a closed stage"),
        ({"hubspot": "closedwon"}, "is a closed stage"),
        ({"hubspot": "nope"}, "no deal stage 'nope'"),
    ],
)
def test_an_unknown_or_closed_entry_stage_is_a_configuration_error(
    stage: dict[str, str], problem: str
) -> None:
    from tierwise.connectors.errors import ConfigurationError
    from tierwise.connectors.hubspot.deals import qualifying_stages as hubspot_stages
    from tierwise.connectors.salesforce.opportunities import qualifying_stages as sf_stages
    from tierwise.sandbox.hs_pipelines import deal_pipelines
    from tierwise.sandbox.sf_schema import STOCK_OPPORTUNITY_STAGES
    from tierwise.tiering.model import PipelineStage

    rows = [
        {"ApiName": n, "MasterLabel": n, "SortOrder": i, "IsClosed": c, "DefaultProbability": p}
        for i, (n, c, _w, p) in enumerate(STOCK_OPPORTUNITY_STAGES, 1)
    ]
    rule = PipelineStage(**stage)  # type: ignore[arg-type]  # the parametrised keys

    def check() -> object:
        if "salesforce" in stage:
            return sf_stages(rows, rule)
        return hubspot_stages(deal_pipelines(), rule)

    with pytest.raises(ConfigurationError, match=problem):
        check()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("pipeline:\n  label: x\n", "pipeline: needs stage"),
        ("pipeline:\n  stage:\n    probability: 120\n", "pipeline.stage.probability: must be"),
        ("pipeline:\n  stage:\n    oracle: Won\n", "pipeline.stage.oracle: unknown key"),
        ("pipeline:\n  stage:\n    salesforce: ''\n", "pipeline.stage.salesforce: must be"),
    ],
)
def test_pipeline_stage_mistakes_point_at_file_line_and_key(text: str, where: str) -> None:
    from tierwise.tiering.errors import ModelError
    from tierwise.tiering.loader import parse_model

    base = BUNDLED.read_text(encoding="utf-8")
    with pytest.raises(ModelError) as caught:
        parse_model(base + "\n" + text, "model.yaml")
    line = base.count("\n") + 2
    assert str(caught.value).startswith("model.yaml:"), str(caught.value)
    assert where in str(caught.value)
    assert int(str(caught.value).split(":")[1]) >= line


def test_the_entry_stage_costs_one_pipelines_call_per_run(sandbox: Sandbox, env: Path) -> None:
    sandbox.reset_calls()
    run()
    run()
    pipelines = [c for c in sandbox.calls if c.path.startswith("/crm/v3/pipelines/deals")]
    assert 2 == len(pipelines)
    assert all(200 == c.status for c in pipelines)
