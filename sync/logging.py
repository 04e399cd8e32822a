"""structlog set-up: JSON lines in a container, key=value on a terminal, secrets scrubbed.

Every event carries the run id (bound through contextvars by the engine). A redaction
processor runs last before rendering, over the whole event including rendered
tracebacks, and replaces each configured secret (and any long prefix of it, as a
truncated token in an error message would be) with ``**********``. Tracebacks are
rendered without frame locals, which would otherwise print credentials held in
local variables.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "**********"
MIN_PREFIX = 8


class Redactor:
    """Scrubs secret values and their prefixes of at least ``MIN_PREFIX`` characters."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
            probe = secret[: min(MIN_PREFIX, len(secret))]
            start = text.find(probe)
            while start != -1:
                end = start + len(probe)
                while (
                    end < len(text)
                    and end - start < len(secret)
                    and text[end] == secret[end - start]
                ):
                    end += 1
                text = text[:start] + REDACTED + text[end:]
                start = text.find(probe, start + len(REDACTED))
        return text

    def scrub_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self.scrub_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.scrub_value(v) for v in value)
        if isinstance(value, BaseException | int | float | bool) or value is None:
            return value
        return self.scrub(str(value))

    def __call__(self, _logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
        if not self.secrets:
            return event
        return {k: self.scrub_value(v) for k, v in event.items()}


_redactor = Redactor(())


def redactor() -> Redactor:
    """The redactor configured for this process (used for the report and CLI messages too)."""
    return _redactor


def _stringify_exceptions(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    # format_exc_info leaves an ``exc_info`` exception object when there was none to render.
    error = event.get("error")
    if isinstance(error, BaseException):
        event["error"] = f"{type(error).__name__}: {error}"
    return event


def configure_logging(
    fmt: str = "auto",
    level: str = "INFO",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Configure structlog once per process (the CLI calls it at start-up)."""
    global _redactor
    _redactor = Redactor(secrets)
    out = stream or sys.stderr
    json_lines = fmt == "json" or (fmt == "auto" and not out.isatty())
    if stream is None:
        # Resolve sys.stderr at each write: while progress bars are live, rich swaps it
        # for a proxy that prints log lines above the bars instead of onto them.
        out = _CurrentStderr()
    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _stringify_exceptions,
        # Plain traceback text, never frame locals.
        structlog.processors.format_exc_info,
        _redactor,
    ]
    if json_lines:
        processors.append(structlog.processors.JSONRenderer())
    else:
        processors.append(
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
        )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


class _CurrentStderr:
    """A file-like object that writes to whatever ``sys.stderr`` is at the moment."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def settings_secrets(settings: Any) -> list[str]:
    """Every ``SecretStr`` value anywhere in the settings tree."""
    from pydantic import BaseModel, SecretStr

    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, MutableMapping):
            for item in value.values():
                walk(item)

    walk(settings)
    return [s for s in found if s]
