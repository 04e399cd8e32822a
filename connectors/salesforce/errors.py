"""Every Salesforce failure is classified here, and nowhere else.

simple-salesforce raises ``SalesforceError`` subclasses by HTTP status with the parsed
JSON error list in ``content``; requests raises its own transport errors. This module
turns both into tierwise's tree (``tierwise.connectors.errors``) by status and ``errorCode``:

===============================  =========================================
INVALID_SESSION_ID (401)         AuthenticationError (the connector re-authenticates
                                 once and replays once before classifying)
REQUEST_LIMIT_EXCEEDED (403)     QuotaExhaustedError (never a re-login); as a 429
                                 or a concurrent-request limit it is RetriableError
QUERY_TIMEOUT                    FatalCrmError on reads (a partial read must fail the run)
UNABLE_TO_LOCK_ROW               RetriableError
INVALID_FIELD / INVALID_TYPE     SchemaError (fix the mapping or run provision)
429, 500, 502, 503, 504          RetriableError
Connection/Timeout/Chunked       RetriableError
SSLError                         ConfigurationError (set ca_bundle)
anything else                    FatalCrmError
Bulk 2.0 query job Failed/       FatalCrmError (``job_failed``: the job's
Aborted                          errorMessage; the read is incomplete)
===============================  =========================================
"""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
)

from tierwise.connectors.errors import (
    AuthenticationError,
    ConfigurationError,
    CrmError,
    FatalCrmError,
    QuotaExhaustedError,
    RetriableError,
    SchemaError,
    speaks_plain_http,
)

SYSTEM = "salesforce"
RETRIABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_RECORD_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})
SCHEMA_CODES = frozenset({"INVALID_FIELD", "INVALID_TYPE", "INVALID_FIELD_FOR_INSERT_UPDATE"})

AUTH_HINT = (
    "set TIERWISE_SALESFORCE__ACCESS_TOKEN (with TIERWISE_SALESFORCE__INSTANCE_URL) "
    "or TIERWISE_SALESFORCE__USERNAME/__PASSWORD/__SECURITY_TOKEN"
)


def error_details(exc: SalesforceError) -> tuple[str | None, str]:
    """(errorCode, message) of the first error in a Salesforce error body."""
    content: Any = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        code = first.get("errorCode") or first.get("statusCode")
        return (str(code) if code else None), str(first.get("message", ""))
    if isinstance(content, dict):
        code = content.get("errorCode")
        return (str(code) if code else None), str(content.get("message", ""))
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    return None, text[:200]


def is_invalid_session(exc: BaseException) -> bool:
    return (
        isinstance(exc, SalesforceError)
        and exc.status == 401
        and error_details(exc)[0] == "INVALID_SESSION_ID"
    )


def classify(
    exc: BaseException, *, operation: str, object_name: str | None = None, read: bool = False
) -> CrmError:
    """The tierwise error for a client exception raised during ``operation``."""
    where = f"Salesforce {operation}" + (f" on {object_name}" if object_name else "")
    kw: dict[str, Any] = {"system": SYSTEM, "object_name": object_name}
    if isinstance(exc, CrmError):
        return exc
    if isinstance(exc, SalesforceAuthenticationFailed):
        return AuthenticationError(f"Salesforce login failed ({exc.code}): check {AUTH_HINT}", **kw)
    if isinstance(exc, SalesforceError):
        code, message = error_details(exc)
        status = exc.status
        kw["status"] = status
        detail = f"{where} failed: HTTP {status} {code or ''} {message}".rstrip()
        if code == "INVALID_SESSION_ID" or status == 401:
            return AuthenticationError(
                f"Salesforce rejected the session ({code or status}): {AUTH_HINT}", **kw
            )
        concurrent = "concurrent" in message.lower()
        if code == "REQUEST_LIMIT_EXCEEDED" and status != 429 and not concurrent:
            return QuotaExhaustedError(
                f"Salesforce daily API request limit is exhausted (REQUEST_LIMIT_EXCEEDED); "
                f"the run is deferred until the org's quota resets. {where}",
                **kw,
            )
        if code == "REQUEST_LIMIT_EXCEEDED":
            return RetriableError(detail, **kw)
        if code == "QUERY_TIMEOUT":
            if read:
                return FatalCrmError(f"{detail}; the read is incomplete, nothing is changed", **kw)
            return RetriableError(detail, **kw)
        if code in TRANSIENT_RECORD_CODES:
            return RetriableError(detail, **kw)
        if code in SCHEMA_CODES:
            return SchemaError(
                f"{detail}; check the field mapping or run 'tierwise provision'", **kw
            )
        if status in RETRIABLE_STATUSES:
            return RetriableError(detail, **kw)
        return FatalCrmError(detail, **kw)
    if isinstance(exc, requests.exceptions.SSLError) and speaks_plain_http(exc):
        return ConfigurationError(
            f"{where}: the server speaks plain HTTP, not TLS; use http:// (or the HTTPS "
            "port) in TIERWISE_SALESFORCE__INSTANCE_URL",
            **kw,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return ConfigurationError(
            f"{where}: TLS verification failed; set TIERWISE_SALESFORCE__CA_BUNDLE "
            f"to the CA file to trust ({type(exc).__name__})",
            **kw,
        )
    if isinstance(
        exc,
        requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | requests.exceptions.ChunkedEncodingError,
    ):
        return RetriableError(f"{where}: {type(exc).__name__} (connection or timeout)", **kw)
    return FatalCrmError(f"{where} failed unexpectedly: {type(exc).__name__}", **kw)


def job_failed(
    job: dict[str, Any], *, object_name: str, operation: str = "bulk query"
) -> FatalCrmError:
    """A Bulk API 2.0 job that ended ``Failed`` or ``Aborted``: its ``errorMessage`` says
    why (Get Information About a Query Job, api_asynch query_get_one_job.htm). A failed
    read is never partial data, so the run fails rather than tiering half an org."""
    message = job.get("errorMessage") or "no errorMessage given"
    return FatalCrmError(
        f"Salesforce {operation} job {job.get('id')} on {object_name} ended {job.get('state')}: "
        f"{message}; the read is incomplete, nothing is changed",
        system=SYSTEM,
        object_name=object_name,
    )
