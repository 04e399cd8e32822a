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

from config.settings import ScheduleSettings

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
