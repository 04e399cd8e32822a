# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
"""The fault matrix: for each injected fault the run completes or stops with a clear
status and a non-zero exit code, and a following clean run leaves both CRMs in exactly
the state of an uninterrupted run — no duplicate task, no lost update, nothing extra.

Every case runs the real worker (bootstrap -> engine -> real connectors -> loopback
sandbox) twice: once with the fault armed, once clean. The end state is compared with
a reference sandbox that saw one uninterrupted run of the same seed on the same day.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.provisioning import provisioned
from tierwise.connectors import retry
from tierwise.sandbox import FaultRule, Sandbox
from tierwise.sync import bootstrap as boot
from tierwise.sync.cli import settings_from_env
from tierwise.sync.report import RunReport

ACCOUNTS = 60
SEED = 23
TODAY = date.today()
REPO = Path(__file__).resolve().parents[2]

SF_TIER_FIELDS = (
    "Tierwise_Tier__c",
    "Tierwise_Score__c",
    "Tierwise_Reason__c",
    "Tierwise_Play__c",
    "Tierwise_SLA_Due__c",
    "Tierwise_Tier_Changed__c",
)
HS_TIER_PROPS = (
    "tierwise_tier",
    "tierwise_score",
    "tierwise_reason",
    "tierwise_play",
    "tierwise_sla_due",
    "tierwise_tier_changed",
)
SF_CANARY = "00DCANARY!sf-canary-7f3a9c1e5d2b8a4f6e0c"
HS_CANARY = "pat-canary-hs-4b8e2f6a1c9d3e7b5a0f"


@pytest.fixture(autouse=True)
def no_real_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries and the rate limiter ask for waits; the matrix records them instead."""
    asked: list[float] = []
    monkeypatch.setattr(retry, "sleep", asked.append)
    return asked


def make_sandbox(sleep: Any = None) -> Any:
    extra = {"sleep": sleep} if sleep is not None else {}
    return provisioned(
        Sandbox(
            accounts=ACCOUNTS,
            seed=SEED,
            today=TODAY,
            salesforce_token=SF_CANARY,
            hubspot_token=HS_CANARY,
            **extra,
        )
    )


class HeldCalls:
    """The sandbox's ``sleep`` for latency faults: the request is held until released.

    A timing race ("slow it down and hope the signal lands in time") failed on a loaded
    machine; holding the call makes "the signal lands while a call is in flight" and
    "the first run holds the lock" facts the test waits for instead of guesses.
    """

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, _seconds: float) -> None:
        self.entered.set()
        self.release.wait(timeout=90)

    def wait_entered(self, timeout: float = 60) -> None:
        if not self.entered.wait(timeout):
            raise AssertionError(f"no held call within {timeout}s")


def crm_state(sb: Sandbox) -> dict[str, Any]:
    """Both CRMs' tierwise-visible state, keyed by seed company (ids differ per sandbox)."""
    sf_key = {ids[0]: key for key, ids in sb.company_ids.items()}
    hs_key = {ids[1]: key for key, ids in sb.company_ids.items()}
    accounts = sb.salesforce.objects["Account"]
    companies = sb.hubspot.objects["companies"]
    sf_tasks = Counter(
        (
            t.get("Tierwise_Key__c"),
            sf_key.get(str(t.get("WhatId"))),
            t.get("Subject"),
            t.get("Status"),
        )
        for t in sb.salesforce.objects["Task"].values()
    )
    hs_tasks: Counter[tuple[Any, ...]] = Counter()
    for task_id, task in sb.hubspot.objects["tasks"].items():
        props = task["properties"]
        linked = sorted(
            hs_key.get(c, c) for c in sb.hubspot.portal.associated("tasks", task_id, "companies")
        )
        hs_tasks[
            (
                props.get("tierwise_key"),
                tuple(linked),
                props.get("hs_task_subject"),
                props.get("hs_task_status"),
            )
        ] += 1
    return {
        "salesforce": {
            sf_key[i]: tuple(str(r.get(f)) for f in (*SF_TIER_FIELDS, "Name"))
            for i, r in accounts.items()
            if i in sf_key
        },
        "hubspot": {
            hs_key[i]: tuple(str(c["properties"].get(p)) for p in (*HS_TIER_PROPS, "name"))
            for i, c in companies.items()
            if i in hs_key
        },
        "salesforce_tasks": sf_tasks,
        "hubspot_tasks": hs_tasks,
    }


