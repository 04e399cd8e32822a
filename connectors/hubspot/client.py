"""The HubSpot transport: one client, its API objects, the limiters, the usage ledger.

hubspot-api-client 12.0.0 is built once with urllib3 retries switched off: the retry
engine (``tierwise.connectors.retry``) is the only retry layer, so attempts never multiply. Every
attribute access on the client builds a new ApiClient and connection pool, so the API
objects are cached here. Each request passes ``_request_timeout=(connect, read)``, waits
for the client-side limiter (``requests_per_10s`` per rolling 10 s; search also at
``search_per_second``), is counted per endpoint label (``paths``) and classified in
``hubspot.errors`` - in :meth:`HubSpotClient.attempt`, the one raw attempt every other
module builds on. :meth:`HubSpotClient.call` is that attempt under the request-retry
policy; creates and batches hand ``attempt`` to the engine's other policies instead.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import urllib3
from hubspot import HubSpot

from tierwise.config.settings import HubSpotSettings
from tierwise.connectors.base import ApiUsage
from tierwise.connectors.errors import CrmError, FatalCrmError, RetriableError
from tierwise.connectors.hubspot import errors as hs_errors
from tierwise.connectors.ratelimit import SlidingWindowLimiter
from tierwise.connectors.retry import RetryPolicy

T = TypeVar("T")
Timeout = tuple[float, float]
Request = Callable[[Timeout], T]


def to_dict(obj: Any) -> dict[str, Any]:
    """A client answer as plain JSON: a model object, a dict, or a raw urllib3 answer
    (``_preload_content=False``, read to skip the model layer's per-field parsing)."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, urllib3.BaseHTTPResponse):
        try:
            decoded = json.loads(obj.data or b"{}")
        finally:
            obj.release_conn()
        return decoded if isinstance(decoded, dict) else {}
    convert = getattr(obj, "to_dict", None)
    return dict(convert()) if callable(convert) else {}


class ReadBackFailed(Exception):  # noqa: N818 - a carrier, not an error of its own
    """A read-back before a retried create (create-unless-done) failed after its own
    retries. It ends the operation with the read's error: left a ``RetriableError``
    inside the create's attempt, the engine would retry the create around it and the
    two budgets would multiply. Callers unwrap it: ``raise failed.error from None``."""

    def __init__(self, error: CrmError) -> None:
        super().__init__(str(error))
        self.error = error


def read_back(check: Callable[[], T]) -> T:
    """Run a create-unless-done check; a spent retry ends the operation (above)."""
    try:
        return check()
    except RetriableError as exc:
        raise ReadBackFailed(exc) from exc


class HubSpotClient:
    """Session, limiter and usage of one portal; every request goes through here."""

    def __init__(
        self,
        settings: HubSpotSettings,
        policy: RetryPolicy,
        *,
        limiter: SlidingWindowLimiter | None = None,
        search_limiter: SlidingWindowLimiter | None = None,
    ) -> None:
        if settings.access_token is None:  # the facade checks first; mypy narrowing
            raise ValueError("a HubSpot client needs an access token")
        self.policy = policy
        self.timeout: Timeout = (settings.connect_timeout, settings.read_timeout)
        self._limiter = limiter or SlidingWindowLimiter(settings.requests_per_10s, 10.0)
        per_second = settings.search_per_second
        search_slots = max(1, round(per_second))
        self._search_limiter = search_limiter or SlidingWindowLimiter(
            search_slots, search_slots / per_second
        )
        # urllib3 retries off: one retry layer only (the retry engine).
        self.sdk = HubSpot(
            access_token=settings.access_token.get_secret_value(),
            host=settings.base_url.rstrip("/"),
            retry=False,
        )
        self._apis: dict[str, Any] = {}
        self._apis_lock = threading.Lock()
        self._usage = ApiUsage()
        self._count_lock = threading.Lock()

    def api(self, name: str) -> Any:
        """Cached API objects: each client attribute access builds a new connection pool."""
        with self._apis_lock:
            if name not in self._apis:
                crm = self.sdk.crm
                factories: dict[str, Callable[[], Any]] = {
                    "companies.basic": lambda: crm.companies.basic_api,
                    "companies.batch": lambda: crm.companies.batch_api,
                    "companies.search": lambda: crm.companies.search_api,
                    "tasks.search": lambda: crm.objects.tasks.search_api,
                    "deals.basic": lambda: crm.deals.basic_api,
                    "deals.search": lambda: crm.deals.search_api,
                    "contacts.batch": lambda: crm.contacts.batch_api,
                    "tasks.batch": lambda: crm.objects.tasks.batch_api,
                    "associations.batch": lambda: crm.associations.v4.batch_api,
                    "properties.core": lambda: crm.properties.core_api,
                    "properties.groups": lambda: crm.properties.groups_api,
                    "lists": lambda: crm.lists.lists_api,
                    "pipelines": lambda: crm.pipelines.pipelines_api,
                    "exports": lambda: crm.exports.public_exports_api,  # hubspot.exports
                    "imports.core": lambda: crm.imports.core_api,  # hubspot.imports
                    "imports.errors": lambda: crm.imports.public_imports_api,
                }
                self._apis[name] = factories[name]()
            return self._apis[name]

    def close(self) -> None:
        """Release pooled connections."""
        with self._apis_lock:
            for api in self._apis.values():
                client = getattr(api, "api_client", None)
                pool = getattr(getattr(client, "rest_client", None), "pool_manager", None)
                if pool is not None:
                    pool.clear()
                if client is not None:
                    client.close()
            self._apis.clear()

    # ------------------------------------------------------------------ one request
    def attempt(
        self,
        label: str,
        fn: Request[T],
        *,
        operation: str,
        object_name: str | None = None,
        search: bool = False,
    ) -> T:
        """ONE raw request: limited, counted, classified; never retried here."""
        self._limiter.acquire()
        if search:
            self._search_limiter.acquire()
        with self._count_lock:  # batch updates run on more than one thread
            self._usage.calls[label] = self._usage.calls.get(label, 0) + 1
        before = self._last_responses()
        try:
            result = fn(self.timeout)
        except Exception as exc:
            error = hs_errors.classify(exc, operation=operation, object_name=object_name)
            if error.status == 401:
                raise error from None  # the client's exception may echo the token
            raise error from exc
        finally:
            self._limiter.finished()
            if search:
                self._search_limiter.finished()
        self._note_daily(before)
        return result

    def call(
        self,
        label: str,
        fn: Request[T],
        *,
        operation: str,
        object_name: str | None = None,
        search: bool = False,
    ) -> T:
        """One idempotent request under the engine's request-retry policy."""
        return self.policy.call(
            lambda: self.attempt(
                label, fn, operation=operation, object_name=object_name, search=search
            )
        )

    def maybe(
        self, label: str, fn: Request[T], *, operation: str, object_name: str | None = None
    ) -> T | None:
        """A read where 404 means "not there" (provisioning, optional properties)."""
        try:
            return self.call(label, fn, operation=operation, object_name=object_name)
        except FatalCrmError as exc:
            if exc.status == 404:
                return None
            raise

    # ------------------------------------------------------------------ usage
    def usage(self) -> ApiUsage:
        return ApiUsage(
            calls=dict(self._usage.calls),
            daily_used=self._usage.daily_used,
            daily_max=self._usage.daily_max,
        )

    def _last_responses(self) -> dict[str, int]:
        with self._apis_lock:
            return {
                name: id(getattr(getattr(api, "api_client", None), "last_response", None))
                for name, api in self._apis.items()
            }

    def _note_daily(self, before: Mapping[str, int]) -> None:
        """Daily budget from ``X-HubSpot-RateLimit-Daily[-Remaining]`` of the answer just read
        (private-app calls carry them; search and OAuth calls do not)."""
        with self._apis_lock:
            apis = dict(self._apis)
        for name, api in apis.items():
            response = getattr(getattr(api, "api_client", None), "last_response", None)
            if response is None or before.get(name) == id(response):
                continue
            # A raw urllib3 answer has .headers; the client's RESTResponse only getheaders().
            headers = getattr(response, "headers", None) or response.getheaders()
            daily, remaining = (
                headers.get("X-HubSpot-RateLimit-Daily"),
                headers.get("X-HubSpot-RateLimit-Daily-Remaining"),
            )
            if daily and remaining and daily.isdigit() and remaining.isdigit():
                self._usage.daily_max = int(daily)
                self._usage.daily_used = int(daily) - int(remaining)
            return
