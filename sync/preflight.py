"""Checks that need no CRM: what ``run`` and ``schedule`` would refuse, found up front.

Each check returns problems that name the culprit (the variable, the path, the port)
and the fix. ``tierwise validate`` prints them all; ``run``, ``plan`` and ``schedule``
refuse to start on an error *before* any CRM write, so an unwritable report folder no
longer surfaces only after the writes succeeded. Warnings (an unknown ``TIERWISE_*``
name) never stop a run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tierwise.config.settings import Settings
from tierwise.sync.exits import SettingError

SUPPORTED_DATABASES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" | "warning"
    message: str


def _error(message: str) -> Problem:
    return Problem("error", message)


def writable_dir_problem(path: Path, setting: str) -> Problem | None:
    """Can a file be created in ``path`` (creating missing folders as the report does)?"""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return _error(f"{setting}={path}: {probe} is a file, not a folder; point it at a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        return _error(f"{setting}={path}: {probe} is not writable by this user; fix its owner")
    return None


def output_file_problem(path: Path, option: str) -> Problem | None:
    """An output file's folder must exist (we do not invent folders for one-off exports)."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return _error(f"{option} {path}: folder {folder} does not exist; create it first")
    if path.is_dir():
        return _error(f"{option} {path}: is a folder; give a file name")
    if not os.access(folder, os.W_OK | os.X_OK):
        return _error(f"{option} {path}: folder {folder} is not writable by this user")
    return None


def database_problem(url: str) -> Problem | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    setting = "TIERWISE_DATABASE_URL"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return _error(
            f"{setting} is not a database URL ({url.split('@')[-1]!r}); use "
            "sqlite:///path/to/tierwise.db or postgresql://user@host/database"
        )
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        return _error(f"{setting}: {backend} is not supported; use sqlite:/// or postgresql://")
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            return _error(
                f"{setting}: folder {folder} of the SQLite file does not exist; create it "
                "(or mount the state volume there)"
            )
    return None


def cron_problems(settings: Settings) -> list[Problem]:
    from apscheduler.triggers.cron import CronTrigger

    problems = []
    for name in ("full_cron", "incremental_cron"):
        value = getattr(settings.schedule, name)
        try:
            CronTrigger.from_crontab(value, timezone=settings.timezone)
        except (ValueError, TypeError, LookupError) as exc:
            problems.append(
                _error(
                    f"TIERWISE_SCHEDULE__{name.upper()}={value!r}: not a 5-field crontab "
                    f"(minute hour day month weekday), {exc}"
                )
            )
    return problems


def crm_problems(settings: Settings) -> list[Problem]:
    """No CRM, or one half set; the connector factory words the credentials rules."""
    from tierwise.connectors import build_connectors
    from tierwise.connectors.errors import ConfigurationError
    from tierwise.sync.bootstrap import close_connectors

    if settings.salesforce is None and settings.hubspot is None:
        return [
            _error(
                "no CRM is configured: set TIERWISE_HUBSPOT__ACCESS_TOKEN and/or "
                "TIERWISE_SALESFORCE__INSTANCE_URL + TIERWISE_SALESFORCE__ACCESS_TOKEN"
            )
        ]
    try:
        # Building connectors only reads settings; nothing is sent before check_access.
        close_connectors(build_connectors(settings, {}))
    except ConfigurationError as exc:
        return [_error(str(exc))]
    return []


def model_problems(settings: Settings, model_path: Path | None) -> list[Problem]:
    problems = []
    path = model_path or settings.model_path
    if not Path(path).is_file():
        problems.append(_error(f"TIERWISE_MODEL_PATH: model file {path} does not exist"))
    if settings.customer_tiers and not Path(settings.customer_model_path).is_file():
        problems.append(
            _error(
                f"TIERWISE_CUSTOMER_MODEL_PATH: customer model {settings.customer_model_path} "
                "does not exist (TIERWISE_CUSTOMER_TIERS is on)"
            )
        )
    return problems


