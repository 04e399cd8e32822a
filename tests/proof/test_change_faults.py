# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""Change control under the fault matrix: `tierwise apply` or `tierwise rollback` killed
(SIGKILL) in the middle of its writes, then run again, ends with both CRMs exactly as
after an uninterrupted one: no lost write, no task created or closed twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.change.conftest import cli_env, tierwise
from tests.change.test_breaker import models
from tests.proof.test_fault_matrix import (
    REPO,
    crm_state,
    make_sandbox,
    no_duplicate_task_keys,
    wait_for_call,
)
from tierwise.sandbox import FaultRule, Sandbox

KILL_POINTS = [
    ("salesforce", "/composite/sobjects"),
    ("hubspot", "/companies/batch/update"),
]


def killed(sb: Sandbox, env: dict[str, str], args: list[str], system: str, path: str) -> None:
    """Start `tierwise ARGS`, SIGKILL it once its first write to ``path`` was answered."""
    sb.faults.add(
        FaultRule(system=system, kind="latency", delay_ms=150, method=None, path=r"batch|composite")
    )
    proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "tierwise.sync", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_call(sb, path, 1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    sb.faults.clear()
    assert -signal.SIGKILL == proc.returncode


def planned(sb: Sandbox, tmp: Path) -> tuple[dict[str, str], Path]:
    env = cli_env(sb, tmp, TIERWISE_BACKFILL_TASKS="true", TIERWISE_LOG_FORMAT="json")
    out = tmp / "plan.json"
    result = tierwise(env, "plan", "--out", str(out))
    assert 0 == result.exit_code, result.output
    return env, out


def changed_run(sb: Sandbox, tmp: Path) -> tuple[dict[str, str], str]:
    """An org tiered once, then re-tiered by a stricter model (approved): that run's id."""
    live, strict = models(tmp)
    env = cli_env(
        sb,
        tmp,
        TIERWISE_BACKFILL_TASKS="true",
        TIERWISE_MODEL_PATH=str(live),
        TIERWISE_LOG_FORMAT="json",
    )
    assert 0 == tierwise(env, "run").exit_code
    env["TIERWISE_MODEL_PATH"] = str(strict)
    result = tierwise(env, "run", "--approve", "--json")
    assert 0 == result.exit_code, result.output
    return env, str(json.loads(result.stdout)["run_id"])


def reference_state(tmp: Path, scenario: Callable[[Sandbox, Path], None]) -> dict[str, Any]:
    with make_sandbox() as sb:
        scenario(sb, tmp)
        return crm_state(sb)


def uninterrupted_apply(sb: Sandbox, tmp: Path) -> None:
    env, out = planned(sb, tmp)
    assert 0 == tierwise(env, "apply", str(out)).exit_code


def uninterrupted_rollback(sb: Sandbox, tmp: Path) -> None:
    env, run_id = changed_run(sb, tmp)
    assert 0 == tierwise(env, "rollback", run_id).exit_code


@pytest.mark.parametrize(("system", "path"), KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_apply_killed_mid_write_then_rerun_ends_like_an_uninterrupted_apply(
    system: str, path: str, tmp_path: Path
) -> None:
    (tmp_path / "ref").mkdir()
    reference = reference_state(tmp_path / "ref", uninterrupted_apply)
    with make_sandbox() as sb:
        env, out = planned(sb, tmp_path)
        killed(sb, env, ["apply", str(out)], system, path)
        if system == "salesforce":  # the kill really cut the apply short
            assert reference != crm_state(sb)
        # HubSpot: its only batch went through before the kill; the rerun must see those
        # records as already written (not as changed in the CRM) and finish the rest.
        rerun = tierwise(env, "apply", str(out))
        assert 0 == rerun.exit_code, rerun.output
        state = crm_state(sb)
    assert no_duplicate_task_keys(state)
    assert reference == state


@pytest.mark.parametrize(("system", "path"), KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_rollback_killed_mid_write_then_rerun_ends_like_an_uninterrupted_rollback(
    system: str, path: str, tmp_path: Path
) -> None:
    (tmp_path / "ref").mkdir()
    reference = reference_state(tmp_path / "ref", uninterrupted_rollback)
    with make_sandbox() as sb:
        env, run_id = changed_run(sb, tmp_path)
        killed(sb, env, ["rollback", run_id], system, path)
        if system == "salesforce":  # the kill really cut the rollback short
            assert reference != crm_state(sb)
        rerun = tierwise(env, "rollback", run_id)
        assert 0 == rerun.exit_code, rerun.output
        state = crm_state(sb)
    assert no_duplicate_task_keys(state)
    assert reference == state
