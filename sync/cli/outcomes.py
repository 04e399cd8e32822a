"""``tierwise report``, ``backtest``, ``calibrate`` and ``customers``: outcome analytics.

``report`` also shows issue 16's spend and capacity sections (sync/coverage/report_extras)
and, with ``--owners``, the capacity report per owner (sync/coverage/owners).

Opportunities are pulled live from the configured CRMs on every call; tiers and scores
come from the state store, so run ``tierwise run`` first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tierwise.sync.cli.core import Context, handled, json_default, main
from tierwise.sync.exits import SettingError

if TYPE_CHECKING:
    from tierwise.connectors.base import CrmOpportunity
    from tierwise.sync.outcomes.data import Deal
    from tierwise.sync.outcomes.report import OutcomeReport
    from tierwise.sync.state import StateStore
    from tierwise.tiering import TieringModel
    from tierwise.tiering.records import AccountInput

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None, default: date) -> date:
    return value.date() if value is not None else default


@dataclass
class Loaded:
    model: TieringModel
    model_path: Path
    store: StateStore
    deals: list[Deal]
    unmatched: int
    keys: list[str]
    inputs: list[AccountInput]
    opportunities: list[CrmOpportunity]


def _load(ctx: Context, today: date) -> Loaded:
    from tierwise.sync import bootstrap as boot
    from tierwise.sync.outcomes.data import account_keys, attribute_deals, pull_opportunities
    from tierwise.sync.preview import stored_inputs

    settings = ctx.settings()
    with handled():
        model = boot.build_model(settings, ctx.model)
        store = boot.build_store(settings)
        with boot.crm_connectors(settings, model) as connectors:
            opportunities = pull_opportunities(connectors)
    snapshots = store.snapshots()
    deals, unmatched = attribute_deals(opportunities, snapshots, settings.primary)
    # The population a run tiers (sync.preview: the run's own populate step).
    inputs = stored_inputs(
        store,
        model,
        today,
        primary=settings.primary,
        hand_edit_days=settings.hand_edit_override_days,
    )
    return Loaded(
        model,
        Path(ctx.model or settings.model_path),
        store,
        deals,
        unmatched,
        account_keys(snapshots),
        inputs,
        opportunities,
    )


def tier_report(loaded: Loaded, start: date, end: date) -> OutcomeReport:
    """Each tier's funnel over ``start`` .. ``end``, tiers as they stood at ``end``
    (``tierwise report`` and ``tierwise spend``)."""
    from tierwise.sync.outcomes.backtest import end_of
    from tierwise.sync.outcomes.data import tier_of, tiers_as_of
    from tierwise.sync.outcomes.report import build_report
    from tierwise.tiering.records import UNQUALIFIED

    points = tiers_as_of(loaded.store, end_of(end))
    model = loaded.model
    return build_report(
        tiers={k: tier_of(points, k) for k in loaded.keys},
        scores={k: p.score for k, p in points.items()},
        deals=loaded.deals,
        labels=model.tier_labels(),
        tier_ids=[t.id for t in model.tiers if t.id != UNQUALIFIED],
        min_scores={t.id: t.min_score for t in model.tiers},
        since=start,
        until=end,
    )


def _check_outputs(*outputs: tuple[Path | None, str]) -> None:
    """Output files' folders are checked before the CRMs are read (one line, exit 2)."""
    from tierwise.sync import preflight

    preflight.refuse(
        p for path, opt in outputs if path and (p := preflight.output_file_problem(path, opt))
    )


def _emit(ctx: Context, as_json: bool, data: Any, text: str) -> None:
    from tierwise.sync.logging import redactor

    if as_json or ctx.as_json:
        click.echo(redactor().scrub(json.dumps(data, indent=2, default=json_default)))
    else:
        click.echo(redactor().scrub(text))


