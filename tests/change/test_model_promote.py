# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""`tierwise model promote FILE`: a candidate goes live only when the out-of-time backtest
says it is not worse than the live model (or with --force); each promotion is recorded."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.change.conftest import cli_env, tierwise
from tests.provisioning import provisioned
from tierwise.sandbox import Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.change.journal import ChangeJournal
from tierwise.sync.cli import settings_from_env
from tierwise.sync.exits import EXIT_MODEL_REFUSED
from tierwise.sync.state import StateStore

BUNDLED = Path(__file__).resolve().parents[2] / "config" / "model.yaml"


def weighted(path: Path, weights: dict[str, float]) -> Path:
    """The bundled model with other group weights (the sandbox's wins follow fit and intent)."""
    yaml = YAML()
    doc = yaml.load(BUNDLED.read_text(encoding="utf-8"))
    for group in doc["groups"]:
        if group["id"] in weights:
            group["weight"] = weights[group["id"]]
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(doc, handle)
    return path


@dataclass
class World:
    env: dict[str, str]
    tmp: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("promote")
    with provisioned(Sandbox(accounts=800, seed=7, hubspot_contacts=False)) as sb:
        env = cli_env(sb, tmp)
        settings = settings_from_env(env)
        past = datetime.now(UTC) - timedelta(days=365)
        for clock in (lambda: past, lambda: datetime.now(UTC)):
            app = boot.bootstrap(settings, clock=clock)
            try:
                assert "ok" == app.engine.run(full=True, dry_run=False).report.status
            finally:
                app.close()
        yield World(env, tmp)


def test_a_deliberately_worse_model_is_refused_and_the_live_model_is_unchanged(
    world: World, tmp_path: Path
) -> None:
    live = tmp_path / "live.yaml"
    shutil.copy(BUNDLED, live)
    worse = weighted(tmp_path / "worse.yaml", {"fit": 5, "intent": 5, "opportunity": 90})
    env = {**world.env, "TIERWISE_MODEL_PATH": str(live)}

    refused = tierwise(env, "model", "promote", str(worse), "--json")

    assert EXIT_MODEL_REFUSED == refused.exit_code, refused.output
    assert "model refused" in refused.stderr
    body = json.loads(refused.stdout)
    assert body["refusals"]
    assert body["candidate"]["auc"] < body["live"]["auc"]
    assert BUNDLED.read_bytes() == live.read_bytes()
    text = tierwise(env, "model", "promote", str(worse))
    assert "AUC" in text.stdout
    assert "Brier" in text.stdout
    assert "tier-1 lift" in text.stdout


def test_a_better_model_is_promoted_with_its_hash_and_figures_in_the_ledger(
    world: World, tmp_path: Path
) -> None:
    live = weighted(tmp_path / "live.yaml", {"fit": 5, "intent": 5, "opportunity": 90})
    better = tmp_path / "better.yaml"
    shutil.copy(BUNDLED, better)
    env = {**world.env, "TIERWISE_MODEL_PATH": str(live)}

    promoted = tierwise(env, "model", "promote", str(better), "--json")

    assert 0 == promoted.exit_code, promoted.output
    assert better.read_bytes() == live.read_bytes()
    store = StateStore.from_url(env["TIERWISE_DATABASE_URL"])
    try:
        last = ChangeJournal(store).models()[-1]
    finally:
        store.dispose()
    assert hashlib.sha256(better.read_bytes()).hexdigest() == last["sha256"]
    assert last["figures"]["candidate"]["auc"] is not None
    assert last["forced"] is False


def test_force_promotes_a_refused_model_and_records_that_it_was_forced(
    world: World, tmp_path: Path
) -> None:
    live = tmp_path / "live.yaml"
    shutil.copy(BUNDLED, live)
    worse = weighted(tmp_path / "worse.yaml", {"fit": 5, "intent": 5, "opportunity": 90})
    env = {**world.env, "TIERWISE_MODEL_PATH": str(live)}

    forced = tierwise(env, "model", "promote", str(worse), "--force")

    assert 0 == forced.exit_code, forced.output
    assert "forced over" in forced.stdout
    assert worse.read_bytes() == live.read_bytes()
    store = StateStore.from_url(env["TIERWISE_DATABASE_URL"])
    try:
        assert ChangeJournal(store).models()[-1]["forced"] is True
    finally:
        store.dispose()


def test_calibrate_warns_when_its_proposal_rests_on_too_few_closed_deals(
    world: World, tmp_path: Path
) -> None:
    since = (datetime.now(UTC) - timedelta(days=120)).date().isoformat()
    out = tmp_path / "candidate.yaml"

    result = tierwise(world.env, "calibrate", "--out", str(out), "--since", since)

    assert 0 == result.exit_code, result.output
    assert "warning: the proposal rests on" in result.stdout
    assert "(fewer than 100)" in result.stdout
