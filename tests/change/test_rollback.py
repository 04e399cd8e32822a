# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""`tierwise rollback RUN_ID`: the CRM gets back what it held before the run, the run's
tasks still open are closed exactly once, and fields edited since are skipped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.change.conftest import SF_TIER, cli_env, open_tasks, tiers, tierwise, writes
from tests.change.test_breaker import models
from tierwise.sandbox import Sandbox
from tierwise.sync.state import StateStore


def run_id_of(env: dict[str, str], *args: str) -> str:
    result = tierwise(env, "run", "--json", *args)
    assert 0 == result.exit_code, result.output
    return str(json.loads(result.stdout)["run_id"])


def test_rollback_restores_the_pre_run_values_closes_its_tasks_once_and_skips_edited_fields(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    live, strict = models(tmp_path)
    env = cli_env(sandbox, tmp_path, TIERWISE_MODEL_PATH=str(live), TIERWISE_BACKFILL_TASKS="true")
    run_id_of(env)
    before = tiers(sandbox)
    tasks_before = open_tasks(sandbox)
    env["TIERWISE_MODEL_PATH"] = str(strict)
    changed_run = run_id_of(env, "--approve")
    during = tiers(sandbox)
    tasks_during = open_tasks(sandbox)
    moved = sorted(k for k in during if during[k] != before[k] and k.startswith("sf:"))
    new_tasks = {k for k in open_tasks(sandbox) if k not in tasks_before}
    assert moved
    assert new_tasks
    # A rep changes one of the rewritten tier fields after the run.
    edited = moved[0]
    sf_id = sandbox.company_ids[edited[3:]][0]
    sandbox.salesforce.objects["Account"][sf_id][SF_TIER] = "tier_1"
    sandbox.reset_calls()

    rolled = tierwise(env, "rollback", changed_run, "--json")

    assert 0 == rolled.exit_code, rolled.output
    body = json.loads(rolled.stdout)
    assert [(sf_id, "tier")] == [
        (s["crm_id"], s["field"]) for s in body["skipped"] if s["system"] == "salesforce"
    ]
    after = tiers(sandbox)
    for key in before:
        if key == edited:
            assert "tier_1" == after[key][SF_TIER]
            rest = {k: v for k, v in after[key].items() if k != SF_TIER}
            assert {k: v for k, v in before[key].items() if k != SF_TIER} == rest
        else:
            assert before[key] == after[key], key
    assert len(new_tasks) == body["tasks_closed"]
    statuses = open_tasks(sandbox)
    assert all(statuses[k] != "Not Started" for k in new_tasks if k in statuses)
    # Tasks from before the run are left as they are (ones it closed are not reopened).
    assert all(statuses[k] == tasks_during[k] for k in tasks_before)
    store = StateStore.from_url(env["TIERWISE_DATABASE_URL"])
    latest = store.list_runs(1)[0]
    store.dispose()
    assert ("rollback", "ok", changed_run) == (
        latest.kind,
        latest.status,
        latest.counts["rollback_of"],
    )

    # A second rollback finds everything done: no write, no task closed twice.
    sandbox.reset_calls()
    again = tierwise(env, "rollback", changed_run, "--json")
    assert 0 == again.exit_code, again.output
    assert [] == writes(sandbox)
    assert 0 == json.loads(again.stdout)["tasks_closed"]


def test_runs_shows_the_model_hash_that_decided_each_run(sandbox: Sandbox, tmp_path: Path) -> None:
    live, _strict = models(tmp_path)
    env = cli_env(sandbox, tmp_path, TIERWISE_MODEL_PATH=str(live))
    run_id = run_id_of(env)
    listed = tierwise(env, "runs", "--json")
    assert 0 == listed.exit_code, listed.output
    row = next(r for r in json.loads(listed.stdout) if r["id"] == run_id)
    assert hashlib.sha256(live.read_bytes()).hexdigest() == row["model_sha256"]
    text = tierwise(env, "runs")
    assert f"model={row['model_sha256'][:12]}" in text.stdout


def test_rollback_of_an_unknown_run_exits_8(sandbox: Sandbox, tmp_path: Path) -> None:
    result = tierwise(cli_env(sandbox, tmp_path), "rollback", "0123456789abcdef")
    assert 8 == result.exit_code, result.output
    assert "tierwise runs" in result.stderr
