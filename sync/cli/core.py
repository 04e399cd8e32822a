"""The core of the ``tierwise`` command line: the click group, its context, one way out.

Exit codes (one table, sync/exits.py; README "Exit codes"): 0 ok, 1 unexpected error
(a bug), 2 configuration or model error, 3 authentication error, 4 partial failure (some
records failed, or stopped early), 5 run lock held by another run, 6 deferred (API
quota), 7 a CRM unreachable or unavailable, 8 not found, 64 usage error. Every failure
ends in one line on stderr; a traceback only with ``--debug`` or TIERWISE_LOG_LEVEL=debug.

Command modules (``sync/cli/<family>.py``) import this module and register on ``main``;
this module imports none of them, so there is no cycle however the commands grow.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from pydantic import ValidationError
from pydantic_settings.exceptions import SettingsError
from sqlalchemy.exc import SQLAlchemyError

from tierwise.config.settings import Settings
from tierwise.sync import bootstrap as boot
from tierwise.sync import preflight
from tierwise.sync.exits import EXIT_USAGE, failure, settings_error
from tierwise.sync.logging import redactor
from tierwise.sync.report import RunReport
from tierwise.tiering.errors import ModelError, TierwiseError


class Context:
    """What the group's options give every command; settings are loaded once, on first use,
    so ``--help`` and usage errors never need a valid environment."""

    def __init__(
        self, model: Path | None, as_json: bool, log_format: str | None, debug: bool = False
    ) -> None:
        self.model = model
        self.as_json = as_json
        self.log_format = log_format
        self.debug = debug
        self._settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None or overrides:
            try:
                self._settings = boot.load_settings(**overrides)
            except (ValidationError, SettingsError) as exc:
                # hide_input_in_errors: the message names the setting, never its value.
                raise settings_error(exc, dict(os.environ)) from None
            boot.setup_logging(self._settings, self.log_format, "DEBUG" if self.debug else None)
        return self._settings


def fail(code: int, message: str) -> NoReturn:
    """End now: ``message`` as one stderr line (secrets scrubbed) and exit ``code``."""
    click.echo(f"tierwise: {redactor().scrub(message)}", err=True)
    sys.exit(code)


PREFIXES = {
    "configuration": "configuration error: ",
    "authentication": "authentication failed: ",
    "deferred": "deferred: ",
    "unavailable": "CRM unavailable: ",
    "not_found": "not found: ",
}


def fail_on(exc: BaseException, *, debug: bool = False) -> NoReturn:
    """One line on stderr and the exit code of ``exc``'s class (sync/exits.py)."""
    found = failure(exc)
    status, message = found.status, found.message
    if status == "unavailable":
        # The hint is a courtesy; the line stands without it.
        with contextlib.suppress(Exception):
            message = unreachable_hint(message, boot.load_settings())
    if debug or status == "failed":
        # A real bug: say so; the traceback only when asked for (it can be long).
        if debug:
            click.echo(redactor().scrub(traceback.format_exc()), err=True)
        elif status == "failed":
            message += " (unexpected: rerun with --debug for the traceback, and report it)"
    prefix = "model error: " if isinstance(exc, ModelError) else PREFIXES.get(status, "")
    fail(found.exit_code, prefix + message)


@contextmanager
def handled() -> Iterator[None]:
    """Turn tierwise's own errors into one line and the documented exit code."""
    try:
        yield
    except (TierwiseError, SQLAlchemyError) as exc:
        fail_on(exc, debug=_debug_requested())


def _debug_requested(args: list[str] | None = None) -> bool:
    argv = args if args is not None else sys.argv[1:]
    return "--debug" in argv or os.environ.get("TIERWISE_LOG_LEVEL", "").lower() == "debug"