@main.command("report")
@click.option(
    "--since", type=DATE, default=None, help="Period start (default: a year before --until)."
)
@click.option("--until", type=DATE, default=None, help="Period end, inclusive (default: today).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write one row per tier to this CSV file.",
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write an HTML report with inline SVG charts.",
)
@click.option("--volatility", is_flag=True, help="Add tier changes per run and per quarter.")
@click.option(
    "--owners",
    "owners_only",
    is_flag=True,
    help="The capacity report instead: per owner and tier load, cap, overflow and a "
    "rebalance proposal (stored accounts only; --json/--csv/--html as above).",
)
@click.pass_obj
def report_cmd(
    ctx: Context,
    since: datetime | None,
    until: datetime | None,
    as_json: bool,
    csv_file: Path | None,
    html_file: Path | None,
    volatility: bool,
    owners_only: bool,
) -> None:
    """Outcomes per tier against the baseline (unqualified + untiered) over a period.

    Accounts, open pipeline, win rate, average deal size, days to close, pipeline per
    account and share of revenue; deals pulled live from the configured CRMs, tiers as
    the state store recorded them at the period's end. Then planned spend per tier
    (plays' budget_per_account) with pipeline and revenue per unit of spend against the
    baseline, and tiers over capacity / pins past overrides.max_per_tier as the run
    summary shows them. ``--owners``: the capacity report per owner instead.
    """
    from tierwise.sync.coverage import report_extras as extras
    from tierwise.sync.outcomes import render
    from tierwise.sync.outcomes.data import history_rows
    from tierwise.sync.outcomes.report import BASELINE
    from tierwise.sync.outcomes.volatility import volatility as measure

    _check_outputs((csv_file, "--csv"), (html_file, "--html"))
    if owners_only:
        from tierwise.sync.cli.coverage import write_owners

        write_owners(ctx, as_json, csv_file, html_file)
        return
    today = datetime.now(UTC).date()
    end = _day(until, today)
    start = _day(since, end - timedelta(days=365))
    if start > end:
        raise SettingError(f"--since {start} is after --until {end}")
    loaded = _load(ctx, today)
    result = tier_report(loaded, start, end)
    result.unmatched_deals = loaded.unmatched
    if volatility:
        result.volatility = measure(history_rows(loaded.store))
    spend_rows, total = extras.spend(loaded.model, result.rows, BASELINE)
    capacity = extras.capacity(_population(ctx, loaded))
    if csv_file is not None:
        render.write_csv(result, csv_file)
        extras.add_spend_columns(csv_file, spend_rows)
    if html_file is not None:
        page = render.html_page(result)
        page = extras.insert_html(page, extras.html_sections(spend_rows, total, capacity))
        html_file.write_text(page, encoding="utf-8")
    data = {
        **result.to_dict(),
        "spend": extras.spend_json(spend_rows, total),
        "capacity": capacity,
    }
    text = "\n\n".join(
        (
            render.text_table(result),
            extras.spend_text(spend_rows, total),
            extras.capacity_text(capacity),
        )
    )
    _emit(ctx, as_json, data, text)


def _population(ctx: Context, loaded: Loaded) -> Any:
    """The stored accounts tiered now as a run would (capacity, pins past the limit)."""
    from tierwise.sync.coverage.population import tiered
    from tierwise.tiering import tier_accounts

    settings = ctx.settings()
    return tiered(
        loaded.store,
        loaded.model,
        settings.primary,
        datetime.now(UTC),
        tier_accounts,
        settings.hand_edit_override_days,
    )


