"""The composition root: Settings -> logging -> state store -> connectors -> engine.

Every entry point (CLI commands, the scheduler, tests) builds its objects here or
hands in fakes for some of them; nothing below this module reads settings or the
environment on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tierwise.config.mapping import apply_mapping, model_categories
from tierwise.config.settings import Settings
from tierwise.connectors.base import Connector
from tierwise.sync.engine import SyncEngine
from tierwise.sync.logging import configure_logging, settings_secrets
from tierwise.sync.metrics import Metrics
from tierwise.sync.progress import Progress
from tierwise.sync.state import StateStore


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, ``.env`` and ``TIERWISE_SECRETS_DIR`` files."""
    return Settings(**overrides)


def setup_logging(
    settings: Settings, log_format: str | None = None, level: str | None = None
) -> None:
    secrets = settings_secrets(settings)
    password = _database_password(settings.database_url)
    if password:
        secrets.append(password)
    configure_logging(
        fmt=log_format or settings.log_format, level=level or settings.log_level, secrets=secrets
    )


def _database_password(url: str) -> str | None:
    """The state database URL is a plain setting but may carry a password: redact it too."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except ArgumentError:
        return None


def build_store(settings: Settings) -> StateStore:
    from tierwise.sync import preflight

    # A URL SQLAlchemy cannot use (no driver, no folder) is a setting error, not a bug.
    preflight.refuse([p for p in [preflight.database_problem(settings.database_url)] if p])
    store = StateStore.from_url(settings.database_url)
    store.migrate()
    return store


def build_model(settings: Settings, model_path: Path | None = None) -> Any:
    from tierwise.tiering import load_model

    return load_model(model_path or settings.model_path)


def build_customer_model(settings: Settings) -> Any:
    """The customer tier model when customer tiers are on (``TIERWISE_CUSTOMER_TIERS``)."""
    if not settings.customer_tiers:
        return None
    from tierwise.tiering import load_model

    return load_model(settings.customer_model_path)


def close_connectors(connectors: Iterable[Connector]) -> None:
    """Release each connector's pooled connections (``close`` is not in the protocol)."""
    for connector in connectors:
        close = getattr(connector, "close", None)
        if callable(close):
            close()


@contextmanager
def crm_connectors(
    settings: Settings, model: Any, customer_model: Any = None
) -> Iterator[list[Connector]]:
    """The configured CRMs' connectors for one command, closed when it is done."""
    connectors = build_crm_connectors(settings, model, customer_model)
    try:
        yield connectors
    finally:
        close_connectors(connectors)


def build_crm_connectors(
    settings: Settings, model: Any, customer_model: Any = None
) -> list[Connector]:
    from tierwise.connectors import build_connectors

    if customer_model is None:
        customer_model = build_customer_model(settings)
    customer_tiers = customer_model.tier_labels() if customer_model is not None else None
    fields = dict(model.fields)
    if customer_model is not None:
        # The customer model's fields that come from the CRM (health score, adoption);
        # the deal-derived ones have no CRM mapping and are simply not pulled.
        fields.update({k: v for k, v in customer_model.fields.items() if k not in fields})
    # The mapping file under the env's mappings; a key naming no model input stops here.
    categories = model_categories(model, customer_model)
    settings = apply_mapping(settings, fields, categories=categories)
    pipeline = getattr(model, "pipeline", None)
    stage = pipeline.stage if pipeline is not None else None
    return build_connectors(settings, fields, customer_tiers=customer_tiers, pipeline_stage=stage)


def escalation_owners(settings: Settings) -> dict[str, str | None] | None:
    """Who gets an escalation task per CRM, or None when escalation is off."""
    if not settings.escalate_overdue:
        return None
    return {
        "salesforce": settings.salesforce.escalation_user_id if settings.salesforce else None,
        "hubspot": settings.hubspot.escalation_owner_id if settings.hubspot else None,
    }


@dataclass
class App:
    settings: Settings
    store: StateStore
    model: Any
    connectors: list[Connector]
    engine: SyncEngine
    metrics: Metrics
    stop: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        close_connectors(self.connectors)
        self.store.dispose()


def bootstrap(
    settings: Settings,
    *,
    model_path: Path | None = None,
    model: Any = None,
    store: StateStore | None = None,
    connectors: Sequence[Connector] | None = None,
    clock: Callable[[], datetime] | None = None,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    metrics: Metrics | None = None,
) -> App:
    """Wire one app; pass any part to replace the real one (tests wire fakes here)."""
    from tierwise.tiering import tier_accounts

    model = model if model is not None else build_model(settings, model_path)
    customer_model = build_customer_model(settings)
    store = store or build_store(settings)
    # build_crm_connectors adds the customer fields itself when customer tiers are on.
    crm = list(connectors) if connectors is not None else build_crm_connectors(settings, model)
    stop = stop or threading.Event()
    engine = SyncEngine(
        store=store,
        connectors=crm,
        model=model,
        tier_accounts=tier_accounts,
        primary=settings.primary,
        hand_edit_override_days=settings.hand_edit_override_days,
        tasks_in=settings.tasks_in,
        clock=clock or (lambda: datetime.now(UTC)),
        stop=stop,
        progress=progress,
        escalation_owners=escalation_owners(settings),
        customer_model=customer_model,
        backfill_tasks=settings.backfill_tasks,
        tasks_per_owner_per_day=settings.tasks_per_owner_per_day,
    )
    # issue 17: change control (breaker + write journal) on every run that writes.
    from tierwise.sync.change.gate import gate_for

    gate = gate_for(settings, model_path, store, [c.system for c in crm])
    engine.before_apply = gate
    engine.before_write = gate.journal_writes
    return App(settings, store, model, crm, engine, metrics or Metrics(), stop)