class TierwiseGroup(click.Group):
    """The command group whose ``main`` is the one place every failure is turned into a
    line and an exit code: usage errors exit 64, tierwise's errors their class's code,
    anything else 1 ("a bug") with the traceback only under ``--debug``."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        argv = list(kwargs.get("args") or (args[0] if args else None) or sys.argv[1:])
        try:
            result = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.NoArgsIsHelpError as exc:
            # `tierwise` alone: the help, as click prints it, and the usage code.
            click.echo(exc.format_message(), err=True)
            sys.exit(EXIT_USAGE)
        except click.UsageError as exc:
            see = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            click.echo(f"tierwise: usage error: {exc.format_message()}{see}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("tierwise: aborted", err=True)
            sys.exit(130)
        except SystemExit:
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into a line
            fail_on(exc, debug=_debug_requested(argv))
        sys.exit(result if isinstance(result, int) else 0)


def emit(ctx: Context, data: Any, text: str) -> None:
    """Print JSON or text on stdout, with any configured secret scrubbed."""
    if ctx.as_json:
        click.echo(redactor().scrub(json.dumps(data, indent=2, default=json_default)))
    else:
        click.echo(redactor().scrub(text))


def json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)


@click.group(cls=TierwiseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--model",
    "model",
    type=click.Path(path_type=Path),
    default=None,
    help="Tiering model file (default: TIERWISE_MODEL_PATH or the bundled config/model.yaml).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default=None,
    help="Logs on stderr: JSON lines, key=value, or auto (key=value on a terminal).",
)
@click.option(
    "--debug", is_flag=True, help="Show the traceback of a failure (also TIERWISE_LOG_LEVEL=debug)."
)
@click.version_option(package_name="tierwise")
@click.pass_context
def main(
    ctx: click.Context, model: Path | None, as_json: bool, log_format: str | None, debug: bool
) -> None:
    """tierwise: tier accounts in Salesforce and HubSpot; write back tiers, plays and tasks.

    Start with `tierwise demo` (no credentials needed). Settings come from TIERWISE_*
    environment variables (see the README); `tierwise validate` checks them.
    """
    ctx.obj = Context(model, as_json, log_format, debug)


def warn_unknown_variables() -> None:
    """A misspelt TIERWISE_* name is otherwise ignored without a word: log it once."""
    import structlog

    for problem in preflight.unknown_variables(dict(os.environ)):
        structlog.get_logger("tierwise.settings").warning(
            "settings.unknown_variable", problem=problem.message
        )


def write_report(report: RunReport, settings: Settings) -> Path | None:
    """Write the run report; after the CRM writes, a failure here is a warning, not a crash."""
    try:
        return report.write(settings.report_dir)
    except OSError as exc:
        click.echo(
            f"tierwise: warning: could not write the run report to {settings.report_dir} "
            f"(TIERWISE_REPORT_DIR): {exc.strerror or exc}",
            err=True,
        )
        return None


def json_option(fn: Any) -> Any:
    """``--json`` after the command too (``tierwise run --json``), same as before it."""

    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value and isinstance(ctx.obj, Context):
            ctx.obj.as_json = True

    return click.option(
        "--json",
        "as_json_flag",
        is_flag=True,
        expose_value=False,
        callback=set_json,
        help="Machine-readable JSON on stdout.",
    )(fn)


def unreachable_hint(message: str, settings: Settings) -> str:
    """Name the URL and the setting when a CRM could not be reached at all."""
    if "connection or timeout" not in message and "TLS" not in message:
        return message
    hints = []
    if settings.salesforce is not None and "Salesforce" in message:
        hints.append(f"TIERWISE_SALESFORCE__INSTANCE_URL={settings.salesforce.instance_url}")
    if settings.hubspot is not None and "HubSpot" in message:
        hints.append(f"TIERWISE_HUBSPOT__BASE_URL={settings.hubspot.base_url}")
    if not hints:
        return message
    return f"{message}; cannot reach {', '.join(hints)}: check the host, port and scheme"


def settings_from_env(env: Mapping[str, str], **extra: Any) -> Settings:
    """Settings from a TIERWISE_* mapping (the sandbox's), without touching os.environ."""
    nested: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith("TIERWISE_"):
            continue
        parts = name[len("TIERWISE_") :].lower().split("__")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    nested.update(extra)
    return Settings(_env_file=None, **nested)  # type: ignore[call-arg]  # pydantic-settings init arg
