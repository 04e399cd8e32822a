"""``tierwise schedule``: the long-running worker (APScheduler 3, cron triggers from settings).

One job per schedule with an explicit id; ``max_instances=1`` and ``coalesce`` keep
runs from overlapping inside the process, and the run lock keeps them from
overlapping across processes. SIGTERM sets the stop flag (the engine finishes the
batch in flight and saves progress) and shuts the scheduler down.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import structlog
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from tierwise.config.settings import ScheduleSettings

log = structlog.get_logger("tierwise.schedule")


def build_scheduler(
    schedule: ScheduleSettings, run: Callable[[bool], Any], timezone: str = "UTC"
) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=timezone,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": schedule.misfire_grace_seconds,
        },
    )
    scheduler.add_job(
        run,
        CronTrigger.from_crontab(schedule.full_cron, timezone=timezone),
        args=[True],
        id="tierwise-full",
        name="full refresh",
        replace_existing=True,
    )
    scheduler.add_job(
        run,
        CronTrigger.from_crontab(schedule.incremental_cron, timezone=timezone),
        args=[False],
        id="tierwise-incremental",
        name="incremental sync",
        replace_existing=True,
    )
    return scheduler


def install_stop_handlers(
    scheduler: BlockingScheduler, stop: threading.Event, grace_seconds: int
) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info(
            "schedule.stopping", signal=signal.Signals(signum).name, grace_seconds=grace_seconds
        )
        stop.set()
        # Do not wait here (we are in the signal handler on the main thread); the
        # running job sees the stop flag and ends after its current batch.
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


class Health:
    """Consecutive failed scheduled runs; unhealthy at ``threshold`` (the health check reads it).

    "Failed" is a run that could not do its work: configuration, authentication, an
    unreachable CRM, a bug. Partial runs, stops, deferrals and lock-held skips are the
    normal life of a worker and reset nothing.
    """

    FAILURES = frozenset({"failed", "configuration", "authentication", "unavailable"})

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.consecutive = 0

    def record(self, status: str) -> None:
        if status in self.FAILURES:
            self.consecutive += 1
        elif status in ("ok", "partial"):
            self.consecutive = 0

    @property
    def healthy(self) -> bool:
        return self.consecutive < self.threshold


def scheduled_job(
    app: Any, settings: Any, write_report: Callable[[Any, Any], Any]
) -> Callable[[bool], None]:
    """The function APScheduler calls: never raises (APScheduler would print a traceback
    into the JSON log); each outcome is one structured event, counted in /metrics."""
    health = Health(settings.schedule.unhealthy_after_failures)
    app.metrics.bind_health(health)

    def job(full: bool) -> None:
        if app.stop.is_set():
            return
        try:
            outcome = app.engine.run(full=full)
        except Exception as exc:  # noqa: BLE001 - the engine reports; this is a last resort
            from tierwise.sync.exits import classify

            status, message = classify(exc)
            log.error(
                "schedule.run_failed",
                kind="full" if full else "incremental",
                status=status,
                error=message,
            )
            health.record(status)
            app.metrics.record_status("full" if full else "incremental", status)
            return
        report = outcome.report
        path = write_report(report, settings)
        health.record(report.status)
        app.metrics.observe(report)
        event = log.info if report.exit_code == 0 else log.error
        event(
            "schedule.run_finished",
            kind=report.kind,
            status=report.status,
            exit_code=report.exit_code,
            message=report.message,
            report=str(path) if path else None,
            consecutive_failures=health.consecutive,
            healthy=health.healthy,
        )

    return job
