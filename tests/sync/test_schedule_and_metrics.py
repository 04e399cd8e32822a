# ruff: noqa: SIM300 - DESIGN.md: tests read `assert expected == actual`
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import generate_latest

from tierwise.config.settings import ScheduleSettings
from tierwise.sync.metrics import Metrics
from tierwise.sync.report import RunReport
from tierwise.sync.scheduler import build_scheduler


def test_scheduler_has_one_full_and_one_incremental_job_that_never_overlap() -> None:
    calls: list[bool] = []
    scheduler = build_scheduler(
        ScheduleSettings(full_cron="0 2 * * *", incremental_cron="*/15 * * * *"), calls.append
    )
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"tierwise-full", "tierwise-incremental"} == set(jobs)
    assert [True] == list(jobs["tierwise-full"].args)
    assert [False] == list(jobs["tierwise-incremental"].args)
    assert {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600} == {
        k: scheduler._job_defaults[k] for k in ("coalesce", "max_instances", "misfire_grace_time")
    }
    start = datetime(2026, 11, 24, 1, 50, tzinfo=UTC)
    assert datetime(2026, 11, 24, 2, 0, tzinfo=UTC) == jobs[
        "tierwise-full"
    ].trigger.get_next_fire_time(None, start)
    assert datetime(2026, 11, 24, 2, 0, tzinfo=UTC) == jobs[
        "tierwise-incremental"
    ].trigger.get_next_fire_time(None, start)


def test_metrics_count_runs_writes_and_tiers() -> None:
    started = datetime(2026, 11, 24, 9, tzinfo=UTC)
    report = RunReport(
        run_id="r1",
        kind="full",
        dry_run=False,
        started=started,
        finished=started + timedelta(seconds=3),
        status="ok",
        per_tier={"tier_1": 4, "tier_2": 9},
        writes={"hubspot": 13},
        api_calls={"hubspot": {"total": 5}},
    )
    metrics = Metrics()
    metrics.observe(report)
    text = generate_latest(metrics.registry).decode()
    assert 'tierwise_runs_total{kind="full",status="ok"} 1.0' in text
    assert 'tierwise_accounts{tier="tier_2"} 9.0' in text
    assert 'tierwise_writes_total{system="hubspot"} 13.0' in text
    assert 'tierwise_api_calls_total{system="hubspot"} 5.0' in text
    assert "tierwise_last_run_duration_seconds 3.0" in text
