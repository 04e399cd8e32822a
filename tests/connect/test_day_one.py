# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Issue 12's "Done when", end to end through the CLI against the sandbox.

A stock org (no custom data): ``provision`` + ``run --full`` exit 0 in both CRMs, every
tier is used, Tier 1 stays within its capacity, the reasons cite standard data and the
summary lists the optional inputs the org does not have. The enriched org (the
customer's own fields): ``connect --write mapping.yaml`` proposes the right field for
each optional input, and a run with that file pulls and scores them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from tierwise.config.mapping import load_mapping
from tierwise.sandbox import Sandbox
from tierwise.sync.cli import main
from tierwise.sync.state import StateStore
from tierwise.tiering import load_model

REPO = Path(__file__).resolve().parents[2]
MODEL = load_model(REPO / "config" / "model.yaml")
ACCOUNTS = 466  # the first-run example
OPTIONAL = (
    "intent_score",
    "intent_surge",
    "last_funding_date",
    "competitor_customer",
    "payment_risk",
)
# Standard on HubSpot (web_visits, tech_stack, total_money_raised), custom on Salesforce.
SALESFORCE_OPTIONAL = (*OPTIONAL, "web_visits", "tech_stack", "last_funding_amount")


def env(sb: Sandbox, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **sb.env(),
        "TIERWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "TIERWISE_REPORT_DIR": str(tmp_path / "reports"),
        **extra,
    }


def tierwise(*args: str, environ: dict[str, str]) -> Any:
    result = CliRunner().invoke(main, list(args), env=environ)
    assert 0 == result.exit_code, result.output
    return result


def tiers_and_reasons(sb: Sandbox) -> dict[str, list[tuple[str, str]]]:
    """(tier, reason) of every account in each CRM, as tierwise wrote them."""
    return {
        "salesforce": [
            (str(r.get("Tierwise_Tier__c")), str(r.get("Tierwise_Reason__c")))
            for r in sb.salesforce.objects["Account"].values()
        ],
        "hubspot": [
            (str(c["properties"].get("tierwise_tier")), str(c["properties"].get("tierwise_reason")))
            for c in sb.hubspot.objects["companies"].values()
        ],
    }


def not_mapped(stdout: str, system: str) -> set[str]:
    """The inputs the run summary lists as scored as missing for ``system``."""
    found = re.search(rf"^  {system}: not mapped: (.*) \(scored as missing\)$", stdout, re.M)
    if found is None:
        return set()
    return {name.split(" (")[0] for name in found.group(1).split(", ")}


def test_a_stock_org_gets_useful_tiers_from_standard_data_on_day_one(tmp_path: Path) -> None:
    with Sandbox(accounts=ACCOUNTS, seed=7) as sb:
        environ = env(sb, tmp_path)
        tierwise("provision", environ=environ)
        result = tierwise("run", "--full", environ=environ)
        written = tiers_and_reasons(sb)

    capacity = MODEL.tiers[0].capacity
    assert capacity is not None
    assert f"first run: {ACCOUNTS} accounts tiered for the first time" in result.stdout
    for system, rows in written.items():
        counts = Counter(tier for tier, _ in rows)
        assert ACCOUNTS == len(rows)
        for tier in MODEL.tier_ids():
            assert counts[tier] > 0, (system, tier, counts)
        assert counts["tier_1"] <= capacity
        assert counts["tier_1"] < counts["tier_2"] < ACCOUNTS / 2, (system, counts)
        best = [reason for tier, reason in rows if tier == "tier_1"]
        for reason in best:
            # An optional input the org lacks is never a reason ("intent 55" would be the
            # intent_score signal; "intent 8/30" is the group of standard activity data).
            assert not re.search(r"intent \d+(\.\d+)?(?!\d*/)", reason), reason
            for optional in ("surge", "competitor", "payment risk"):
                assert optional not in reason, reason
        assert any("pipeline" in reason or "emp" in reason for reason in best), best
    assert set(SALESFORCE_OPTIONAL) == not_mapped(result.stdout, "salesforce")
    assert set(OPTIONAL) == not_mapped(result.stdout, "hubspot")


@pytest.fixture(scope="module")
def enriched() -> Any:
    with Sandbox(accounts=120, seed=7, profile="enriched") as sb:
        yield sb


def test_connect_write_proposes_the_enriched_orgs_field_for_every_optional_input(
    enriched: Sandbox, tmp_path: Path
) -> None:
    proposal = tmp_path / "mapping.yaml"

    tierwise("connect", "--write", str(proposal), environ=env(enriched, tmp_path))

    # The enriched profile's custom fields are the ones config/mapping.example.yaml names.
    example = load_mapping(REPO / "config" / "mapping.example.yaml")
    proposed = load_mapping(proposal)
    assert {k: example.fields["salesforce"][k] for k in SALESFORCE_OPTIONAL} == (
        proposed.fields["salesforce"]
    )
    assert {k: example.fields["hubspot"][k] for k in OPTIONAL} == proposed.fields["hubspot"]
    # Credit_Risk__c stores Low/Medium/High; the model's table says low/medium/high.
    assert {"Low": "low", "Medium": "medium", "High": "high"} == (
        proposed.values["salesforce"]["payment_risk"]
    )
    loaded = YAML(typ="safe").load(proposal.read_text(encoding="utf-8"))
    assert {"salesforce", "hubspot"} == set(loaded)


def test_a_run_with_the_proposed_mapping_pulls_and_scores_the_optional_inputs(
    enriched: Sandbox, tmp_path: Path
) -> None:
    proposal = tmp_path / "mapping.yaml"
    environ = env(enriched, tmp_path)
    tierwise("provision", environ=environ)
    tierwise("connect", "--write", str(proposal), environ=environ)

    result = tierwise("run", "--full", environ={**environ, "TIERWISE_MAPPING_PATH": str(proposal)})

    assert set() == not_mapped(result.stdout, "salesforce")
    assert set() == not_mapped(result.stdout, "hubspot")
    store = StateStore.from_url(environ["TIERWISE_DATABASE_URL"])
    try:
        snapshots = store.snapshots()
    finally:
        store.dispose()
    for system in ("salesforce", "hubspot"):
        pulled = [s.fields for s in snapshots if s.system == system]
        assert len(pulled) == 120
        for name in SALESFORCE_OPTIONAL if system == "salesforce" else OPTIONAL:
            assert any(f.get(name) is not None for f in pulled), (system, name)
        # The value map lands the org's risk values on the model's categories.
        risks = {f.get("payment_risk") for f in pulled} - {None}
        assert risks, system
        assert risks <= {"low", "medium", "high"}, (system, risks)
    reasons = [reason for rows in tiers_and_reasons(enriched).values() for _, reason in rows]
    assert any(re.search(r"intent \d+(\.\d+)?(?!\d*/)", r) for r in reasons)


def test_the_demo_backfills_so_a_newcomer_sees_tasks_on_the_first_run() -> None:
    result = CliRunner().invoke(main, ["demo", "--accounts", "60"])

    assert 0 == result.exit_code, result.output
    first = result.stdout.split("== First run")[1].split("== Second run")[0]
    assert "go-live backfill: entry tasks created" in first
    created = re.search(r"tasks: (\d+) planned, (\d+) created", first)
    assert created is not None, first
    assert int(created.group(1)) == int(created.group(2)) > 0