def run_once(sb: Sandbox, tmp: Path, **extra: Any) -> RunReport:
    # The matrix proves play tasks exactly once from the first run on, so it backfills
    # them (a first run holds them by default: tests/sync/test_go_live.py).
    extra.setdefault("backfill_tasks", True)
    settings = settings_from_env(
        sb.env(),
        database_url=f"sqlite:///{tmp / 'state.db'}",
        report_dir=str(tmp / "reports"),
        **extra,
    )
    app = boot.bootstrap(settings)
    try:
        return app.engine.run(full=False).report
    finally:
        app.close()


class References:
    """Uninterrupted-run end states, one per primary CRM (tasks go to the primary)."""

    def __init__(self) -> None:
        self._states: dict[str, dict[str, Any]] = {}

    def __call__(self, primary: str = "salesforce") -> dict[str, Any]:
        if primary not in self._states:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp, make_sandbox() as sb:
                report = run_once(sb, Path(tmp), primary=primary)
                assert "ok" == report.status, report.message
                self._states[primary] = crm_state(sb)
        return self._states[primary]


@pytest.fixture(scope="module")
def references() -> References:
    return References()


@pytest.fixture(scope="module")
def reference(references: References) -> dict[str, Any]:
    return references("salesforce")


def no_duplicate_task_keys(state: dict[str, Any]) -> bool:
    for name in ("salesforce_tasks", "hubspot_tasks"):
        keys = Counter(k[0] for k, n in state[name].items() for _ in range(n))
        if any(n > 1 for n in keys.values()):
            return False
    return True


SF_WRITE = r"/composite/sobjects$"
SF_TASKS = r"/composite/sobjects/Task/"
HS_UPDATE = r"/crm/v3/objects/companies/batch/update"
HS_TASKS = r"/crm/v3/objects/tasks/batch/create"

