"""Issue 16 commands: ``owners``, ``export audiences``, ``review`` and ``spend``.

They read the state store (the data the last run pulled) and tier it with the same
pure function the run uses; run ``tierwise run`` first. They are registered on
``tierwise.sync.cli.main`` when ``tierwise.sync.cli`` imports this module. The capacity
report is ``tierwise report --owners`` (``write_owners``, called from the outcome
commands' ``report``); ``owners`` stays as an alias with --format/--out. ``spend`` is
the spend section of ``tierwise report`` on its own (an alias).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from tierwise.sync import bootstrap as boot
from tierwise.sync.cli.core import Context, emit, handled, json_option, main
from tierwise.sync.coverage import audiences, owners, review
from tierwise.sync.coverage.population import Population, tiered
from tierwise.sync.exits import NotFoundError
from tierwise.sync.logging import redactor
from tierwise.sync.state import StateStore

FORMATS = ("text", "json", "csv", "html")


def _population(ctx: Context, now: datetime | None = None) -> Population:
    return _loaded(ctx, now or datetime.now(UTC))[1]


def _loaded(ctx: Context, now: datetime) -> tuple[StateStore, Population]:
    from tierwise.tiering import tier_accounts

    settings = ctx.settings()
    with handled():
        model = boot.build_model(settings, ctx.model)
        store = boot.build_store(settings)
    if not store.snapshots():
        raise NotFoundError("the state store holds no accounts yet: run `tierwise run` first")
    return store, tiered(store, model, settings.primary, now, tier_accounts)


@main.command("review")
@click.option(
    "--since",
    default="90d",
    show_default=True,
    help="Start of the review period: 90d (days back) or a date (2026-09-01).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the pack to this file instead of stdout.",
)
@json_option
@click.pass_obj
def review_cmd(ctx: Context, since: str, fmt: str, out: Path | None) -> None:
    """The quarterly review pack: moves and why, near-boundary accounts, expiring pins,
    capacity use, outreach windows, quiet Tier 1 accounts (the monthly spot check)."""
    now = datetime.now(UTC)
    try:
        start = review.parse_since(since, now)
    except ValueError:
        raise click.BadParameter(
            "use 90d (days back) or a date such as 2026-09-01", param_hint="--since"
        ) from None
    store, population = _loaded(ctx, now)
    pack = review.build(store, population, start, now)
    fmt = "json" if ctx.as_json else fmt
    if fmt == "json":
        text = json.dumps(review.to_json(pack), indent=2)
    else:
        text = {"text": review.to_text, "csv": review.to_csv, "html": review.to_html}[fmt](pack)
    if out is not None:
        out.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        click.echo(f"review pack written to {out}")
    elif fmt == "json":
        emit(ctx, review.to_json(pack), text)
    else:
        click.echo(redactor().scrub(text))


@main.command("owners")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report to this file instead of stdout.",
)
@json_option
@click.pass_obj
def owners_cmd(ctx: Context, fmt: str, out: Path | None) -> None:
    """Capacity per owner and tier: load, cap, overflow, and a rebalance proposal.

    The proposal lists accounts that overflowed an owner's full book and an owner
    under the same cap with room; tierwise never reassigns owners itself.
    """
    report = owners.capacity_report(_population(ctx))
    fmt = "json" if ctx.as_json else fmt
    renderers = {
        "text": owners.to_text,
        "csv": owners.to_csv,
        "html": owners.to_html,
        "json": _json,
    }
    text = renderers[fmt](report)
    if out is not None:
        out.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        click.echo(f"capacity report written to {out}")
    elif fmt == "json":
        emit(ctx, report, text)
    else:
        click.echo(redactor().scrub(text))


def _json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2)


def write_owners(
    ctx: Context, as_json: bool, csv_file: Path | None, html_file: Path | None
) -> None:
    """``tierwise report --owners``: the capacity report on stdout (text, or JSON with
    --json) and, like the outcome report, also as --csv / --html files."""
    report = owners.capacity_report(_population(ctx))
    if csv_file is not None:
        csv_file.write_text(owners.to_csv(report), encoding="utf-8")
    if html_file is not None:
        html_file.write_text(owners.to_html(report), encoding="utf-8")
    if as_json or ctx.as_json:
        click.echo(redactor().scrub(_json(report)))
    else:
        click.echo(redactor().scrub(owners.to_text(report)))


@main.group("export")
def export() -> None:
    """Export tier lists for other tools (ad platforms)."""


@export.command("audiences")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for the per-tier CSV files (created if missing).",
)
@json_option
@click.pass_obj
def audiences_cmd(ctx: Context, out: Path) -> None:
    """Per tier: a LinkedIn Matched Audiences company list and a generic CSV.

    Warns when a list is below LinkedIn's minimum of 300 companies; shows the
    planned spend of plays that declare budget_per_account.
    """
    lists = audiences.export_audiences(_population(ctx), out)
    for item in lists:
        if item.warning:
            click.echo(f"warning: {item.warning}", err=True)
    emit(
        ctx,
        {"out": str(out), "tiers": audiences.summary_rows(lists)},
        audiences.to_text(lists, out),
    )


@main.command("spend")
@click.option("--since", default=None, help="Period start, YYYY-MM-DD (default: a year back).")
@click.option("--until", default=None, help="Period end, YYYY-MM-DD (default: today).")
@json_option
@click.pass_obj
def spend_cmd(ctx: Context, since: str | None, until: str | None) -> None:
    """Planned spend per tier (plays' budget_per_account) and, with outcomes, pipeline and
    won revenue per unit of spend, also beyond the untiered baseline.

    The outcomes are `tierwise report`'s (deals pulled live, tiers as recorded at the
    period's end); this adds the spend columns to them.
    """
    from tierwise.sync.cli.outcomes import _load, tier_report
    from tierwise.sync.coverage import report_extras as extras
    from tierwise.sync.outcomes.report import BASELINE

    today = datetime.now(UTC).date()
    try:
        end = date.fromisoformat(until) if until else today
        start = date.fromisoformat(since) if since else end - timedelta(days=365)
    except ValueError:
        raise click.BadParameter("dates are YYYY-MM-DD") from None
    loaded = _load(ctx, today)
    rows, total = extras.spend(loaded.model, tier_report(loaded, start, end).rows, BASELINE)
    emit(
        ctx,
        {"since": start.isoformat(), "until": end.isoformat(), **extras.spend_json(rows, total)},
        f"outcomes {start} .. {end}\n" + extras.spend_text(rows, total),
    )
