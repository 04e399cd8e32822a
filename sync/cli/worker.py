"""``tierwise schedule`` and ``health``: the long-running worker and its health check."""

from __future__ import annotations

import sys

import click

from tierwise.sync import bootstrap as boot
from tierwise.sync import preflight
from tierwise.sync.cli.core import (
    Context,
    fail,
    handled,
    main,
    warn_unknown_variables,
    write_report,
)
from tierwise.sync.exits import EXIT_UNEXPECTED, SettingError


@main.command()
@click.pass_obj
def schedule(ctx: Context) -> None:
    """Run as a worker: full and incremental syncs on the cron schedules from settings.

    Serves Prometheus metrics on TIERWISE_SCHEDULE__METRICS_PORT. SIGTERM finishes the
    batch in flight, saves progress and exits.
    """
    from tierwise.sync.scheduler import build_scheduler, install_stop_handlers, scheduled_job

    settings = ctx.settings()
    port = settings.schedule.metrics_port
    preflight.refuse(
        [
            *preflight.run_problems(settings),
            *preflight.cron_problems(settings),
            *(
                [p]
                if port and (p := preflight.port_problem(port, "TIERWISE_SCHEDULE__METRICS_PORT"))
                else []
            ),
        ]
    )
    warn_unknown_variables()
    with handled():
        app = boot.bootstrap(settings, model_path=ctx.model)
    if port:
        app.metrics.serve(port)
    job = scheduled_job(app, settings, write_report)

    scheduler = build_scheduler(settings.schedule, job, settings.timezone)
    install_stop_handlers(scheduler, app.stop, settings.schedule.shutdown_grace_seconds)
    click.echo(
        f"tierwise schedule: full '{settings.schedule.full_cron}', incremental "
        f"'{settings.schedule.incremental_cron}' ({settings.timezone})",
        err=True,
    )
    try:
        scheduler.start()
    finally:
        app.close()


@main.command()
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for an answer.")
def health(timeout: float) -> None:
    """Exit 0 if the local `tierwise schedule` worker answers healthy (the image's check).

    Reads /healthz on TIERWISE_SCHEDULE__METRICS_PORT: unhealthy after
    TIERWISE_SCHEDULE__UNHEALTHY_AFTER_FAILURES failed runs in a row, or no answer.
    """
    import urllib.error
    import urllib.request

    port = boot.load_settings().schedule.metrics_port
    if not port:
        raise SettingError("TIERWISE_SCHEDULE__METRICS_PORT is off: nothing to check")
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            click.echo(f"healthy: {url}")
            sys.exit(0 if response.status == 200 else EXIT_UNEXPECTED)
    except urllib.error.HTTPError as exc:
        exc.close()
        fail(EXIT_UNEXPECTED, f"unhealthy: {url} answered {exc.code} (consecutive failed runs)")
    except OSError as exc:
        fail(EXIT_UNEXPECTED, f"unhealthy: no answer from {url} ({exc})")
