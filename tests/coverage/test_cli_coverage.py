# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Issue 16 through the CLI against the sandbox: owner books, pin limits, audiences, explain."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.provisioning import provisioned
from tierwise.sandbox import Sandbox
from tierwise.sync.cli import main
from tierwise.sync.coverage.audiences import LINKEDIN_HEADERS

BUNDLED = Path(__file__).resolve().parents[2] / "config" / "model.yaml"
TIER_1_CAP, TIER_2_CAP = 1, 3


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with provisioned(Sandbox(accounts=150, seed=11)) as sb:
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
    text = text.replace("    per_owner_capacity: 20 ", f"    per_owner_capacity: {TIER_1_CAP} ", 1)
    text = text.replace(
        "    top_percent: 20\n", f"    top_percent: 20\n    per_owner_capacity: {TIER_2_CAP}\n", 1
    )
    text = text.replace("  honour_expiry: true\n", "  honour_expiry: true\n  max_per_tier: 2\n", 1)
    text = text.replace("    # budget_per_account: 50 ", "    budget_per_account: 50 ", 1)
    (tmp_path / "model.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def tierwise(*args: str) -> Result:
    return CliRunner().invoke(main, ["--model", "model.yaml", *args], catch_exceptions=False)


def test_owner_books_are_never_exceeded_and_overflow_says_why(sandbox: Sandbox, env: Path) -> None:
    ran = tierwise("run", "--full")
    assert 0 == ran.exit_code, ran.output

    accounts = sandbox.salesforce.objects["Account"].values()
    books = Counter((a["OwnerId"], a["Tierwise_Tier__c"]) for a in accounts)
    assert max(n for (_o, tier), n in books.items() if tier == "tier_1") <= TIER_1_CAP
    assert max(n for (_o, tier), n in books.items() if tier == "tier_2") <= TIER_2_CAP
    overflowed = [a for a in accounts if "book full" in (a["Tierwise_Reason__c"] or "")]
    assert overflowed
    assert all(
        f"owner book full ({TIER_1_CAP}/{TIER_1_CAP} in Tier 1 Strategic)"
        in a["Tierwise_Reason__c"]
        or f"({TIER_2_CAP}/{TIER_2_CAP} in Tier 2 Core)" in a["Tierwise_Reason__c"]
        for a in overflowed
    )

    shown = tierwise("owners", "--json")
    assert 0 == shown.exit_code, shown.output
    report = json.loads(shown.stdout)
    rows = [r for r in report["owners"] if r["cap"] is not None]
    assert rows
    assert all(r["load"] <= r["cap"] for r in rows)
    # Accounts that overflowed last run now sit in the next tier's band, where hysteresis
    # may hold them: the report counts what a run would do now, so at least one, not all.
    assert sum(r["overflow"] for r in rows) >= 1
    assert {(r["owner"], r["tier"]): r["load"] for r in report["owners"]} == {
        k: n for k, n in books.items() if k[1] in {r["tier"] for r in report["owners"]}
    }
    assert "never reassigns" in report["proposal_only"]

    as_csv = tierwise("owners", "--format", "csv", "--out", "owners.csv")
    assert 0 == as_csv.exit_code, as_csv.output
    header = (env / "owners.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "owner,group,tier,load,cap,overflow,room" == header
    as_html = tierwise("owners", "--format", "html", "--out", "owners.html")
    assert 0 == as_html.exit_code
    assert "<table>" in (env / "owners.html").read_text(encoding="utf-8")

    # The same report as `tierwise report --owners` (JSON on stdout, CSV and HTML files).
    via_report = tierwise("report", "--owners", "--json", "--csv", "r.csv", "--html", "r.html")
    assert 0 == via_report.exit_code, via_report.output
    assert report == json.loads(via_report.stdout)
    assert (env / "owners.csv").read_text(encoding="utf-8") == (env / "r.csv").read_text(
        encoding="utf-8"
    )
    assert "<table>" in (env / "r.html").read_text(encoding="utf-8")
    as_text = tierwise("report", "--owners")
    assert 0 == as_text.exit_code
    assert as_text.output == tierwise("owners").output


def test_pins_past_max_per_tier_fall_back_and_the_summary_says_so(
    sandbox: Sandbox, env: Path
) -> None:
    pinned = sorted(sandbox.salesforce.objects["Account"])[:5]
    for crm_id in pinned:
        sandbox.salesforce.objects["Account"][crm_id]["Tierwise_Tier_Override__c"] = "tier_1"

    ran = tierwise("run", "--full", "--json")
    assert 0 == ran.exit_code, ran.output
    report = json.loads(ran.stdout)

    assert {"tier_1": 3} == report["pins_over_limit"]
    assert any(
        "3 pin(s) past overrides.max_per_tier (2)" in note for note in report["capacity_notes"]
    )
    accounts = sandbox.salesforce.objects["Account"]
    reasons = [accounts[i]["Tierwise_Reason__c"] for i in pinned]
    assert 2 == sum("manual override" in r for r in reasons)
    assert 3 == sum(
        "past overrides.max_per_tier (2; lowest scores fall back)" in r for r in reasons
    )
    text = tierwise("run")
    assert "capacity: tier_1 Strategic: 3 pin(s) past overrides.max_per_tier" in text.output

    # `tierwise report` lists them the same way: per tier, by account, and the notes.
    shown = tierwise("report", "--json", "--html", "report.html")
    assert 0 == shown.exit_code, shown.output
    capacity = json.loads(shown.stdout)["capacity"]
    assert {"tier_1": 3} == capacity["pins_over_limit"]
    assert report["over_capacity"] == capacity["over_capacity"]
    assert report["capacity_notes"] == capacity["notes"]
    fell_back = {p["name"] for p in capacity["pins_over_limit_accounts"]}
    assert 3 == len(capacity["pins_over_limit_accounts"])
    fallen = [
        i for i in pinned if "past overrides.max_per_tier" in accounts[i]["Tierwise_Reason__c"]
    ]
    assert {accounts[i]["Name"] for i in fallen} == fell_back
    page = (env / "report.html").read_text(encoding="utf-8")
    assert "Pins past overrides.max_per_tier" in page
    assert "3 pin(s) past overrides.max_per_tier" in page
    assert "capacity: tier_1 Strategic: 3 pin(s) past" in tierwise("report").output


def test_audiences_export_per_tier_with_the_linkedin_template_headers(
    sandbox: Sandbox, env: Path
) -> None:
    ran = tierwise("run", "--full", "--json")
    assert 0 == ran.exit_code, ran.output
    per_tier = json.loads(ran.stdout)["per_tier"]

    exported = tierwise("export", "audiences", "--out", "aud")
    assert 0 == exported.exit_code, exported.output

    for tier in ("tier_1", "tier_2", "tier_3", "tier_4"):
        with (env / "aud" / f"{tier}-linkedin.csv").open(encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
        assert list(LINKEDIN_HEADERS) == reader.fieldnames
        assert per_tier[tier] == len(rows)
        assert all(r["companyname"] and r["companywebsite"] for r in rows)
        with (env / "aud" / f"{tier}.csv").open(encoding="utf-8") as handle:
            assert per_tier[tier] == len(list(csv.DictReader(handle)))
    assert "below LinkedIn's minimum of 300" in exported.output
    assert f"planned spend {per_tier['tier_1'] * 50:,.0f} (50/account)" in exported.output


def test_explain_says_what_would_move_an_account_up_a_tier(sandbox: Sandbox, env: Path) -> None:
    assert 0 == tierwise("run", "--full").exit_code
    account = next(
        a
        for a in sandbox.salesforce.objects["Account"].values()
        if a["Tierwise_Tier__c"] == "tier_3" and "pts to Tier 2" in (a["Tierwise_Reason__c"] or "")
    )

    shown = tierwise("explain", account["Id"])

    assert 0 == shown.exit_code, shown.output
    assert "next tier:     +" in shown.output
    assert "pts to Tier 2 Core" in shown.output


def test_the_review_pack_lists_moves_expiring_pins_capacity_and_quiet_tier_1_accounts(
    sandbox: Sandbox, env: Path
) -> None:
    accounts = sandbox.salesforce.objects["Account"]
    pinned = sorted(accounts)[0]
    soon = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()
    accounts[pinned]["Tierwise_Tier_Override__c"] = "tier_2"
    accounts[pinned]["Tierwise_Override_Until__c"] = soon
    ran = tierwise("run", "--full")
    assert 0 == ran.exit_code, ran.output[-600:]

    shown = tierwise("review", "--since", "90d", "--json")

    assert 0 == shown.exit_code, shown.output
    pack = json.loads(shown.stdout)
    assert len(accounts) == len({m["account"] for m in pack["moves"]})
    assert all("(new)" == m["from"] and m["why"] for m in pack["moves"])
    (pin,) = [o for o in pack["overrides"] if o["source"] == "pin"]
    assert ("tier_2", soon, "expires in 5 days") == (pin["tier"], pin["until"], pin["state"])
    tier_1 = [r for r in pack["capacity"] if r["tier"] == "tier_1" and r["owner"] != "(all)"]
    assert tier_1
    assert all(str(TIER_1_CAP) == r["cap"] for r in tier_1)
    today = datetime.now(UTC).date()
    quiet = {
        a["Id"]
        for a in accounts.values()
        if a["Tierwise_Tier__c"] == "tier_1"
        and (
            not a.get("LastActivityDate")
            or (today - date.fromisoformat(str(a["LastActivityDate"])[:10])).days >= 30
        )
    }
    names = {a["Name"] for a in accounts.values() if a["Id"] in quiet}
    assert names == {q["name"] for q in pack["tier1_quiet"]}
    assert all(float(n["points"]) <= 3 for n in pack["near_boundary"])

    as_html = tierwise("review", "--format", "html", "--out", "review.html")
    assert 0 == as_html.exit_code
    page = (env / "review.html").read_text(encoding="utf-8")
    assert "Tier 1 accounts with no activity in 30 days" in page
    as_csv = tierwise("review", "--format", "csv", "--out", "review.csv")
    assert 0 == as_csv.exit_code
    with (env / "review.csv").open(encoding="utf-8") as handle:
        sections = {row["section"] for row in csv.DictReader(handle)}
    assert {"moves", "capacity", "overrides"} <= sections


def test_spend_adds_planned_spend_and_returns_per_unit_to_the_outcome_report(
    sandbox: Sandbox, env: Path
) -> None:
    assert 0 == tierwise("run", "--full").exit_code
    outcome = tierwise("report", "--json")
    assert 0 == outcome.exit_code, outcome.output
    tier_1 = next(r for r in json.loads(outcome.stdout)["tiers"] if r["tier"] == "tier_1")

    shown = tierwise("spend", "--json")

    assert 0 == shown.exit_code, shown.output
    rows = {r["tier"]: r for r in json.loads(shown.stdout)["tiers"]}
    spend = tier_1["accounts"] * 50.0
    assert (50.0, spend) == (rows["tier_1"]["budget_per_account"], rows["tier_1"]["planned_spend"])
    assert round(tier_1["new_pipeline"] / spend, 2) == rows["tier_1"]["pipeline_per_spend"]
    assert round(tier_1["revenue"] / spend, 2) == rows["tier_1"]["revenue_per_spend"]
    assert rows["tier_2"]["planned_spend"] is None

    # `tierwise report` shows the same spend section, and its CSV carries the columns.
    shown = tierwise("report", "--json", "--csv", "report.csv")
    assert 0 == shown.exit_code, shown.output
    in_report = json.loads(shown.stdout)["spend"]
    assert list(rows.values()) == in_report["tiers"]
    with (env / "report.csv").open(encoding="utf-8") as handle:
        by_tier = {row["tier"]: row for row in csv.DictReader(handle)}
    assert f"{spend:.2f}" == by_tier["tier_1"]["planned_spend"]
    assert "" == by_tier["tier_2"]["planned_spend"]
    assert "planned spend, all tiers" in tierwise("report").output