# (case id, fault, statuses the faulted run may end in)
CASES: list[tuple[str, FaultRule, set[str]]] = [
    (
        "sf-invalid-session-mid-run",
        FaultRule(system="salesforce", kind="invalid_session", path=SF_WRITE, nth=1, times=1),
        {"authentication", "ok"},
    ),
    (
        "sf-request-limit-exceeded",
        FaultRule(system="salesforce", kind="request_limit", path=SF_WRITE, nth=1),
        {"deferred"},
    ),
    (
        "sf-unable-to-lock-row-in-collection",
        FaultRule(
            system="salesforce",
            kind="record_error",
            path=SF_WRITE,
            nth=1,
            times=1,
            code="UNABLE_TO_LOCK_ROW",
            record_probability=0.3,
        ),
        {"ok", "partial"},
    ),
    (
        "sf-validation-error-in-collection",
        FaultRule(
            system="salesforce",
            kind="record_error",
            path=SF_WRITE,
            nth=1,
            times=1,
            code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
            record_probability=0.2,
        ),
        {"partial"},
    ),
    (
        "hs-429-ten-secondly-burst",
        FaultRule(system="hubspot", kind="http_429", path=HS_UPDATE, nth=1, times=2),
        {"ok"},
    ),
    (
        "hs-429-daily-limit",
        FaultRule(system="hubspot", kind="daily_limit", path=HS_UPDATE, nth=1),
        {"deferred"},
    ),
    (
        "hs-207-partial-batch",
        FaultRule(
            system="hubspot",
            kind="record_error",
            path=HS_UPDATE,
            nth=1,
            times=1,
            record_probability=0.2,
        ),
        {"ok", "partial"},
    ),
    *[
        (
            f"{system}-http-{code}-on-writes",
            FaultRule(system=system, kind=f"http_{code}", path=path, nth=1, times=1),
            {"ok"},
        )
        for code in (500, 502, 503, 504)
        for system, path in (("salesforce", SF_WRITE), ("hubspot", HS_UPDATE))
    ],
    (
        "sf-connection-reset-on-write",
        FaultRule(system="salesforce", kind="drop", path=SF_WRITE, nth=1, times=1),
        {"ok"},
    ),
    (
        "hs-connection-reset-on-write",
        FaultRule(system="hubspot", kind="drop", path=HS_UPDATE, nth=1, times=1),
        {"ok"},
    ),
    (
        "sf-task-create-committed-then-dropped",
        FaultRule(system="salesforce", kind="commit_then_drop", path=SF_TASKS, nth=1, times=1),
        {"ok"},
    ),
    (
        "hs-task-create-committed-then-dropped",
        FaultRule(system="hubspot", kind="commit_then_drop", path=HS_TASKS, nth=1, times=1),
        {"ok"},
    ),
    (
        "hs-task-create-503",
        FaultRule(system="hubspot", kind="http_503", path=HS_TASKS, nth=1, times=1),
        {"ok"},
    ),
    (
        "sf-write-committed-then-dropped",
        FaultRule(system="salesforce", kind="commit_then_drop", path=SF_WRITE, nth=1, times=1),
        {"ok"},
    ),
    (
        "hs-read-5xx-midway",
        FaultRule(
            system="hubspot",
            kind="http_503",
            method="GET",
            path=r"/crm/v3/objects/companies$",
            nth=1,
            times=1,
        ),
        {"ok"},
    ),
]


def primary_for(fault: FaultRule) -> str:
    """Play tasks go to the primary CRM; a fault on HubSpot tasks needs HubSpot primary."""
    return (
        "hubspot" if fault.system == "hubspot" and "tasks" in (fault.path or "") else ("salesforce")
    )


@pytest.mark.parametrize(
    ("fault", "allowed"), [(f, a) for _, f, a in CASES], ids=[c[0] for c in CASES]
)
def test_a_faulted_run_then_a_clean_run_ends_exactly_like_an_uninterrupted_run(
    fault: FaultRule,
    allowed: set[str],
    references: References,
    tmp_path: Path,
) -> None:
    primary = primary_for(fault)
    with make_sandbox() as sb:
        armed = sb.faults.add(fault)
        faulted = run_once(sb, tmp_path, primary=primary)
        assert armed.fired > 0, "the fault never fired: the case proves nothing"
        assert faulted.status in allowed, faulted.message
        if faulted.status != "ok":
            assert 0 != faulted.exit_code
            assert faulted.message
            if faulted.status == "partial":
                assert faulted.errors
                assert all(e.get("crm_id") and e.get("reason") for e in faulted.errors)
        sb.faults.clear()
        clean = run_once(sb, tmp_path, primary=primary)
        assert "ok" == clean.status, clean.message
        state = crm_state(sb)
    assert no_duplicate_task_keys(state)
    assert references(primary) == state


def test_a_persistent_expired_session_fails_the_run_cleanly_and_writes_nothing(
    tmp_path: Path,
) -> None:
    with make_sandbox() as sb:
        sb.faults.add(FaultRule(system="salesforce", kind="invalid_session"))
        report = run_once(sb, tmp_path)
        writes = [c for c in sb.calls if c.method in ("PATCH", "POST") and "search" not in c.path]
    assert "authentication" == report.status
    assert 3 == report.exit_code
    assert [] == writes
    assert SF_CANARY not in report.message


