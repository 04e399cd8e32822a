# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""report / backtest / calibrate through the CLI, against sandbox deals with known structure.

The sandbox's deals are won far more often by Software / Financial Services companies
with 200+ employees and high intent (``tierwise.sandbox.outcomes.win_probability``). The default
model rewards those traits, so its tiers must find the structure; a model that ranks
mostly by a field unrelated to wins must not, and calibration must recover from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from tests.provisioning import provisioned
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import main, settings_from_env
from tierwise.tiering import load_model

LIVE_MODEL = Path(__file__).resolve().parents[2] / "config" / "model.yaml"


@dataclass
class World:
    env: dict[str, str]
    past: datetime
    tmp: Path


def _model_with_weights(path: Path, weights: dict[str, float]) -> None:
    yaml = YAML()
    doc = yaml.load(LIVE_MODEL.read_text(encoding="utf-8"))
    for group in doc["groups"]:
        if group["id"] in weights:
            group["weight"] = weights[group["id"]]
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(doc, handle)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("outcomes")
    with provisioned(Sandbox(accounts=3000, seed=7, hubspot_contacts=False)) as sb:
        db = f"sqlite:///{tmp / 'state.db'}"
        env = {
            **sb.env(),
            "TIERWISE_DATABASE_URL": db,
            "TIERWISE_REPORT_DIR": str(tmp / "reports"),
            "TIERWISE_LOG_LEVEL": "WARNING",
        }
        settings = settings_from_env(
            env, database_url=db, report_dir=str(tmp / "reports"), log_level="WARNING"
        )
        past = datetime.now(UTC) - timedelta(days=365)
        for clock in (lambda: past, lambda: datetime.now(UTC)):
            app = boot.bootstrap(settings, clock=clock)
            try:
                assert "ok" == app.engine.run(full=True).report.status
            finally:
                app.close()
        _model_with_weights(tmp / "bad.yaml", {"fit": 5, "intent": 5, "opportunity": 90})
        yield World(env, past, tmp)


def invoke(world: World, *args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env=world.env, catch_exceptions=False)
    assert 0 == result.exit_code, result.output
    return result


def test_report_shows_tier_1_winning_more_than_the_baseline(world: World) -> None:
    html, csv_file = world.tmp / "r.html", world.tmp / "r.csv"

    result = invoke(
        world, "report", "--json", "--html", str(html), "--csv", str(csv_file), "--volatility"
    )

    data = json.loads(result.output)
    rows = {r["tier"]: r for r in data["tiers"]}
    assert rows["tier_1"]["win_rate"] > 1.5 * rows["baseline"]["win_rate"]
    assert sum(r["accounts"] for t, r in rows.items() if t != "all") == rows["all"]["accounts"]
    assert pytest.approx(1.0) == sum(r["revenue_share"] for t, r in rows.items() if t != "all")
    assert 0 == data["unmatched_deals"]
    assert 2 == len(data["volatility"]["runs"])
    page = html.read_text(encoding="utf-8")
    assert 3 == page.count("<svg")
    assert "<script" not in page
    assert "tier_1 ≥" in page
    assert 7 == len(csv_file.read_text(encoding="utf-8").strip().splitlines())


def test_report_prints_a_readable_table(world: World) -> None:
    result = invoke(world, "report", "--since", "2026-01-01")

    assert "Baseline (unqualified + untiered)" in result.output
    assert "win rate" in result.output
    assert "Strategic" in result.output


def test_backtest_finds_the_structure_in_the_recorded_tiers(world: World) -> None:
    result = invoke(world, "backtest", "--as-of", world.past.date().isoformat(), "--json")

    data = json.loads(result.output)
    recorded = data["columns"][0]
    tiers = {t["tier"]: t for t in recorded["tiers"]}
    assert "recorded" == recorded["name"]
    assert recorded["auc"] > 0.6
    assert tiers["tier_1"]["win_rate"] > tiers["unqualified"]["win_rate"]
    assert tiers["tier_1"]["lift"] > 1.2
    assert tiers["tier_2"]["win_rate"] > tiers["tier_4"]["win_rate"]


def test_backtest_puts_two_models_side_by_side(world: World) -> None:
    result = invoke(
        world,
        "backtest",
        "--as-of",
        world.past.date().isoformat(),
        "--json",
        "--model",
        str(world.tmp / "bad.yaml"),
        "--compare",
        str(LIVE_MODEL),
    )

    bad, good = json.loads(result.output)["columns"]
    assert ("bad.yaml", "model.yaml") == (bad["name"], good["name"])
    assert good["auc"] > bad["auc"] + 0.05


def test_calibration_beats_a_bad_model_on_held_out_accounts(world: World) -> None:
    out = world.tmp / "candidate.yaml"
    live_before = LIVE_MODEL.read_text(encoding="utf-8")

    result = invoke(
        world, "--model", str(world.tmp / "bad.yaml"), "calibrate", "--json", "--out", str(out)
    )

    data = json.loads(result.output)
    assert data["candidate"]["auc"] > data["current"]["auc"] + 0.05
    assert data["candidate"]["top_tier_lift"] > data["current"]["top_tier_lift"]
    candidate = load_model(out)
    weights = {g.id: g.weight for g in candidate.groups if not g.subtracts}
    assert pytest.approx(100.0) == sum(weights.values())
    assert weights == data["candidate_weights"]
    assert weights["opportunity"] < 90
    assert live_before == LIVE_MODEL.read_text(encoding="utf-8")


def test_calibrate_refuses_to_write_over_the_live_model(world: World) -> None:
    result = CliRunner().invoke(main, ["calibrate", "--out", str(LIVE_MODEL)], env=world.env)

    assert 2 == result.exit_code
    assert "live model" in result.output


def test_per_signal_calibration_writes_signal_weights_that_also_beat_the_bad_model(
    world: World,
) -> None:
    out = world.tmp / "candidate-signals.yaml"

    result = invoke(
        world,
        "--model",
        str(world.tmp / "bad.yaml"),
        "calibrate",
        "--json",
        "--per-signal",
        "--out",
        str(out),
    )

    data = json.loads(result.output)
    assert data["candidate"]["auc"] > data["current"]["auc"] + 0.05
    candidate = load_model(out)
    fit = next(g for g in candidate.groups if g.id == "fit")
    shares = data["signal_weights"]["fit"]
    total = sum(shares.values())
    assert {s.id: pytest.approx(fit.weight * shares[s.id] / total) for s in fit.signals} == {
        s.id: s.weight for s in fit.signals
    }


def test_customer_tiers_preview_tiers_every_customer_with_a_won_deal(world: World) -> None:
    result = invoke(world, "customers", "--json")

    rows = json.loads(result.output)
    by_tier: dict[str, list[float]] = {}
    for row in rows:
        by_tier.setdefault(row["tier"], []).append(row["arr"])
    assert {"grow", "defend", "monitor"} == set(by_tier)
    assert all(len(by_tier[t]) > 0 for t in by_tier)
    mean = {t: sum(v) / len(v) for t, v in by_tier.items()}
    assert mean["grow"] > mean["defend"] > mean["monitor"]
