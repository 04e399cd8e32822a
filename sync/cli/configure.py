"""``tierwise validate``, ``provision`` and ``connect``: checking and preparing the CRMs.

``validate`` refuses what a run would refuse, offline unless ``--online``; ``provision``
creates tierwise's fields; ``connect`` reads what each org holds against the model.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from tierwise.config.mapping import apply_mapping, model_categories
from tierwise.sync import bootstrap as boot
from tierwise.sync import preflight
from tierwise.sync.cli.core import Context, emit, handled, json_option, main
from tierwise.sync.exits import SettingError


@main.command()
@click.option(
    "--online", is_flag=True, help="Also check each CRM: authentication, fields, permissions."
)
@json_option
@click.pass_obj
def validate(ctx: Context, online: bool) -> None:
    """Check everything run and schedule would refuse, without contacting any CRM.

    Settings, cron strings, model files, state database URL, report folder, CRM
    credentials, unknown TIERWISE_* variables. --online adds the CRM checks.
    """
    settings = ctx.settings()
    with handled():
        model = boot.build_model(settings, ctx.model)
        # The mapping file: unknown mapping keys, value maps onto no model category.
        apply_mapping(settings, model.fields, categories=model_categories(model))
    problems = preflight.all_problems(settings, ctx.model, dict(os.environ))
    inputs = set(model.fields)
    if settings.customer_tiers and Path(settings.customer_model_path).is_file():
        with handled():
            inputs |= set(boot.build_customer_model(settings).fields)
    problems += preflight.mapping_problems(settings, inputs)
    if online and not any(p.severity == "error" for p in problems):
        with handled():  # access, fields, inputs scored as missing, tables vs. options
            problems += preflight.online_problems(settings, model)
    for problem in problems:
        if problem.severity == "warning":
            click.echo(f"tierwise: warning: {problem.message}", err=True)
    errors = [p.message for p in problems if p.severity == "error"]
    if errors:
        for message in errors[1:]:
            click.echo(f"tierwise: configuration error: {message}", err=True)
        more = f" (and {len(errors) - 1} more above)" if errors[1:] else ""
        raise SettingError(errors[0] + more)
    systems = [name for name in ("salesforce", "hubspot") if getattr(settings, name) is not None]
    data = {
        "model": str(ctx.model or settings.model_path),
        "model_version": getattr(model, "version", None),
        "tiers": model.tier_labels(),
        "crms": systems,
        "database": _safe_url(settings.database_url),
        "online": online,
        "warnings": [p.message for p in problems if p.severity == "warning"],
    }
    text = (
        f"ok: model {data['model']} (version {data['model_version']}), tiers "
        f"{', '.join(data['tiers'])}; CRMs: {', '.join(systems) or 'none configured'}"
        f"{' (access, fields and permissions checked online)' if online else ''}; "
        f"state: {data['database']}"
    )
    emit(ctx, data, text)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as its scheme only
        return url.split(":", 1)[0] + ":…"


@main.command()
@click.option("--dry-run", is_flag=True, help="Only list what would be created.")
@json_option
@click.pass_obj
def provision(ctx: Context, dry_run: bool) -> None:
    """Create tierwise's fields/properties in each configured CRM (idempotent)."""
    settings = ctx.settings()
    with handled():
        model = boot.build_model(settings, ctx.model)
        connectors = boot.build_crm_connectors(settings, model)
        steps = provision_all(connectors, model, dry_run)
    rows = [{"system": s, **asdict(step)} for s, step in steps]
    lines = [
        # A step a CRM refused (kind "..._failed", e.g. a HubSpot list) is reported, not fatal.
        f"{'NOT created ' if st.kind.endswith('_failed') else 'exists ' if st.exists else ('would create ' if dry_run else 'created ')}"  # noqa: E501
        f"{s} {st.kind} {st.object_name}.{st.name}"
        for s, st in steps
    ]
    emit(ctx, rows, "\n".join(lines) or "nothing to provision")


def provision_all(connectors: Any, model: Any, dry_run: bool) -> list[tuple[str, Any]]:
    steps = []
    for connector in connectors:
        connector.check_access()
        for step in connector.provision(model.tier_labels(), dry_run):
            steps.append((connector.system, step))
    return steps


# -- connect: what the org holds vs what the model needs (read-only) ----------------
@main.command()
@click.option("--sample", default=200, show_default=True, help="Records sampled per CRM.")
@click.option(
    "--write",
    "write_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the proposed mapping (mapping.yaml shape) to this file for review.",
)
@click.option("--force", is_flag=True, help="Overwrite the --write file if it exists.")
@click.option("--json", "connect_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.pass_obj
def connect(
    ctx: Context, sample: int, write_path: Path | None, force: bool, connect_json: bool
) -> None:
    """Inspect each CRM: per model input its field, access, fill rate and best candidates;
    tierwise's own fields; the permissions later commands need. Never writes to a CRM
    or to the live mapping."""
    from tierwise.sync.connect import assess_all
    from tierwise.sync.connect_render import mapping_yaml, render_text, to_json

    settings = ctx.settings()
    if write_path is not None:
        live = getattr(settings, "mapping_path", None)
        if live is not None and Path(live).resolve() == write_path.resolve():
            raise SettingError(
                f"--write {write_path} is the live mapping (TIERWISE_MAPPING_PATH); "
                "write the proposal elsewhere and review it"
            )
        if write_path.exists() and not force:
            raise SettingError(f"--write {write_path} exists; pass --force to overwrite it")
        if not write_path.parent.is_dir():
            raise SettingError(f"--write {write_path}: folder {write_path.parent} does not exist")
    with handled():
        model = boot.build_model(settings, ctx.model)
        customer_model = boot.build_customer_model(settings)
        models = [m for m in (model, customer_model) if m is not None]
        fields = {k: v for m in reversed(models) for k, v in m.fields.items()}
        with boot.crm_connectors(settings, model, customer_model) as connectors:
            reports = assess_all(connectors, fields, models, max(1, sample))
    text = render_text(reports)
    if write_path is not None:
        write_path.write_text(mapping_yaml(reports), encoding="utf-8")
        text += f"\nproposal written to {write_path}: review it; the live mapping is unchanged"
    ctx.as_json = ctx.as_json or connect_json
    emit(ctx, to_json(reports), text)