def test_a_salesforce_read_that_fails_midway_fails_the_run_and_clears_nothing(
    tmp_path: Path,
) -> None:
    with make_sandbox() as sb:
        first = run_once(sb, tmp_path)
        assert "ok" == first.status, first.message
        before = crm_state(sb)
        sb.faults.add(FaultRule(system="salesforce", kind="query_timeout", path=r"/query"))
        report = run_once(
            sb,
            tmp_path,
            salesforce={
                "instance_url": sb.salesforce_url,
                "access_token": sb.salesforce_token,
                "ca_bundle": str(sb.ca_file),
            },
        )
        after = crm_state(sb)
    assert report.status not in ("ok", "partial")
    assert 0 != report.exit_code
    assert before == after


def test_a_server_that_never_answers_is_cut_off_by_the_client_timeout(tmp_path: Path) -> None:
    with make_sandbox() as sb:
        sb.faults.add(
            FaultRule(
                system="hubspot",
                kind="timeout",
                method="GET",
                path=r"/crm/v3/objects/companies$",
                nth=2,
                times=1,
            )
        )
        started = time.monotonic()
        report = run_once(
            sb,
            tmp_path,
            hubspot={
                "access_token": sb.hubspot_token,
                "base_url": sb.hubspot_url,
                "read_timeout": 1.0,
            },
        )
        elapsed = time.monotonic() - started
    assert "ok" == report.status, report.message
    assert elapsed < 30


def test_malformed_records_are_scored_with_signals_missing_counted_and_written_back_unharmed(
    tmp_path: Path,
) -> None:
    with provisioned(Sandbox(accounts=400, seed=SEED, today=TODAY)) as sb:
        names_before = {
            k: sb.salesforce.objects["Account"][ids[0]]["Name"] for k, ids in sb.company_ids.items()
        }
        report = run_once(sb, tmp_path)
        names_after = {
            k: sb.salesforce.objects["Account"][ids[0]]["Name"] for k, ids in sb.company_ids.items()
        }
        tiers = {
            sb.salesforce.objects["Account"][ids[0]].get("Tierwise_Tier__c")
            for ids in sb.company_ids.values()
        }
    assert "ok" == report.status, report.message
    assert report.invalid_values, "the seed has malformed values; the report must count them"
    assert all(v.get("crm_id") and v.get("field") for v in report.invalid_values)
    tricky = [
        n for n in names_before.values() if n and (len(n) > 200 or any(c in n for c in "'\"\\\n"))
    ]
    assert tricky, "the seed has long, quoted, escaped and multi-line names"
    assert names_before == names_after
    assert None not in tiers
    assert 400 == report.accounts


@pytest.mark.parametrize("bad_name", ["Tier__c FROM Account--", "Does_Not_Exist__c"])
def test_a_bad_configured_field_name_is_rejected_before_any_write(
    bad_name: str,
    tmp_path: Path,
) -> None:
    with make_sandbox() as sb:
        env = cli_env(sb, tmp_path)
        env["TIERWISE_SALESFORCE__TIERWISE_FIELDS"] = json.dumps({"tier": bad_name})
        result = tierwise("run", env=env)
        writes = [c for c in sb.calls if c.method in ("PATCH", "POST") and "search" not in c.path]
    output = result.stdout + result.stderr
    assert 2 == result.returncode, output
    assert bad_name in output
    assert [] == writes


def test_a_corrupt_or_future_watermark_triggers_a_full_reconcile(tmp_path: Path) -> None:
    from tierwise.sync.state import StateStore

    with make_sandbox() as sb:
        first = run_once(sb, tmp_path)
        assert "ok" == first.status, first.message
        store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
        store.set_watermark("salesforce", "accounts", "not a timestamp", first.started)
        store.set_watermark("hubspot", "accounts", "2999-01-01T00:00:00+00:00", first.started)
        store.dispose()
        report = run_once(sb, tmp_path)
    assert "ok" == report.status, report.message
    assert {"salesforce": ACCOUNTS, "hubspot": ACCOUNTS} == report.pulled
    assert {"salesforce", "hubspot"} == set(report.full_reconcile)


