# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""One error tree, one exit code per failure from every command; the worker's health.

In-process (CliRunner, fakes) where a subprocess cannot provoke the failure: a bug,
a spent quota, a report folder that breaks after the CRM writes, scheduled failures.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client import generate_latest

from tests.sync.fakes import FakeCrm, seed
from tierwise.config.catalog import markdown_table
from tierwise.config.secrets import read_secret_files
from tierwise.config.settings import Settings
from tierwise.connectors.errors import (
    AuthenticationError,
    ConfigurationError,
    FatalCrmError,
    QuotaExhaustedError,
    RetriableError,
    SchemaError,
)
from tierwise.sync.cli import main
from tierwise.sync.exits import EXIT_CODES, NotFoundError, SettingError
from tierwise.sync.metrics import Metrics
from tierwise.sync.report import RunReport
from tierwise.sync.scheduler import scheduled_job
from tierwise.sync.state import LockHeldError
from tierwise.tiering.errors import ModelError, TierwiseError

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("TIERWISE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TIERWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("TIERWISE_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("TIERWISE_SECRETS_DIR", str(tmp_path / "secrets"))
    monkeypatch.setenv("TIERWISE_HUBSPOT__ACCESS_TOKEN", "pat-na1-test")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "error_class",
    [
        TierwiseError,
        ModelError,
        ConfigurationError,
        SchemaError,
        AuthenticationError,
        RetriableError,
        QuotaExhaustedError,
        FatalCrmError,
        LockHeldError,
        SettingError,
        NotFoundError,
    ],
)
def test_each_error_class_carries_the_exit_code_of_its_status(
    error_class: type[TierwiseError],
) -> None:
    assert EXIT_CODES[error_class.run_status] == error_class.exit_code


