"""Errors a connector raises, grouped by what the caller should do next.

Client-library exceptions (``SalesforceError``, hubspot ``ApiException``, requests and
urllib3 transport errors) never leave ``connectors/``: each connector classifies them
into this tree in one place. Messages name the CRM, object, record and setting to
fix, and never a token or password.
"""

from __future__ import annotations

from tierwise.tiering import errors as base
from tierwise.tiering.errors import TierwiseError


class CrmError(TierwiseError):
    """Something went wrong talking to a CRM; the subclass says how the run ends."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        object_name: str | None = None,
        record_id: str | None = None,
        status: int | None = None,
    ) -> None:
        self.system = system
        self.object_name = object_name
        self.record_id = record_id
        self.status = status
        super().__init__(message)


class ConfigurationError(CrmError, base.ConfigurationError):
    """A setting, mapping or field is wrong: fix configuration or run ``tierwise provision``.

    A CRM error and a configuration error at once: its status and exit code are the
    configuration branch's (``configuration``, 2).
    """


class SchemaError(ConfigurationError):
    """A mapped field is missing or not writable; nothing has been written."""


class AuthenticationError(CrmError):
    """Credentials are missing, wrong or expired beyond one re-authentication."""

    run_status = "authentication"
    exit_code = 3


class RetriableError(CrmError):
    """A transient failure (429, 5xx, timeout, dropped connection) worth retrying.

    Raised out of a run only once the retries are spent: the CRM is unreachable or
    unavailable, and a later run may succeed.
    """

    run_status = "unavailable"
    exit_code = 7

    def __init__(
        self,
        message: str,
        *,
        system: str,
        retry_after: float | None = None,
        object_name: str | None = None,
        record_id: str | None = None,
        status: int | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            message, system=system, object_name=object_name, record_id=record_id, status=status
        )


class QuotaExhaustedError(CrmError):
    """A daily API budget is spent (or would be); the run stops as deferred."""

    run_status = "deferred"
    exit_code = 6


class FatalCrmError(CrmError):
    """A request failed in a way retrying will not fix (a bug, a read that failed)."""

    run_status = "failed"
    exit_code = 1


def speaks_plain_http(exc: BaseException) -> bool:
    """True when a TLS handshake met a plain-HTTP server (``https://`` at an HTTP port).

    The TLS library reports this as "wrong version number"; a CA-bundle hint would
    send the operator the wrong way, so classifiers name the URL's scheme instead.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = f"{current} {getattr(current, 'reason', '')}"
        if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text:
            return True
        current = current.__cause__ or current.__context__
    return False
