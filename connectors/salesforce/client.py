"""The Salesforce client: session, authentication, call accounting, daily quota, describe.

Every request to the org is one :meth:`SalesforceClient.attempt`: it is counted per
endpoint label (the HTTP requests actually sent, so a Bulk API job counts as several),
classified by ``salesforce.errors`` and, on ``INVALID_SESSION_ID``, raised as
``SessionExpiredError`` when a login is configured (with a bare access token it is an
``AuthenticationError`` naming the settings). Retries, requeues and the single
re-authentication belong to the retry engine (``tierwise.connectors.retry``): :meth:`call` hands
one attempt to it; batch writers hand :meth:`attempt` to ``call_batch`` themselves, so
no request is ever retried by two layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import structlog
from simple_salesforce.api import Salesforce

from tierwise.config.settings import SalesforceSettings
from tierwise.connectors.base import ApiUsage
from tierwise.connectors.errors import (
    AuthenticationError,
    ConfigurationError,
    FatalCrmError,
    QuotaExhaustedError,
)
from tierwise.connectors.retry import RetryPolicy, SessionExpiredError
from tierwise.connectors.salesforce import errors as sf_errors
from tierwise.connectors.salesforce.auth import Login, make_login
from tierwise.connectors.salesforce.session import TimeoutSession

T = TypeVar("T")
SYSTEM = "salesforce"

log = structlog.get_logger(__name__)


class SalesforceClient:
    """One org's connection: shared by every concern of the connector."""

    def __init__(
        self,
        settings: SalesforceSettings,
        *,
        login: Login | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.policy = retry_policy or RetryPolicy()
        # Non-idempotent calls without a way to ask "did it happen?" are sent once.
        self.once = replace(self.policy, max_attempts=1)
        self.session = TimeoutSession(
            (settings.connect_timeout, settings.read_timeout), settings.ca_bundle
        )
        self.login = login if login is not None else make_login(settings, self.session)
        self.usage = ApiUsage()
        self._sf: Salesforce | None = None
        # Describe results per object: field name -> field description.
        self.describes: dict[str, dict[str, dict[str, Any]]] = {}

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ session & auth
    def sf(self) -> Salesforce:
        """The simple-salesforce client, logging in on first use."""
        if self._sf is None:
            if self.settings.access_token is not None and self.settings.instance_url:
                self._sf = Salesforce(
                    instance_url=self.settings.instance_url,
                    session_id=self.settings.access_token.get_secret_value(),
                    session=self.session,
                    version=self.settings.api_version,
                )
            elif self.login is not None:
                self.authenticate()
            else:
                raise ConfigurationError(
                    "Salesforce credentials are incomplete: "
                    f"{sf_errors.AUTH_HINT}, or JWT (TIERWISE_SALESFORCE__USERNAME, "
                    "__CONSUMER_KEY, __PRIVATE_KEY_FILE)",
                    system=SYSTEM,
                )
        assert self._sf is not None
        return self._sf

    def authenticate(self) -> None:
        """Log in (again) with the configured login and start a new client session."""
        assert self.login is not None
        self.count("login")
        try:
            session_id, instance = self.login()
        except Exception as exc:
            error = sf_errors.classify(exc, operation="login")
            if isinstance(error, AuthenticationError):
                raise error from None
            raise error from exc
        self._sf = Salesforce(
            instance=instance,
            session_id=session_id,
            session=self.session,
            version=self.settings.api_version,
        )
        log.debug("salesforce_authenticated", instance=instance)

    @property
    def reauth(self) -> Callable[[], None] | None:
        """What the retry engine calls once on an expired session (None: cannot renew)."""
        return self.authenticate if self.login is not None else None

    # ------------------------------------------------------------------ accounting & quota
    def count(self, label: str, calls: int = 1) -> None:
        self.usage.calls[label] = self.usage.calls.get(label, 0) + calls

    def _note_usage(self, sf: Salesforce) -> None:
        usage = getattr(sf, "api_usage", None) or {}
        api = usage.get("api-usage")
        if api is not None:
            self.usage.daily_used = int(api.used)
            self.usage.daily_max = int(api.total)

    def check_quota(self, calls: int = 1) -> None:
        """Stop as deferred before ``calls`` more requests pass the configured daily share."""
        used, limit = self.usage.daily_used, self.usage.daily_max
        share = self.settings.max_daily_api_share
        if used is None or not limit:
            return
        if (used + calls) / limit > share:
            raise QuotaExhaustedError(
                f"Salesforce daily API usage is {used}/{limit}; {calls} more call(s) would pass "
                f"the configured share of {share:.0%} (TIERWISE_SALESFORCE__MAX_DAILY_API_SHARE). "
                "The run stops here as deferred.",
                system=SYSTEM,
            )

    # ------------------------------------------------------------------ requests
    def attempt(
        self,
        label: str,
        fn: Callable[[Salesforce], T],
        *,
        operation: str,
        object_name: str | None = None,
        read: bool = False,
    ) -> T:
        """ONE request (never retried here): counted, classified."""
        sf = self.sf()
        sent = self.session.sent
        try:
            result = fn(sf)
        except Exception as exc:
            self.count(label, max(1, self.session.sent - sent))
            if sf_errors.is_invalid_session(exc):
                if self.login is None:
                    raise AuthenticationError(
                        "Salesforce rejected the access token (INVALID_SESSION_ID): "
                        f"{sf_errors.AUTH_HINT}",
                        system=SYSTEM,
                        object_name=object_name,
                        status=401,
                    ) from None
                raise SessionExpiredError(
                    f"Salesforce session expired (INVALID_SESSION_ID) during {operation}: "
                    f"{sf_errors.AUTH_HINT}",
                    system=SYSTEM,
                    object_name=object_name,
                    status=401,
                ) from None
            error = sf_errors.classify(exc, operation=operation, object_name=object_name, read=read)
            if isinstance(error, AuthenticationError):
                raise error from None
            raise error from exc
        # HTTP requests actually sent (a Bulk API job is several), at least one per attempt.
        self.count(label, max(1, self.session.sent - sent))
        self._note_usage(sf)
        return result

    def call(
        self,
        label: str,
        fn: Callable[[Salesforce], T],
        *,
        operation: str,
        object_name: str | None = None,
        read: bool = False,
        retry: bool = True,
    ) -> T:
        """One logical call through the retry engine; ``retry=False`` for a create that
        cannot be checked (sent once, still re-authenticated once)."""
        policy = self.policy if retry else self.once
        return policy.call(
            lambda: self.attempt(
                label, fn, operation=operation, object_name=object_name, read=read
            ),
            reauth=self.reauth,
        )

    def describe(self, object_name: str, *, fresh: bool = False) -> dict[str, dict[str, Any]]:
        """Field descriptions of ``object_name`` (cached per process unless ``fresh``)."""
        if fresh or object_name not in self.describes:
            try:
                result: dict[str, Any] = self.call(
                    f"sobjects/{object_name}/describe",
                    lambda sf: getattr(sf, object_name).describe(),
                    operation="describe",
                    object_name=object_name,
                    read=True,
                )
            except FatalCrmError as exc:
                if exc.status != 404:
                    raise
                raise ConfigurationError(
                    f"Salesforce object {object_name} does not exist or is not visible to the "
                    "API user; check TIERWISE_SALESFORCE__ACCOUNT_OBJECT / __TASK_OBJECT",
                    system=SYSTEM,
                    object_name=object_name,
                    status=404,
                ) from exc
            self.describes[object_name] = {f["name"]: f for f in result.get("fields", [])}
        return self.describes[object_name]
