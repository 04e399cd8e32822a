"""``tierwise sandbox`` and ``demo``: the CRM emulator, an optional extra.

``sandbox`` is imported inside the commands only (``pip install 'tierwise[sandbox]'``):
the production CLI and image never load it, and without it these two commands end
in one line and the configuration exit code.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from tierwise.sync import bootstrap as boot
from tierwise.sync import preflight
from tierwise.sync.cli.configure import provision_all
from tierwise.sync.cli.core import Context, handled, main, settings_from_env
from tierwise.sync.cli.runs import execute, exit_with
from tierwise.sync.exits import SettingError
from tierwise.sync.logging import redactor
from tierwise.sync.report import RunReport, read_minimum, summary, write_minimum


class SandboxMissingError(SettingError):
    """The ``sandbox`` extra is not installed; only ``sandbox`` and ``demo`` need it."""


EXTRA = "the sandbox is an optional extra: pip install 'tierwise[sandbox]'"


def sandbox_missing(exc: ModuleNotFoundError) -> SandboxMissingError:
    """The one line (exit 2) for ``sandbox`` failing to import inside a command.

    A module missing while ``sandbox`` imports (the package itself, or a dependency only
    the extra installs, such as trustme) means the extra is not installed.
    """
    itself = exc.name is not None and exc.name.rsplit(".", 1)[-1] == "sandbox"
    missing = "" if itself else f" (missing module {exc.name!r})"
    return SandboxMissingError(EXTRA + missing)


@main.command("sandbox")
@click.option("--accounts", default=500, show_default=True, help="Seeded accounts in each CRM.")
@click.option("--seed", default=7, show_default=True)
@click.option("--salesforce-port", default=8443, show_default=True)
@click.option("--hubspot-port", default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--provisioned", is_flag=True, help="Create tierwise's fields up front.")
@click.option(
    "--profile",
    type=click.Choice(["stock", "enriched"]),
    default="stock",
    show_default=True,
    help="stock: a new org/portal; enriched: plus custom data.",
)
@click.option(
    "--test-controls",
    is_flag=True,
    help="Serve /__sandbox/ clock, call-ledger and seed-id controls (benchmarks; not a CRM API).",
)
@click.option(
    "--contacts/--no-contacts",
    default=True,
    show_default=True,
    help="Seed 0-3 HubSpot contacts per company (off: less sandbox memory and seeding time).",
)
@click.option(
    "--opportunities/--no-opportunities",
    default=True,
    show_default=True,
    help="Seed two years of deals in both CRMs (off: less sandbox memory and seeding time).",
)
@click.option(
    "--latency-ms",
    default=0.0,
    show_default=True,
    help="Added to every answer, as a network would (benchmarks).",
)
@click.option(
    "--hubspot-rate-limit",
    type=int,
    default=None,
    help="Requests per rolling 10 s HubSpot admits before answering 429 (benchmarks).",
)
def sandbox_cmd(
    accounts: int,
    seed: int,
    salesforce_port: int,
    hubspot_port: int,
    host: str,
    provisioned: bool,
    profile: str,
    test_controls: bool,
    contacts: bool,
    opportunities: bool,
    latency_ms: float,
    hubspot_rate_limit: int | None,
) -> None:
    """Run the local Salesforce + HubSpot emulator in the foreground (Ctrl-C stops it).

    Prints the TIERWISE_* variables that point tierwise at it.
    """
    try:
        from tierwise.sandbox import serve_forever
        from tierwise.sync.cli.sandbox_setup import provision_sandbox
    except ModuleNotFoundError as exc:
        raise sandbox_missing(exc) from None
    preflight.refuse(
        p
        for p in (
            preflight.port_problem(salesforce_port, "--salesforce-port", host),
            preflight.port_problem(hubspot_port, "--hubspot-port", host),
        )
        if p
    )
    serve_forever(
        accounts,
        seed,
        salesforce_port=salesforce_port,
        hubspot_port=hubspot_port,
        host=host,
        on_started=provision_sandbox if provisioned else None,
        profile=profile,
        echo=click.echo,
        test_controls=test_controls,
        hubspot_contacts=contacts,
        opportunities=opportunities,
        latency_ms=latency_ms,
        hubspot_requests_per_10s=hubspot_rate_limit,
    )


@main.command()
@click.option("--accounts", default=500, show_default=True, help="Seeded accounts in each CRM.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated companies.")
@click.pass_obj
def demo(ctx: Context, accounts: int, seed: int) -> None:
    """See tierwise work end to end, with no credentials and no services.

    Starts the CRM sandbox in-process with ACCOUNTS companies in both Salesforce and
    HubSpot, provisions tierwise's fields (customer tier fields included: the demo turns
    customer tiers on), runs a full sync, then an incremental one
    that should write nothing, and prints what happened.
    """
    try:
        from tierwise.sandbox import Sandbox
    except ModuleNotFoundError as exc:
        raise sandbox_missing(exc) from None
    with (
        tempfile.TemporaryDirectory(prefix="tierwise-demo-") as tmp,
        Sandbox(accounts=accounts, seed=seed) as sb,
    ):
        work = Path(tmp)
        settings = settings_from_env(
            sb.env(),
            database_url=f"sqlite:///{work / 'demo.db'}",
            report_dir=str(work / "reports"),
            log_level="WARNING",  # the demo's output is its summary; warnings still show
            customer_tiers=True,  # show customer tiers (grow/defend/monitor) written too
            backfill_tasks=True,  # a newcomer sees the plays' tasks on the first run
        )
        boot.setup_logging(settings, ctx.log_format)
        click.echo(
            f"Sandbox up: Salesforce {sb.salesforce_url}, HubSpot {sb.hubspot_url}; "
            f"{accounts} companies in each."
        )
        with handled():
            model = boot.build_model(settings, ctx.model)
            provisioned = provision_all(
                boot.build_crm_connectors(settings, model), model, dry_run=False
            )
        created = sum(1 for _, step in provisioned if not step.exists)
        click.echo(
            f"Provisioned: {created} fields/properties created, "
            f"{len(provisioned) - created} already there."
        )
        first, _ = execute(ctx, full=True, dry_run=False, settings=settings)
        click.echo("\n== First run (full) ==")
        click.echo(redactor().scrub(summary(first.report)))
        second, _ = execute(ctx, full=False, dry_run=False, settings=settings)
        click.echo("\n== Second run (incremental, nothing changed) ==")
        click.echo(redactor().scrub(summary(second.report)))
        click.echo("\n" + demo_minimum(first.report, accounts))
        click.echo(
            "\nWhere next (the demo's sandbox and state are gone when it exits):\n"
            "  tierwise sandbox             start the sandbox again (leave it running), then\n"
            "                               in another shell export the TIERWISE_* lines it\n"
            "                               prints, e.g. export TIERWISE_HUBSPOT__ACCESS_TOKEN=…\n"
            "  tierwise provision           create tierwise's fields in the sandbox\n"
            "  tierwise validate            check your settings and model file\n"
            "  tierwise plan --csv plan.csv see what a run would change in your CRMs, per field\n"
            "  tierwise run --dry-run       a whole run that writes nothing\n"
            "  tierwise explain <domain>    why an account got its tier\n"
            "  config/model.yaml            the tiering model; README.md for settings and deploying"
        )
        worst = max(first.report, second.report, key=lambda report: report.exit_code)
        exit_with(worst, settings)


def demo_minimum(report: RunReport, accounts: int) -> str:
    """The first run's calls next to the fewest the APIs allow, on the best path for the
    volume (REST pages or a bulk job for reads; batches or one bulk job for writes)."""
    lines = ["API calls of the first run vs the minimum the APIs allow:"]
    for system, usage in sorted(report.api_calls.items()):
        reads = read_minimum(system, report.pulled.get(system, accounts))
        writes = write_minimum(system, report.writes.get(system, 0))
        lines.append(
            f"  {system:<11} made {usage.get('total', 0):>4}; minimum: "
            f"reads {reads.calls} ({reads.path}), writes {writes.calls} ({writes.path})"
        )
    return "\n".join(lines)
