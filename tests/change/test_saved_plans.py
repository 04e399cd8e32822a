# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""`tierwise plan --out` then `tierwise apply`: exactly the plan, or nothing when stale."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.change.conftest import SF_TIER, cli_env, tiers, tierwise, writes
from tierwise.sandbox import Sandbox
from tierwise.sync.change import planfile
from tierwise.sync.exits import EXIT_STALE_PLAN
from tierwise.sync.state import StateStore
from tierwise.sync.state.codec import encode_value


def test_a_plan_applied_later_writes_exactly_its_diff_and_nothing_else(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path)
    out = tmp_path / "plan.json"
    planned = tierwise(env, "plan", "--out", str(out))
    assert 0 == planned.exit_code, planned.output
    assert [] == writes(sandbox)
    saved = json.loads(out.read_text())
    assert saved["records"]
    hs_tier_changes = [
        r for r in saved["records"] if r["system"] == "hubspot" and "tier" in r["changes"]
    ]
    assert len(hs_tier_changes) == len(saved["list_effects"])
    assert saved["model"]["sha256"]
    sandbox.reset_calls()
    before = tiers(sandbox)

    applied = tierwise(env, "apply", str(out))

    assert 0 == applied.exit_code, applied.output
    after = tiers(sandbox)
    changed = {k for k in after if after[k] != before[k]}
    assert len(saved["records"]) == len(changed)
    # Only account field writes: the go-live plan holds its entry tasks, so none of those.
    assert writes(sandbox)
    assert all(
        w.endswith(("/composite/sobjects", "/companies/batch/update")) for w in writes(sandbox)
    ), writes(sandbox)
    sf_ids = {r["crm_id"]: r for r in saved["records"] if r["system"] == "salesforce"}
    for crm_id, rec in sf_ids.items():
        want = rec["changes"]["tier"]["new"]
        assert want == sandbox.salesforce.objects["Account"][crm_id][SF_TIER]
    # The ledger has the apply with the plan's hash; a plan of the same state is empty.
    store = StateStore.from_url(env["TIERWISE_DATABASE_URL"])
    run = store.list_runs(5)[0]
    assert ("apply", "ok", saved["sha256"]) == (run.kind, run.status, run.counts["plan_sha256"])
    store.dispose()
    assert f"plan={saved['sha256'][:12]}" in tierwise(env, "runs").stdout
    again = tierwise(env, "plan", "--json")
    assert [] == json.loads(again.stdout)["changes"]


def test_a_plan_whose_record_was_edited_in_the_crm_is_refused_and_changes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path)
    out = tmp_path / "plan.json"
    assert 0 == tierwise(env, "plan", "--out", str(out)).exit_code
    saved = json.loads(out.read_text())
    target = next(r for r in saved["records"] if r["system"] == "salesforce")
    # A rep sets a tier by hand after the plan was made.
    sandbox.salesforce.objects["Account"][target["crm_id"]][SF_TIER] = "tier_2"
    sandbox.reset_calls()
    before = tiers(sandbox)

    refused = tierwise(env, "apply", str(out))

    assert EXIT_STALE_PLAN == refused.exit_code, refused.output
    assert "stale plan" in refused.stderr
    assert "re-plan" in refused.stderr
    assert target["crm_id"] in refused.stderr
    assert 1 == len([ln for ln in refused.stderr.splitlines() if ln.startswith("tierwise:")])
    assert [] == writes(sandbox)
    assert before == tiers(sandbox)


def test_a_plan_made_with_another_model_file_is_refused_and_changes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    model = tmp_path / "model.yaml"
    shutil.copy(Path("config/model.yaml"), model)
    env = cli_env(sandbox, tmp_path, TIERWISE_MODEL_PATH=str(model))
    out = tmp_path / "plan.json"
    assert 0 == tierwise(env, "plan", "--out", str(out)).exit_code
    model.write_text(model.read_text() + "\n# edited after planning\n")
    sandbox.reset_calls()

    refused = tierwise(env, "apply", str(out))

    assert EXIT_STALE_PLAN == refused.exit_code, refused.output
    assert "model file" in refused.stderr
    assert [] == writes(sandbox)


def test_a_plan_file_edited_by_hand_is_rejected_as_damaged(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = cli_env(sandbox, tmp_path)
    out = tmp_path / "plan.json"
    assert 0 == tierwise(env, "plan", "--out", str(out)).exit_code
    out.write_text(out.read_text().replace('"tier_1"', '"tier_2"', 1))
    sandbox.reset_calls()

    rejected = tierwise(env, "apply", str(out))

    assert 2 == rejected.exit_code, rejected.output
    assert [] == writes(sandbox)


def test_a_plan_read_back_from_its_file_carries_what_each_record_held(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The breaker and the write journal read every plan's changes; one rebuilt from a
    file must hold each record's account key and old values, not only its new ones."""
    env = cli_env(sandbox, tmp_path)
    out = tmp_path / "plan.json"
    assert 0 == tierwise(env, "plan", "--out", str(out)).exit_code
    raw = json.loads(out.read_text())
    saved, _digest = planfile.read(out)

    changes = saved.to_plan().changes

    expected = sorted(
        (r["system"], r["crm_id"], r["account"], name, change["old"], change["new"])
        for r in raw["records"]
        for name, change in r["changes"].items()
    )
    rebuilt = sorted(
        (c.system, c.crm_id, c.key, c.field, encode_value(c.old), encode_value(c.new))
        for c in changes
    )
    assert expected
    assert expected == rebuilt