@pytest.mark.parametrize("command", [["run"], ["report"], ["calibrate"], ["provision"]])
def test_a_spent_quota_exits_6_from_every_command(
    env: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    def spent(*_args: Any, **_kw: Any) -> Any:
        raise QuotaExhaustedError("HubSpot daily API limit is exhausted", system="hubspot")

    monkeypatch.setattr("tierwise.sync.bootstrap.build_crm_connectors", spent)
    result = CliRunner().invoke(main, command)
    assert 6 == result.exit_code, result.output
    assert "deferred: HubSpot daily API limit" in result.output


def test_a_bug_is_one_line_and_exit_1_and_its_traceback_only_with_debug(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kw: Any) -> Any:
        raise KeyError("surprise")

    monkeypatch.setattr("tierwise.sync.bootstrap.build_store", broken)
    quiet = CliRunner().invoke(main, ["runs"])
    assert 1 == quiet.exit_code
    assert "Traceback" not in quiet.output
    assert "KeyError: 'surprise'" in quiet.output
    assert "--debug" in quiet.output
    loud = CliRunner().invoke(main, ["--debug", "runs"])
    assert 1 == loud.exit_code
    assert "Traceback" in loud.output


def test_a_report_that_cannot_be_written_after_the_writes_is_a_warning(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = FakeCrm("hubspot", lambda: datetime.now(UTC))
    seed(crm, 5)
    monkeypatch.setattr("tierwise.sync.bootstrap.build_crm_connectors", lambda *_a, **_k: [crm])

    def full_disk(self: RunReport, directory: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunReport, "write", full_disk)
    result = CliRunner().invoke(main, ["run", "--full"])
    assert 0 == result.exit_code, result.output
    assert "warning: could not write the run report to" in result.output
    assert "TIERWISE_REPORT_DIR" in result.output


def test_explain_of_an_unknown_account_suggests_close_matches(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = FakeCrm("hubspot", lambda: datetime.now(UTC))
    seed(crm, 5)
    monkeypatch.setattr("tierwise.sync.bootstrap.build_crm_connectors", lambda *_a, **_k: [crm])
    assert 0 == CliRunner().invoke(main, ["run", "--full"]).exit_code
    result = CliRunner().invoke(main, ["explain", "company1.exampel"])
    assert 8 == result.exit_code, result.output
    assert "no account 'company1.exampel'" in result.output
    assert "did you mean company1.example" in result.output
    assert 8 == CliRunner().invoke(main, ["history", "nowhere.example"]).exit_code


def test_json_is_accepted_after_the_command_as_before_it(env: Path) -> None:
    before = CliRunner().invoke(main, ["--json", "validate"])
    after = CliRunner().invoke(main, ["validate", "--json"])
    assert (0, 0) == (before.exit_code, after.exit_code), after.output
    assert before.stdout == after.stdout


# -- secrets --------------------------------------------------------------------------
def test_secret_files_map_onto_nested_settings_with_or_without_the_prefix(tmp_path: Path) -> None:
    (tmp_path / "TIERWISE_HUBSPOT__ACCESS_TOKEN").write_text("pat-one\n")
    (tmp_path / "salesforce__access_token").write_text("sf-two")
    (tmp_path / "unrelated_db_password").write_text("not ours")
    known = {"TIERWISE_HUBSPOT__ACCESS_TOKEN", "TIERWISE_SALESFORCE__ACCESS_TOKEN"}
    assert {
        "hubspot": {"access_token": "pat-one"},
        "salesforce": {"access_token": "sf-two"},
    } == read_secret_files(tmp_path, known)


def test_a_section_file_holding_json_still_works_beside_a_per_secret_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "TIERWISE_HUBSPOT").write_text('{"base_url": "http://127.0.0.1:1"}')
    (tmp_path / "HUBSPOT__ACCESS_TOKEN").write_text("pat-three")
    known = {"TIERWISE_HUBSPOT__ACCESS_TOKEN", "TIERWISE_HUBSPOT__BASE_URL"}
    assert {"hubspot": {"access_token": "pat-three", "base_url": "http://127.0.0.1:1"}} == (
        read_secret_files(tmp_path, known)
    )


def test_an_environment_variable_wins_over_a_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "TIERWISE_HUBSPOT__ACCESS_TOKEN").write_text("from-file")
    (tmp_path / "TIERWISE_HUBSPOT__BASE_URL").write_text("http://127.0.0.1:1")
    monkeypatch.setenv("TIERWISE_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("TIERWISE_HUBSPOT__ACCESS_TOKEN", "from-env")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # pydantic-settings init arg
    assert settings.hubspot is not None
    token = settings.hubspot.access_token
    assert token is not None
    assert "from-env" == token.get_secret_value()
    assert "http://127.0.0.1:1" == settings.hubspot.base_url


# -- the scheduled worker -----------------------------------------------------------------
def _report(status: str) -> RunReport:
    now = datetime(2026, 11, 30, 3, tzinfo=UTC)
    return RunReport("r" * 32, "incremental", False, now, now + timedelta(seconds=1), status)


def _app(outcomes: list[Any], metrics: Metrics) -> Any:
    def run(full: bool) -> Any:
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return SimpleNamespace(report=item)

    engine = SimpleNamespace(run=run)
    return SimpleNamespace(
        engine=engine, metrics=metrics, stop=SimpleNamespace(is_set=lambda: False)
    )


def test_failed_scheduled_runs_are_counted_and_turn_the_health_check_unhealthy() -> None:
    settings = Settings(  # type: ignore[call-arg]  # pydantic-settings init arg
        _env_file=None,
        schedule={"unhealthy_after_failures": 2},  # type: ignore[arg-type]  # pydantic parses it
    )
    metrics = Metrics()
    outcomes: list[Any] = [_report("ok"), _report("authentication"), RuntimeError("bug")]
    job = scheduled_job(_app(outcomes, metrics), settings, lambda _r, _s: None)
    port = metrics.serve(0, addr="127.0.0.1")
    try:
        job(False)
        assert metrics.healthy
        job(False)
        assert metrics.healthy
        job(False)  # the engine itself raised: logged and counted, never raised to APScheduler
        assert not metrics.healthy
        with pytest.raises(urllib.error.HTTPError) as unhealthy:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        unhealthy.value.close()
        assert 503 == unhealthy.value.code
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        metrics.shutdown()
    assert 'tierwise_runs_total{kind="incremental",status="authentication"} 1.0' in text
    assert 'tierwise_runs_total{kind="incremental",status="failed"} 1.0' in text
    assert "tierwise_consecutive_failures 2.0" in text
    assert "tierwise_last_failure_timestamp_seconds" in generate_latest(metrics.registry).decode()


# -- README --------------------------------------------------------------------------------
def test_the_readme_settings_table_is_generated_from_the_settings_model() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- settings-table:start -->") + len("<!-- settings-table:start -->")
    end = text.index("<!-- settings-table:end -->")
    assert markdown_table() == text[start:end].strip(), (
        "README settings table is stale: paste python -c 'from tierwise.config.catalog import "
        "markdown_table; print(markdown_table())'"
    )


def test_the_readme_documents_every_exit_code() -> None:
    text = README.read_text(encoding="utf-8")
    for status, code in EXIT_CODES.items():
        assert f"| {code} | `{status}`" in text, status


def test_tierwise_health_reads_healthz_on_the_configured_metrics_port(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = Metrics()
    health = SimpleNamespace(healthy=True, consecutive=0)
    metrics.bind_health(health)
    port = metrics.serve(0, addr="127.0.0.1")
    monkeypatch.setenv("TIERWISE_SCHEDULE__METRICS_PORT", str(port))
    try:
        assert 0 == CliRunner().invoke(main, ["health"]).exit_code
        health.healthy = False
        sick = CliRunner().invoke(main, ["health"])
    finally:
        metrics.shutdown()
    assert 1 == sick.exit_code
    assert f"127.0.0.1:{port}/healthz answered 503" in sick.output


def test_validate_online_names_the_missing_fields_then_passes_once_provisioned(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.provisioning import provision
    from tierwise.sandbox import Sandbox

    with Sandbox(accounts=20) as sb:
        for name, value in sb.env().items():
            monkeypatch.setenv(name, value)
        offline = CliRunner().invoke(main, ["validate"])
        assert 0 == offline.exit_code, offline.output  # nothing sent to a CRM
        before = CliRunner().invoke(main, ["validate", "--online"])
        assert 2 == before.exit_code, before.output
        assert "tierwise provision" in before.output
        provision(sb, customer_tiers=False)
        after = CliRunner().invoke(main, ["validate", "--online"])
        assert 0 == after.exit_code, after.output
