# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The blast-radius breaker: a run that would re-tier too much of the book writes nothing,
is saved as a plan, and goes ahead only when approved (`tierwise apply` / `run --approve`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from structlog.testing import capture_logs

from tests.change.conftest import cli_env, tiers, tierwise, writes
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import settings_from_env, write_report
from tierwise.sync.exits import EXIT_HELD
from tierwise.sync.scheduler import scheduled_job

STABLE = {"min_dwell_days: 90": "min_dwell_days: 0", "hysteresis_points: 3": "hysteresis_points: 0"}


def models(tmp: Path) -> tuple[Path, Path]:
    """The bundled model without dwell/hysteresis, and a stricter one: Programmatic shrinks
    from the top 50 % to the top 27 % and Core from 20 % to 10 %, which moves 30 % of the
    accounts down a tier."""
    text = Path("config/model.yaml").read_text()
    for old, new in STABLE.items():
        text = text.replace(old, new)
    live, strict = tmp / "model.yaml", tmp / "strict.yaml"
    live.write_text(text)
    strict.write_text(
        text.replace("top_percent: 20", "top_percent: 10").replace(
            "top_percent: 50", "top_percent: 27"
        )
    )
    return live, strict


@pytest.fixture
def tiered(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    """An org tiered once with the live model (its first tiering: not a change)."""
    live, strict = models(tmp_path)
    env = cli_env(sandbox, tmp_path, TIERWISE_MODEL_PATH=str(live))
    first = tierwise(env, "run")
    assert 0 == first.exit_code, first.output
    env["TIERWISE_MODEL_PATH"] = str(strict)
    sandbox.reset_calls()
    return env


def test_a_run_moving_30_percent_of_tiers_is_held_and_the_approved_apply_writes_it(
    sandbox: Sandbox, tiered: dict[str, str]
) -> None:
    before = tiers(sandbox)

    held = tierwise(tiered, "run")

    assert EXIT_HELD == held.exit_code, held.output
    found = re.search(r"change the tier of (\d+) of (\d+) tiered accounts \((\d+)%", held.stderr)
    assert found is not None, held.stderr
    assert 30 == int(found.group(3))
    plan_file = Path(re.findall(r"`tierwise apply (\S+)`", held.stderr)[0])
    assert plan_file.is_file()
    assert [] == writes(sandbox)
    assert before == tiers(sandbox)
    saved = json.loads(plan_file.read_text())
    assert "held" == saved["origin"]

    applied = tierwise(tiered, "apply", str(plan_file))

    assert 0 == applied.exit_code, applied.output
    after = tiers(sandbox)
    assert len(saved["records"]) == sum(1 for k in after if after[k] != before[k])
    again = tierwise(tiered, "run")
    assert 0 == again.exit_code, again.output


def test_run_approve_goes_ahead_over_the_breaker(sandbox: Sandbox, tiered: dict[str, str]) -> None:
    approved = tierwise(tiered, "run", "--approve")

    assert 0 == approved.exit_code, approved.output
    assert writes(sandbox)


def test_a_higher_share_setting_lets_the_same_run_through(
    sandbox: Sandbox, tiered: dict[str, str]
) -> None:
    result = tierwise({**tiered, "TIERWISE_MAX_TIER_CHANGE_SHARE": "0.5"}, "run")
    assert 0 == result.exit_code, result.output


def test_schedule_counts_and_logs_the_held_run(
    sandbox: Sandbox, tiered: dict[str, str], tmp_path: Path
) -> None:
    settings = settings_from_env(tiered, model_path=tiered["TIERWISE_MODEL_PATH"])
    app = boot.bootstrap(settings)
    try:
        job = scheduled_job(app, settings, write_report)
        with capture_logs() as logs:
            job(False)
    finally:
        app.close()
    metrics = generate_latest(app.metrics.registry).decode()
    assert 'tierwise_runs_total{kind="incremental",status="held"} 1.0' in metrics
    finished = next(e for e in logs if e["event"] == "schedule.run_finished")
    assert ("held", EXIT_HELD) == (finished["status"], finished["exit_code"])
    assert "tierwise apply" in finished["message"]
    assert any(e["event"] == "run.held" for e in logs)
    assert [] == writes(sandbox)