def mapping_problems(settings: Settings, model_fields: Iterable[str]) -> list[Problem]:
    """A mapping key that names no model input (``intnt_score``) would be dropped silently."""
    known = set(model_fields)
    problems = []
    for system in ("salesforce", "hubspot"):
        section = getattr(settings, system)
        if section is None:
            continue
        for key in sorted(set(section.fields) - known):
            import difflib

            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                _error(
                    f"TIERWISE_{system.upper()}__FIELDS: {key!r} is no input of the model"
                    f"{hint}; model inputs: {', '.join(sorted(known))}"
                )
            )
    return problems


def port_problem(port: int, what: str, host: str = "0.0.0.0") -> Problem | None:  # noqa: S104 - same bind as the server
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return _error(f"{what}: port {port} is already in use ({exc.strerror}); pick another")
    return None


def unknown_variables(env: Mapping[str, str]) -> list[Problem]:
    from tierwise.config.catalog import unknown_names

    return [Problem("warning", text) for text in unknown_names(env)]


def run_problems(
    settings: Settings, *, report: bool = True, outputs: Iterable[tuple[Path | None, str]] = ()
) -> list[Problem]:
    """What ``run``/``plan`` refuse before touching a CRM."""
    problems = [p for p in [database_problem(settings.database_url)] if p]
    if report:
        problem = writable_dir_problem(Path(settings.report_dir), "TIERWISE_REPORT_DIR")
        problems += [problem] if problem else []
    for path, option in outputs:
        if path is not None and (problem := output_file_problem(path, option)):
            problems.append(problem)
    return problems


def all_problems(
    settings: Settings, model_path: Path | None, env: Mapping[str, str]
) -> list[Problem]:
    """Everything ``tierwise validate`` checks offline."""
    return [
        *run_problems(settings),
        *cron_problems(settings),
        *model_problems(settings, model_path),
        *crm_problems(settings),
        *unknown_variables(env),
    ]


def unmapped_line(system: str, inputs: Mapping[str, str]) -> str:
    """The run summary's line for the inputs one CRM cannot supply, word for word."""
    names = ", ".join(
        name if why == "not mapped" else f"{name} ({why})" for name, why in inputs.items()
    )
    return f"{system}: not mapped: {names} (scored as missing)"


def online_problems(settings: Settings, model: Any) -> list[Problem]:
    """What ``tierwise validate --online`` adds, in the order a run meets it.

    Access and every mapped field are checked on each configured CRM exactly as ``run``
    checks them (a refusal raises the same error, so the same exit code). Then, as
    warnings, what a run would only say in its summary: the model inputs each CRM cannot
    supply (scored as missing), and each category table that shares no key with the
    mapped field's picklist / enumeration options after the value maps (every account
    would score the table's default). Reads only: one describe / properties call per CRM
    on top of the run's own checks.
    """
    from tierwise.connectors.inventory import inspect_fields
    from tierwise.sync import bootstrap as boot
    from tierwise.sync.connect import value_warnings

    customer = boot.build_customer_model(settings)
    models = [m for m in (model, customer) if m is not None]
    fields = {k: v for m in reversed(models) for k, v in m.fields.items()}
    problems: list[Problem] = []
    with boot.crm_connectors(settings, model, customer) as connectors:
        for connector in connectors:
            connector.check_access()
            connector.validate_schema()
            unmapped = dict(sorted(connector.unmapped_inputs().items()))
            if unmapped:
                problems.append(Problem("warning", unmapped_line(connector.system, unmapped)))
            wanted = {k: v for k, v in fields.items() if k not in unmapped}
            problems += [
                Problem("warning", f"{connector.system}: {text}")
                for text in value_warnings(wanted, inspect_fields(connector), models)
            ]
    return problems


def refuse(problems: Iterable[Problem]) -> None:
    """Raise the first error (one line, exit 2); warnings pass."""
    for problem in problems:
        if problem.severity == "error":
            raise SettingError(problem.message)