# -- whole-process faults: the CLI in a subprocess against an in-process sandbox ----------


def cli_env(sb: Sandbox, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERWISE_")}
    env.update(sb.env())
    env["TIERWISE_DATABASE_URL"] = f"sqlite:///{tmp / 'state.db'}"
    env["TIERWISE_REPORT_DIR"] = str(tmp / "reports")
    env["TIERWISE_LOG_FORMAT"] = "json"
    env["TIERWISE_BACKFILL_TASKS"] = "true"  # as run_once: tasks from the first run on
    return env


def tierwise(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "tierwise.sync", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for_call(sb: Sandbox, path: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for c in sb.calls if path in c.path and c.status) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"no {count} answered calls to {path} within {timeout}s")


WRITE_STEPS = [
    ("after-first-salesforce-write", "salesforce", "/composite/sobjects", 1),
    ("after-first-hubspot-write", "hubspot", "/companies/batch/update", 1),
    ("after-first-salesforce-task-upsert", "salesforce", "/composite/sobjects/Task", 1),
]


@pytest.mark.parametrize(
    ("system", "path", "count"), [s[1:] for s in WRITE_STEPS], ids=[s[0] for s in WRITE_STEPS]
)
def test_sigkill_after_a_write_step_then_a_rerun_reaches_the_uninterrupted_state(
    system: str,
    path: str,
    count: int,
    reference: dict[str, Any],
    tmp_path: Path,
) -> None:
    with make_sandbox() as sb:
        # Slow every write a little so the kill lands between write calls.
        sb.faults.add(
            FaultRule(
                system=system, kind="latency", delay_ms=150, method=None, path=r"batch|composite"
            )
        )
        env = cli_env(sb, tmp_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tierwise.sync", "run"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_call(sb, path, count)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert -signal.SIGKILL == proc.returncode
        sb.faults.clear()
        rerun = tierwise("run", env=env)
        assert 0 == rerun.returncode, rerun.stdout + rerun.stderr
        state = crm_state(sb)
    assert no_duplicate_task_keys(state)
    assert reference == state


def test_sigterm_mid_run_finishes_the_call_in_flight_saves_progress_and_exits_in_grace(
    reference: dict[str, Any],
    tmp_path: Path,
) -> None:
    held = HeldCalls()
    with make_sandbox(sleep=held) as sb:
        # The account write is held in flight while the signal lands, then answered: the
        # run finishes that call and stops before its task upserts.
        sb.faults.add(
            FaultRule(
                system="salesforce",
                kind="latency",
                delay_ms=1,
                method="PATCH",
                path=r"composite/sobjects$",
            )
        )
        env = cli_env(sb, tmp_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tierwise.sync", "run"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            held.wait_entered()
            proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)  # the handler sets the stop flag; the call is still held
        finally:
            held.release.set()
        started = time.monotonic()
        out, err = proc.communicate(timeout=60)
        elapsed = time.monotonic() - started
        assert 0 != proc.returncode, out + err
        assert elapsed < 30
        sb.faults.clear()
        rerun = tierwise("run", env=env)
        assert 0 == rerun.returncode, rerun.stdout + rerun.stderr
        state = crm_state(sb)
    assert reference == state


def test_two_workers_started_at_once_one_runs_the_other_exits_with_the_lock_code(
    tmp_path: Path,
) -> None:
    held = HeldCalls()
    with make_sandbox(sleep=held) as sb:
        # The first run's HubSpot calls are held until the second run has ended, so the
        # first run holds the lock for as long as the race needs (no timing guess).
        sb.faults.add(FaultRule(system="hubspot", kind="latency", delay_ms=1))
        env = cli_env(sb, tmp_path)
        tierwise("validate", env=env)  # migrate the new state file before the race
        command = [sys.executable, "-m", "tierwise.sync", "run"]
        first = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        held.wait_entered()  # the first run holds the lock by now
        second = subprocess.Popen(  # noqa: S603
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            second_out = second.communicate(timeout=120)
        finally:
            held.release.set()
        first.communicate(timeout=120)
    assert 0 == first.returncode
    assert 5 == second.returncode, second_out
    assert "lock" in (second_out[0] + second_out[1]).lower()


def test_a_wrong_credential_names_the_setting_exits_3_and_echoes_no_secret(
    tmp_path: Path,
) -> None:
    with make_sandbox() as sb:
        env = cli_env(sb, tmp_path)
        env["TIERWISE_HUBSPOT__ACCESS_TOKEN"] = HS_CANARY + "-wrong"
        result = tierwise("run", env=env)
    output = result.stdout + result.stderr
    assert 3 == result.returncode, output
    assert "TIERWISE_HUBSPOT__ACCESS_TOKEN" in output
    assert HS_CANARY[:12] not in output


def test_a_bad_model_file_names_file_line_and_key_and_writes_nothing(tmp_path: Path) -> None:
    model = tmp_path / "model.yaml"
    text = (REPO / "config" / "model.yaml").read_text()
    model.write_text(text.replace("capacity: 100", "capacity: -3", 1))
    assert "capacity: -3" in model.read_text(), "the default model sets a tier_1 capacity"
    with make_sandbox() as sb:
        env = cli_env(sb, tmp_path)
        result = tierwise("--model", str(model), "run", env=env)
        writes = [c for c in sb.calls if c.method in ("PATCH", "POST") and "search" not in c.path]
    assert 2 == result.returncode, result.stdout + result.stderr
    assert "model.yaml:" in result.stdout + result.stderr
    assert "capacity" in result.stdout + result.stderr
    assert [] == writes


def test_no_log_line_report_or_error_of_the_matrix_contains_a_secret(tmp_path: Path) -> None:
    """The canary: runs with faults, failures and tracebacks; nothing may echo a token."""
    outputs: list[str] = []
    with make_sandbox() as sb:
        env = cli_env(sb, tmp_path)
        sb.faults.add(FaultRule(system="salesforce", kind="invalid_session", nth=3, times=1))
        sb.faults.add(FaultRule(system="hubspot", kind="http_500", nth=2, times=3))
        for args in (["run"], ["run", "--full"], ["plan", "--json"], ["runs"], ["validate"]):
            result = tierwise(*args, env=env)
            outputs.append(result.stdout + result.stderr)
        wrong = dict(env, TIERWISE_SALESFORCE__ACCESS_TOKEN=SF_CANARY + "x")
        outputs.append(tierwise("run", env=wrong).stdout)
    for report in (tmp_path / "reports").glob("**/*"):
        if report.is_file():
            outputs.append(report.read_text(errors="replace"))
    text = "\n".join(outputs)
    for canary in (SF_CANARY, HS_CANARY):
        assert canary[:12] not in text
        assert canary[-12:] not in text


# -- the per-owner daily cap under a crash: deferred tasks created later, exactly once ----

CAP = 8  # the seed's busiest owner has 21 entry tasks: created over three days
MAX_DAYS = 6
# The CLI in a subprocess whose clock runs `days` ahead (argv[1]): the engine's injected
# clock, so "the following days" need no real waiting and no production setting.
CLOCKED_CLI = """\
import sys
from datetime import UTC, datetime, timedelta

from tierwise.sync import bootstrap as boot

shift = timedelta(days=int(sys.argv.pop(1)))
real = boot.bootstrap


def shifted(*args, **kwargs):
    kwargs["clock"] = kwargs.get("clock") or (lambda: datetime.now(UTC) + shift)
    return real(*args, **kwargs)


boot.bootstrap = shifted
from tierwise.sync.cli import main

main(prog_name="tierwise")
"""


def clocked(day: int, *args: str) -> list[str]:
    return [sys.executable, "-c", CLOCKED_CLI, str(day), *args]


def queue_subjects() -> frozenset[str]:
    """Subjects of the default model's tasks for a queue (``owner: queue:sdr``): the cap
    counts a queue as one owner, whatever user the CRM files its tasks under."""
    from tierwise.tiering import load_model

    model = load_model(REPO / "config" / "model.yaml")
    return frozenset(
        task.subject
        for tier in model.tiers
        if tier.play is not None
        for task in tier.play.tasks
        if task.owner.startswith("queue:")
    )


def sf_task_owners(sb: Sandbox, queued: frozenset[str]) -> dict[str, str]:
    """Task key -> owner (as the cap counts owners) of every tierwise Salesforce task."""
    return {
        str(t["Tierwise_Key__c"]): "queue" if t.get("Subject") in queued else str(t["OwnerId"])
        for t in sb.salesforce.objects["Task"].values()
        if t.get("Tierwise_Key__c")
    }


# (case id, day of the kill, path whose first answered call the kill waits for)
CAP_KILLS = [
    ("day-0-after-the-account-writes", 0, "/composite/sobjects"),
    ("day-0-after-the-task-upsert", 0, "/composite/sobjects/Task"),
    ("day-1-after-the-deferred-task-upsert", 1, "/composite/sobjects/Task"),
]


@pytest.mark.parametrize(
    ("kill_day", "path"), [c[1:] for c in CAP_KILLS], ids=[c[0] for c in CAP_KILLS]
)
def test_sigkill_under_the_per_owner_cap_then_later_days_create_every_task_exactly_once(
    kill_day: int,
    path: str,
    reference: dict[str, Any],
    tmp_path: Path,
) -> None:
    """A capped run killed mid-apply (right after the CRM answered a write; its task
    intents may or may not be recorded as created yet), then runs on the following
    days: no owner gets more than the cap on any day, and the tasks in the CRM end as
    the uncapped uninterrupted run's, each under its key, once."""
    created_on: dict[str, tuple[str, int]] = {}
    queued = queue_subjects()
    assert queued, "the default model files one play's tasks under a queue"
    with make_sandbox() as sb:
        env = cli_env(sb, tmp_path)
        env["TIERWISE_TASKS_PER_OWNER_PER_DAY"] = str(CAP)

        def note(day: int) -> None:
            for key, owner in sf_task_owners(sb, queued).items():
                created_on.setdefault(key, (owner, day))

        for day in range(MAX_DAYS):
            before = len(created_on)
            if day == kill_day:
                # Slow the writes so the kill lands right after the CRM answered one.
                sb.faults.add(
                    FaultRule(
                        system="salesforce",
                        kind="latency",
                        delay_ms=300,
                        method=None,
                        path=r"batch|composite",
                    )
                )
                answered = sum(1 for c in sb.calls if path in c.path and c.status)
                proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                    clocked(day, "run"),
                    env=env,
                    cwd=REPO,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    wait_for_call(sb, path, answered + 1)
                finally:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=30)
                assert -signal.SIGKILL == proc.returncode
                sb.faults.clear()
                note(day)
            rerun = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
                clocked(day, "run"),
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert 0 == rerun.returncode, rerun.stdout + rerun.stderr
            note(day)
            if day > kill_day and len(created_on) == before:
                break  # a whole day without a new task: nothing is deferred any more
        state = crm_state(sb)

    per_owner_day = Counter(created_on.values())
    assert all(n <= CAP for n in per_owner_day.values()), per_owner_day
    assert max(day for _, day in per_owner_day) >= 2, "the cap deferred tasks for days"
    assert no_duplicate_task_keys(state)
    # The tasks of the uncapped uninterrupted run, each once. (The tier fields are not
    # compared: the later days' clock rescores recency, as real later days would.)
    for tasks in ("salesforce_tasks", "hubspot_tasks"):
        assert reference[tasks] == state[tasks]
