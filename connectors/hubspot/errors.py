"""Every HubSpot failure is classified here, and nowhere else.

hubspot-api-client has one ``ApiException`` class per API module, so this module
duck-types on ``.status`` / ``.body`` / ``.headers``; urllib3 transport errors arrive
unwrapped. Mapping:

=======================================  =======================================
401                                      AuthenticationError
403                                      AuthenticationError (missing scope)
429 policyName DAILY                     QuotaExhaustedError
429 TEN_SECONDLY_ROLLING / secondly      RetriableError(retry_after = header, else
                                         10 s window / 1 s for search)
5xx, 0 with a transport reason           RetriableError
urllib3 MaxRetry/Protocol/ReadTimeout/   RetriableError
NewConnection/Timeout errors
400 VALIDATION_ERROR on properties       SchemaError
anything else                            FatalCrmError
=======================================  =======================================
"""

from __future__ import annotations

import json
from typing import Any

from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import (
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    TimeoutError,
)

from tierwise.connectors.errors import (
    AuthenticationError,
    ConfigurationError,
    CrmError,
    FatalCrmError,
    QuotaExhaustedError,
    RetriableError,
    speaks_plain_http,
)

SYSTEM = "hubspot"
TEN_SECOND_WINDOW = 10.0
SECONDLY_WINDOW = 1.0
AUTH_HINT = (
    "set TIERWISE_HUBSPOT__ACCESS_TOKEN to a service key (or legacy private-app token) with "
    "the scopes README 'CRM permissions' lists"
)


def is_api_exception(exc: BaseException) -> bool:
    """Any module's ApiException (they share no base class we can import once)."""
    return (
        hasattr(exc, "status")
        and hasattr(exc, "body")
        and hasattr(exc, "headers")
        and type(exc).__module__.startswith("hubspot.")
    )


def error_body(exc: BaseException) -> dict[str, Any]:
    body: Any = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return {"message": body[:200]}
    return body if isinstance(body, dict) else {}


def header(exc: BaseException, name: str) -> str | None:
    headers: Any = getattr(exc, "headers", None)
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, item in dict(headers).items():
            if str(key).lower() == lowered:
                return str(item)
    return None if value is None else str(value)


def _retry_after(exc: BaseException) -> float | None:
    raw = header(exc, "Retry-After")
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return None


def classify(exc: BaseException, *, operation: str, object_name: str | None = None) -> CrmError:
    """The tierwise error for a client exception raised during ``operation``."""
    where = f"HubSpot {operation}" + (f" on {object_name}" if object_name else "")
    kw: dict[str, Any] = {"system": SYSTEM, "object_name": object_name}
    if isinstance(exc, CrmError):
        return exc
    if speaks_plain_http(exc):
        return ConfigurationError(
            f"{where}: the server speaks plain HTTP, not TLS; use http:// (or the HTTPS "
            "port) in TIERWISE_HUBSPOT__BASE_URL",
            **kw,
        )
    if is_api_exception(exc):
        status = int(getattr(exc, "status", 0) or 0)
        body = error_body(exc)
        category = str(body.get("category") or body.get("errorType") or "")
        message = str(body.get("message") or getattr(exc, "reason", "") or "")
        kw["status"] = status
        detail = f"{where} failed: HTTP {status} {category} {message}".rstrip()
        if status == 401:
            return AuthenticationError(f"HubSpot rejected the access token: {AUTH_HINT}", **kw)
        if status == 403:
            scopes = sorted(
                {
                    str(scope)
                    for error in body.get("errors") or []
                    if isinstance(error, dict)
                    for scope in ((error.get("context") or {}).get("requiredGranularScopes") or ())
                }
            )
            needed = f" (needs {', '.join(scopes)})" if scopes else ""
            return AuthenticationError(
                f"HubSpot refused {operation} (403 {category}): the token lacks a "
                f"scope{needed}; {AUTH_HINT}",
                **kw,
            )
        if status == 429:
            policy = str(body.get("policyName") or "").upper()
            if policy == "DAILY" or "daily" in message.lower():
                return QuotaExhaustedError(
                    f"HubSpot daily API limit is exhausted; the run is deferred until it "
                    f"resets. {where}",
                    **kw,
                )
            retry_after = _retry_after(exc)
            if retry_after is None:
                lowered = message.lower()
                secondly = policy == "SECONDLY" or (
                    policy != "TEN_SECONDLY_ROLLING"
                    and "secondly" in lowered
                    and "ten_secondly" not in lowered
                )
                retry_after = SECONDLY_WINDOW if secondly else TEN_SECOND_WINDOW
            return RetriableError(detail, retry_after=retry_after, **kw)
        if status == 0 and "ssl" in message.lower():
            return FatalCrmError(f"{where}: TLS failure; check TIERWISE_HUBSPOT__BASE_URL", **kw)
        if status >= 500 or status == 0:
            return RetriableError(detail, **kw)
        return FatalCrmError(detail, **kw)
    if isinstance(
        exc, MaxRetryError | ProtocolError | ReadTimeoutError | NewConnectionError | TimeoutError
    ):
        return RetriableError(f"{where}: {type(exc).__name__} (connection or timeout)", **kw)
    if isinstance(exc, Urllib3HTTPError | ConnectionError):
        return RetriableError(f"{where}: {type(exc).__name__}", **kw)
    return FatalCrmError(f"{where} failed unexpectedly: {type(exc).__name__}", **kw)
