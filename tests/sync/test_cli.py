# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The ``tierwise`` command line through click's CliRunner."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.sync.fakes import FakeCrm, seed
from tierwise.sync.cli import main

BAD_MODEL = """version: 1
fields:
  employees: number
groups:
  - id: fit
    weight: forty
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(__import__("os").environ):
        if name.startswith("TIERWISE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TIERWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("TIERWISE_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [
        "demo",
        "run",
        "plan",
        "schedule",
        "explain",
        "history",
        "runs",
        "validate",
        "provision",
        "sandbox",
        "health",
        "connect",
        "report",
        "backtest",
        "calibrate",
        "customers",
    ],
)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert 0 == result.exit_code
    assert (
        "Usage: main " + command in result.output or f"Usage: tierwise {command}" in result.output
    )


def test_validate_accepts_the_bundled_model(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_HUBSPOT__ACCESS_TOKEN", "pat-na1-test")  # one CRM configured
    result = CliRunner().invoke(main, ["--json", "validate"])
    assert 0 == result.exit_code, result.output
    data = json.loads(result.stdout)
    assert ["tier_1", "tier_2", "tier_3", "tier_4", "unqualified"] == list(data["tiers"])


def test_validate_names_file_line_and_key_of_a_bad_model_and_exits_2(env: Path) -> None:
    bad = env / "bad.yaml"
    bad.write_text(BAD_MODEL)
    result = CliRunner().invoke(main, ["--model", str(bad), "validate"])
    assert 2 == result.exit_code
    assert "bad.yaml:" in result.output
    assert "model error" in result.output


def test_invalid_settings_exit_2_without_echoing_the_value(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERWISE_HAND_EDIT_OVERRIDE_DAYS", "canary-7f3a9e21d4")
    result = CliRunner().invoke(main, ["validate"])
    assert 2 == result.exit_code
    assert "TIERWISE_HAND_EDIT_OVERRIDE_DAYS" in result.output
    assert "canary-7f3a9e21d4" not in result.output


@pytest.fixture
def fake_crms(monkeypatch: pytest.MonkeyPatch) -> list[FakeCrm]:
    """Wire in-memory CRMs where the composition root would build the real connectors."""
    crm = FakeCrm("salesforce", lambda: datetime.now(UTC))
    seed(crm, 30)
    monkeypatch.setattr(
        "tierwise.sync.bootstrap.build_crm_connectors", lambda settings, model: [crm]
    )
    return [crm]


def test_run_without_any_crm_configured_exits_2_naming_the_settings(env: Path) -> None:
    result = CliRunner().invoke(main, ["run", "--full"])
    assert 2 == result.exit_code
    assert "TIERWISE_HUBSPOT__ACCESS_TOKEN" in result.output


def test_run_prints_json_and_writes_a_report(env: Path, fake_crms: list[FakeCrm]) -> None:
    result = CliRunner().invoke(main, ["--json", "run", "--full"])
    assert 0 == result.exit_code, result.output
    data = json.loads(result.stdout)
    assert ("ok", 30) == (data["status"], data["accounts"])
    assert 1 == len(list((env / "reports").glob("run-*.json")))


def test_plan_lists_field_changes_and_exports_csv_without_writing(
    env: Path, fake_crms: list[FakeCrm]
) -> None:
    result = CliRunner().invoke(main, ["plan", "--full", "--csv", str(env / "plan.csv")])
    assert 0 == result.exit_code, result.output
    assert "tier: (none) -> 'tier_" in result.output
    assert "Plan: 30 records to update" in result.output
    rows = list(csv.DictReader((env / "plan.csv").read_text().splitlines()))
    assert 30 == sum(1 for row in rows if row["field"] == "tier" and row["old"] == "")
    assert 0 == fake_crms[0].calls.get("write", 0)


def test_explain_and_history_find_an_account_by_domain_after_a_run(
    env: Path, fake_crms: list[FakeCrm]
) -> None:
    CliRunner().invoke(main, ["run", "--full"])
    explained = CliRunner().invoke(main, ["explain", "https://www.company29.example/"])
    assert 0 == explained.exit_code, explained.output
    assert "company29.example" in explained.output
    history = CliRunner().invoke(main, ["history", "sa0029"])
    assert 0 == history.exit_code, history.output
    assert "tier_" in history.output


def test_runs_lists_the_ledger(env: Path, fake_crms: list[FakeCrm]) -> None:
    CliRunner().invoke(main, ["run", "--full"])
    result = CliRunner().invoke(main, ["runs"])
    assert 0 == result.exit_code
    assert "full" in result.output
    assert " ok " in result.output


def test_a_held_lock_exits_5(env: Path, fake_crms: list[FakeCrm]) -> None:
    from tierwise.sync.state import StateStore

    store = StateStore.from_url(f"sqlite:///{env / 'state.db'}")
    store.migrate()
    lock = store.lock("other")
    lock.acquire()
    try:
        result = CliRunner().invoke(main, ["run"])
    finally:
        lock.release()
        store.dispose()
    assert 5 == result.exit_code
    assert "locked" in result.output


def test_a_canary_token_never_reaches_output_logs_or_the_report(
    env: Path, fake_crms: list[FakeCrm], monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = "pat-canary-0d1e2f3a4b5c6d7e8f90"
    monkeypatch.setenv("TIERWISE_HUBSPOT__ACCESS_TOKEN", canary)
    fake_crms[0].raise_on["write"] = RuntimeError(f"server said: bad token {canary[:14]}")
    result = CliRunner().invoke(main, ["--log-format", "json", "run", "--full"])
    assert 1 == result.exit_code
    reports = list((env / "reports").glob("run-*.json"))
    assert 1 == len(reports)
    assert "bad token" in reports[0].read_text()
    for text in (result.output, reports[0].read_text()):
        assert canary[:8] not in text


def test_an_unreachable_state_database_exits_2_without_its_password(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "TIERWISE_DATABASE_URL", "postgresql://tw:canary-db-pass-91ab@127.0.0.1:1/nowhere"
    )
    result = CliRunner().invoke(main, ["runs"])
    assert 2 == result.exit_code
    assert "TIERWISE_DATABASE_URL" in result.output
    assert "canary-db" not in result.output


def test_validate_names_file_line_and_key_of_a_misspelt_mapping_key_and_exits_2(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = env / "mapping.yaml"
    mapping.write_text("salesforce:\n  fields:\n    intnt_score: Bombora_Composite_Score__c\n")
    monkeypatch.setenv("TIERWISE_MAPPING_PATH", str(mapping))
    result = CliRunner().invoke(main, ["validate"])
    assert 2 == result.exit_code
    assert (
        f"{mapping}:3: salesforce.fields.intnt_score: names no model input "
        "(did you mean intent_score?)"
    ) in result.output


def test_run_backfill_tasks_creates_the_first_runs_entry_tasks(
    env: Path, fake_crms: list[FakeCrm]
) -> None:
    held = CliRunner().invoke(main, ["--json", "run", "--full", "--dry-run"])
    assert 0 == held.exit_code, held.output
    assert (0, True) == (
        json.loads(held.stdout)["tasks_planned"],
        json.loads(held.stdout)["first_run"],
    )
    result = CliRunner().invoke(main, ["--json", "run", "--full", "--backfill-tasks"])
    assert 0 == result.exit_code, result.output
    data = json.loads(result.stdout)
    assert data["backfill"]
    assert data["tasks_created"]["salesforce"] == len(fake_crms[0].tasks) > 0
