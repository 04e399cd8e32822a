"""One mapping from a failure to its run status, its exit code and its one-line message.

tierwise runs unattended: the operator learns about a problem from one line on stderr
and the exit code. The engine (run status), the run report (``exit_code``) and every
CLI command classify failures here (``failure``/``classify``), so the same failure ends
the same way whatever command met it. Each error class of the one tree
(``tierwise.tiering.errors``, drawn in its docstring) carries its ``run_status`` and
``exit_code``; this module holds the same table keyed by status (for reports and the
ledger, which keep the status word) and turns foreign exceptions (pydantic,
SQLAlchemy, a missing module) into operator words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tierwise.tiering.errors import ConfigurationError, TierwiseError

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_PARTIAL = 4
EXIT_LOCKED = 5
EXIT_DEFERRED = 6
EXIT_UNAVAILABLE = 7
EXIT_NOT_FOUND = 8
# issue 17 (change control): a saved plan the CRM or the model has moved past; a run held
# by the blast-radius breaker (saved as a plan to approve); a candidate model refused.
EXIT_STALE_PLAN = 9
EXIT_HELD = 10
EXIT_MODEL_REFUSED = 11
# sysexits.h EX_USAGE: distinct from click's default 2, which is our configuration code.
EXIT_USAGE = 64

# Run status (report, ledger, metrics label) -> process exit code. README documents it.
EXIT_CODES: dict[str, int] = {
    "ok": EXIT_OK,
    "dry_run": EXIT_OK,
    "failed": EXIT_UNEXPECTED,
    "configuration": EXIT_CONFIG,
    "authentication": EXIT_AUTH,
    "partial": EXIT_PARTIAL,
    "stopped": EXIT_PARTIAL,
    "locked": EXIT_LOCKED,
    "deferred": EXIT_DEFERRED,
    "unavailable": EXIT_UNAVAILABLE,
    "not_found": EXIT_NOT_FOUND,
    "stale_plan": EXIT_STALE_PLAN,
    "held": EXIT_HELD,
    "model_refused": EXIT_MODEL_REFUSED,
    "usage": EXIT_USAGE,
}


class SettingError(ConfigurationError):
    """A setting, path, port, URL or command option the operator gave is wrong; nothing
    was written."""


class NotFoundError(TierwiseError):
    """The account (or other thing) asked for is not in the state store."""

    run_status = "not_found"
    exit_code = EXIT_NOT_FOUND


_SQLA_NOISE = re.compile(r"\s*\((?:Background on this error at|sqlalche\.me)[^)]*\)")
_SQL_TEXT = re.compile(r"\s*\[SQL:.*", re.DOTALL)
_PYDANTIC_URL = re.compile(r"\s*For further information visit https?://\S+")


def clean(message: str) -> str:
    """Drop library documentation URLs and SQL text; keep one line."""
    message = _SQLA_NOISE.sub("", message)
    message = _SQL_TEXT.sub("", message)
    message = _PYDANTIC_URL.sub("", message)
    return " ".join(message.split())


@dataclass(frozen=True)
class Failure:
    """How a failure ends: the status word, the process exit code and one line."""

    status: str
    exit_code: int
    message: str


def failure(exc: BaseException) -> Failure:
    """The one classification of any exception met by a run or a command.

    tierwise's own errors end as their class says; a few foreign ones are configuration
    (the state database, a missing driver); anything else is a bug (``failed``, 1).
    """
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, TierwiseError):
        if EXIT_CODES.get(exc.run_status) != exc.exit_code:
            # A class whose pair is not in the table is a bug in the tree itself.
            return Failure("failed", EXIT_UNEXPECTED, clean(str(exc)))
        return Failure(exc.run_status, exc.exit_code, clean(str(exc)))
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None)
        detail = clean(str(orig if orig is not None else exc))
        return Failure(
            "configuration",
            EXIT_CONFIG,
            f"state database (TIERWISE_DATABASE_URL): {type(exc).__name__}: {detail}",
        )
    if isinstance(exc, ModuleNotFoundError) and exc.name and "sqlalchemy" not in exc.name:
        return Failure(
            "configuration",
            EXIT_CONFIG,
            f"missing Python module {exc.name!r} (a database driver tierwise does not ship?); "
            "TIERWISE_DATABASE_URL supports sqlite:/// and postgresql:// only",
        )
    return Failure("failed", EXIT_UNEXPECTED, clean(f"{type(exc).__name__}: {exc}"))


def classify(exc: BaseException) -> tuple[str, str]:
    """``(status, one-line message)`` for any exception met by a run or a command."""
    found = failure(exc)
    return found.status, found.message


def exit_code(status: str) -> int:
    """The exit code of a run that ended with ``status`` (unknown words are a bug, 1)."""
    return EXIT_CODES.get(status, EXIT_UNEXPECTED)


def settings_error(exc: Exception, env: dict[str, str]) -> SettingError:
    """pydantic's settings errors as one line naming the variable, never its value."""
    from pydantic import ValidationError

    from tierwise.config.catalog import env_name, nearest

    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            name = env_name(tuple(error["loc"]))
            if error["type"] == "extra_forbidden":
                parts.append(f"{name} is not a tierwise setting{nearest(name)}")
            else:
                parts.append(f"{name}: {clean(error['msg'])}")
        return SettingError("invalid settings: " + "; ".join(parts))
    # pydantic-settings could not parse a value (JSON in a dict setting): find which.
    import json

    for name, value in sorted(env.items()):
        if name.upper().startswith("TIERWISE_") and value.lstrip()[:1] in ("{", "["):
            try:
                json.loads(value)
            except json.JSONDecodeError as bad:
                return SettingError(
                    f"invalid settings: {name} is not valid JSON ({bad.msg} at character "
                    f'{bad.pos}); write it as \'{{"key": "value"}}\''
                )
    return SettingError(f"invalid settings: {clean(str(exc))}")
