"""``tierwise explain``, ``history`` and ``runs``: reading the state store, never a CRM."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, NoReturn

import click

from tierwise.sync import bootstrap as boot
from tierwise.sync.cli.core import Context, emit, handled, json_option, main
from tierwise.sync.exits import NotFoundError
from tierwise.sync.merge import normalise_domain


def _find_key(store: Any, account: str) -> str | None:
    snapshots = store.snapshots()
    keys = {s.key for s in snapshots}
    if account in keys:
        return account
    domain = normalise_domain(account)
    if domain and domain in keys:
        return domain
    for snap in snapshots:
        if account in (snap.crm_id, f"{snap.system}:{snap.crm_id}"):
            return str(snap.key)
    return None


def _not_found(store: Any, account: str) -> NoReturn:
    """Exit 8 with the closest keys, domains or names the state store does hold."""
    import difflib

    snapshots = store.snapshots()
    if not snapshots:
        raise NotFoundError(f"no account {account!r}: the state store is empty; run `tierwise run`")
    names: dict[str, str] = {}
    for snap in snapshots:
        names[str(snap.key)] = str(snap.key)
        name = getattr(snap, "name", None)
        if name:
            names[str(name).lower()] = str(snap.key)
    close = difflib.get_close_matches(account.lower(), list(names), n=3, cutoff=0.6)
    hint = "; did you mean " + ", ".join(sorted({names[c] for c in close})) + "?" if close else ""
    raise NotFoundError(f"no account {account!r} in the state store{hint}")


@main.command()
@click.argument("account")
@json_option
@click.pass_obj
def explain(ctx: Context, account: str) -> None:
    """Explain the tier of ACCOUNT (key, domain or CRM id) from the last pulled data."""
    from tierwise.sync.preview import explain_decision

    settings = ctx.settings()
    with handled():
        model = boot.build_model(settings, ctx.model)
        store = boot.build_store(settings)
    key = _find_key(store, account)
    if key is None:
        _not_found(store, account)
    now = datetime.now(UTC)
    # The run's own decide (sync.preview), hand edits and history included.
    decision = explain_decision(
        store,
        model,
        key,
        now,
        primary=settings.primary,
        hand_edit_days=settings.hand_edit_override_days,
    )
    if decision is None:
        _not_found(store, account)
    try:
        from tierwise.tiering.explain import format_decision

        text = format_decision(decision)
    except ImportError:  # pragma: no cover - older tiering
        text = f"{decision.key}: {decision.tier_label} ({decision.score:.1f}) {decision.reason}"
    emit(ctx, asdict(decision), text)


@main.command()
@click.argument("account")
@json_option
@click.pass_obj
def history(ctx: Context, account: str) -> None:
    """Show ACCOUNT's tier and score over time (key, domain or CRM id)."""
    settings = ctx.settings()
    with handled():
        store = boot.build_store(settings)
    key = _find_key(store, account) or account
    rows = store.history(key)
    if not rows:
        _not_found(store, account)
    text = "\n".join(
        [f"{key}"]
        + [
            f"  {r.at:%Y-%m-%d %H:%M} {r.tier:<12} {r.score:6.1f}  {r.rule:<18} {r.reason}"
            for r in rows
        ]
    )
    emit(ctx, [asdict(r) for r in rows], text)


@main.command()
@click.option("--limit", default=20, show_default=True, help="How many runs to list, newest first.")
@json_option
@click.pass_obj
def runs(ctx: Context, limit: int) -> None:
    """List recent runs from the run ledger."""
    with handled():
        store = boot.build_store(ctx.settings())
    records = store.list_runs(limit)
    from tierwise.sync.change.journal import ChangeJournal  # issue 17: the model behind each run

    models = ChangeJournal(store).runs([r.id for r in records])
    lines = []
    for r in records:
        took = f"{(r.finished - r.started).total_seconds():.1f}s" if r.finished else "-"
        writes = (
            sum((r.counts.get("writes") or {}).values())
            if isinstance(r.counts.get("writes"), dict)
            else 0
        )
        dry = " dry-run" if r.dry_run else ""
        model, applied = models.get(r.id, (None, None))
        lines.append(
            f"{r.started:%Y-%m-%d %H:%M:%S} {r.id[:8]} {r.kind:<11} {r.status:<14} {took:>7} "
            f"writes={writes} errors={len(r.errors)}{dry}"
            + (f" model={model[:12]}" if model else "")
            + (f" plan={applied[:12]}" if applied else "")
        )
    emit(
        ctx,
        [
            {
                **asdict(r),
                "model_sha256": models.get(r.id, (None, None))[0],
                "plan_sha256": models.get(r.id, (None, None))[1],
            }
            for r in records
        ],
        "\n".join(lines) or "no runs yet",
    )