@main.command("backtest")
@click.option(
    "--as-of", "as_of", type=DATE, required=True, help="Apply the tiers as they stood on this date."
)
@click.option("--until", type=DATE, default=None, help="Count deals closed up to this date.")
@click.option(
    "--model",
    "model_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Model to apply (default: the tiers tierwise recorded at --as-of).",
)
@click.option(
    "--compare",
    "compare_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="A second model, side by side.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def backtest_cmd(
    ctx: Context,
    as_of: datetime,
    until: datetime | None,
    model_file: Path | None,
    compare_file: Path | None,
    as_json: bool,
) -> None:
    """How well each tier at --as-of predicted the wins that followed (win rate, lift, AUC)."""
    from tierwise.sync.outcomes.backtest import (
        Backtest,
        Scored,
        backtest_text,
        end_of,
        evaluate,
        outcomes_after,
        score_with_model,
    )
    from tierwise.sync.outcomes.data import tiers_as_of
    from tierwise.tiering import load_model

    today = datetime.now(UTC).date()
    day, end = as_of.date(), _day(until, today)
    if day >= end:
        raise SettingError(f"--as-of {day} must be before --until {end}")
    loaded = _load(ctx, today)
    outcomes = outcomes_after(loaded.deals, day, end)
    order = [t.id for t in loaded.model.tiers] + ["unqualified", "untiered"]
    columns = []
    notes: list[str] = []
    field_note = (
        "models are applied to the latest pulled field values (the state store keeps no "
        "field values per date); only the recorded column is exactly as of the date"
    )
    if model_file is None:
        points = tiers_as_of(loaded.store, end_of(day))
        if points:
            recorded = {k: Scored(p.tier, p.score) for k, p in points.items()}
            columns.append(evaluate("recorded", recorded, outcomes, order))
        else:
            notes.append(f"no tier history at or before {day}: using the current model")
            model_file = loaded.model_path
    for path in (model_file, compare_file):
        if path is None:
            continue
        with handled():
            model = load_model(path)
        scored = score_with_model(model, loaded.inputs, day)
        columns.append(evaluate(path.name, scored, outcomes, order))
        if field_note not in notes:
            notes.append(field_note)
    result = Backtest(day, end, columns, notes)
    _emit(ctx, as_json, result.to_dict(), backtest_text(result))


@main.command("calibrate")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("model.candidate.yaml"),
    show_default=True,
    help="Where to write the candidate model (never the live model).",
)
@click.option("--since", type=DATE, default=None, help="Use deals closed after this date.")
@click.option(
    "--per-signal",
    is_flag=True,
    help="Fit each signal's points (also rewrites signal weights), not only groups.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def calibrate_cmd(
    ctx: Context, out: Path, since: datetime | None, per_signal: bool, as_json: bool
) -> None:
    """Fit group weights on won/lost history; show held-out lift/AUC; write a candidate."""
    from tierwise.sync.outcomes.backtest import outcomes_after
    from tierwise.sync.outcomes.calibrate import calibrate, calibration_text, write_candidate

    today = datetime.now(UTC).date()
    start = _day(since, date(1970, 1, 1))
    _check_outputs((out, "--out"))
    loaded = _load(ctx, today)
    if out.resolve() == loaded.model_path.resolve():
        raise SettingError("--out must not be the live model file")
    labels = {k: won > 0 for k, (_, won) in outcomes_after(loaded.deals, start, today).items()}
    try:
        result, weights, shares = calibrate(
            loaded.model, loaded.inputs, labels, today, per_signal=per_signal
        )
    except ValueError as exc:
        raise SettingError(f"cannot calibrate: {exc}") from None
    write_candidate(loaded.model_path, weights, out, shares)
    result.out = str(out)
    result.notes.append(
        "fitted on the latest pulled field values against deals already closed; "
        "fields that move with outcomes (open pipeline, last activity) can flatter the fit"
    )
    _emit(ctx, as_json, result.to_dict(), calibration_text(result))


@main.command("customers")
@click.option(
    "--customer-model",
    "customer_model",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Customer tier model (default: the bundled config/customer_model.yaml).",
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write one row per customer to this CSV file.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def customers_cmd(
    ctx: Context, customer_model: Path | None, csv_file: Path | None, as_json: bool
) -> None:
    """Preview customer tiers (grow / defend / monitor) as a run decides them. Read-only.

    The same decision as `tierwise run` with customer tiers on: deal history, the CRM's
    health fields, the customer tier history and TIERWISE_CUSTOMER_MODEL_PATH.
    """
    import csv

    from tierwise.sync.outcomes.customers import customers_dict, customers_text
    from tierwise.sync.preview import preview_customers
    from tierwise.tiering import load_model

    now = datetime.now(UTC)
    settings = ctx.settings()
    with handled():
        # The run's customer model (TIERWISE_CUSTOMER_MODEL_PATH) unless one is given.
        model = load_model(customer_model or settings.customer_model_path)
    _check_outputs((csv_file, "--csv"))
    loaded = _load(ctx, now.date())
    # The run's own decide: same inputs, customer history and model as `tierwise run`.
    rows = preview_customers(
        loaded.store, model, loaded.opportunities, now, primary=settings.primary
    )
    data = customers_dict(rows)
    if csv_file is not None:
        with csv_file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["key", "tier", "score", "arr", "reason"])
            writer.writeheader()
            writer.writerows(data)
    _emit(ctx, as_json, data, customers_text(model, rows))
