"""The :class:`Sandbox`: both CRM emulators, seeded, on loopback ports.

Salesforce is served over TLS with a throw-away CA (``ca_file``) because
simple-salesforce always builds ``https://`` URLs; HubSpot over plain http, which the
hubspot client accepts through its ``host`` setting.
"""

from __future__ import annotations

import functools
import itertools
import secrets
import ssl
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import TracebackType

import trustme

from tierwise.sandbox import control
from tierwise.sandbox.clock import SandboxClock
from tierwise.sandbox.faults import FaultSet
from tierwise.sandbox.hubspot import HubSpotBehaviour, HubSpotEmulator
from tierwise.sandbox.ledger import CallRecord, Ledger, calls_table
from tierwise.sandbox.outcomes import generate_deals
from tierwise.sandbox.records import SeedIds
from tierwise.sandbox.salesforce import SalesforceEmulator
from tierwise.sandbox.seed import generate_companies
from tierwise.sandbox.server import CrmServer

PROFILES = ("stock", "enriched")


class Sandbox:
    """Local Salesforce + HubSpot doubles with seeded data, faults and accounting.

    Use as a context manager or call :meth:`start`/:meth:`stop`. ``accounts`` companies
    (deterministic for ``seed``) are loaded into both CRMs with matching domains;
    ``company_ids`` maps each seed company key to its Salesforce and HubSpot ids.
    """

    def __init__(
        self,
        accounts: int = 200,
        seed: int = 7,
        *,
        latency_ms: float = 0,
        hubspot_requests_per_10s: int | None = None,
        salesforce_daily_limit: int = 100_000,
        hubspot_daily_limit: int | None = None,
        profile: str = "stock",
        host: str = "127.0.0.1",
        salesforce_port: int = 0,
        hubspot_port: int = 0,
        search_lag_seconds: float = 0.0,
        hubspot_search_per_second: int | None = 5,
        hubspot_behaviour: HubSpotBehaviour | None = None,
        bulk_poll_steps: int = 1,
        salesforce_require_field_permissions: bool = True,
        salesforce_usual_task_statuses: bool = False,
        salesforce_soap_login: bool = False,
        activity_history: bool = False,
        hubspot_contacts: bool = True,
        opportunities: bool = True,
        today: date | None = None,
        salesforce_token: str | None = None,
        hubspot_token: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        test_controls: bool = False,
    ) -> None:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        self.accounts = accounts
        self.seed = seed
        # "stock": what a new org/portal holds; "enriched": plus a customer's own custom
        # data under that customer's own field names (sandbox/README.md).
        self.profile = profile
        self.host = host
        # Clock, ledger and seed-id handles over HTTP for a sandbox in its own process
        # (sandbox/control.py); a test-only surface no CRM has, off by default.
        self.test_controls = test_controls
        self.clock = SandboxClock()
        # How the servers wait for injected latency: real by default (clients' timeouts
        # must see it); a test of the fault itself passes a recorder instead.
        self.sleep = sleep
        self.today = today or self.clock.peek().date()
        self.faults = FaultSet(seed)
        self.ledger = Ledger()
        self.latency_ms = latency_ms
        self._ports = (salesforce_port, hubspot_port)
        self.salesforce_token = salesforce_token or "00DSANDBOX!" + secrets.token_urlsafe(24)
        self.hubspot_token = hubspot_token or "pat-sandbox-" + secrets.token_hex(16)
        behaviour = hubspot_behaviour or HubSpotBehaviour()
        behaviour.search_lag_seconds = search_lag_seconds or behaviour.search_lag_seconds
        if hubspot_behaviour is None:
            behaviour.search_per_second = hubspot_search_per_second
        self.salesforce = SalesforceEmulator(
            self.clock,
            self.faults,
            token=self.salesforce_token,
            daily_limit=salesforce_daily_limit,
            profile=profile,
            bulk_poll_steps=bulk_poll_steps,
            require_field_permissions=salesforce_require_field_permissions,
            usual_task_statuses=salesforce_usual_task_statuses,
            soap_login_enabled=salesforce_soap_login,
        )
        self.hubspot = HubSpotEmulator(
            self.clock,
            self.faults,
            token=self.hubspot_token,
            requests_per_10s=hubspot_requests_per_10s,
            profile=profile,
            behaviour=behaviour,
            daily_limit=hubspot_daily_limit,
        )
        self.company_ids = SeedIds()
        self.deal_ids: dict[str, tuple[str, str]] = {}
        self._load(accounts, activity_history, hubspot_contacts, opportunities)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._servers: list[CrmServer] = []
        self.ca_file: Path = Path()
        self.salesforce_url = ""
        self.hubspot_url = ""

    def _load(self, n: int, activity_history: bool, contacts: bool, opportunities: bool) -> None:
        companies = generate_companies(n, self.seed, today=self.today)
        for chunk in iter(lambda: list(itertools.islice(companies, 5000)), []):
            sf_ids = self.salesforce.org.load_accounts(chunk)
            hs_ids = self.hubspot.portal.load_companies(chunk, contacts=contacts)
            if activity_history:
                self.salesforce.org.load_events(chunk, sf_ids)
            for key, sf_id in sf_ids.items():
                self.company_ids.append(key, sf_id, hs_ids[key])
            if opportunities:
                deals = list(generate_deals(chunk, self.seed, today=self.today))
                owners = {c["key"]: c["owner"] for c in chunk}
                sf_deals = self.salesforce.org.load_opportunities(deals, sf_ids, owners)
                hs_deals = self.hubspot.portal.load_deals(deals, hs_ids, owners)
                for key, sf_id in sf_deals.items():
                    self.deal_ids[key] = (sf_id, hs_deals[key])

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._servers:
            return self
        self._tmp = tempfile.TemporaryDirectory(prefix="tierwise-sandbox-")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
        self.ca_file = Path(self._tmp.name) / "sandbox-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        sf_server = CrmServer(
            (self.host, self._ports[0]),
            self.salesforce,
            faults=self.faults,
            ledger=self.ledger,
            clock=self.clock,
            latency_ms=self.latency_ms,
            ssl_context=context,
            sleep=self.sleep,
        )
        hs_server = CrmServer(
            (self.host, self._ports[1]),
            self.hubspot,
            faults=self.faults,
            ledger=self.ledger,
            clock=self.clock,
            latency_ms=self.latency_ms,
            ssl_context=None,
            sleep=self.sleep,
        )
        if self.test_controls:
            hs_server.control = functools.partial(control.handle, self)
        self._servers = [sf_server, hs_server]
        for server in self._servers:
            server.start()
        self.salesforce_url = f"https://{self.host}:{sf_server.port}"
        self.hubspot_url = f"http://{self.host}:{hs_server.port}"
        self.hubspot.base_url = self.hubspot_url
        self.salesforce.base_url = self.salesforce_url
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- accounting and configuration -------------------------------------------------------

    @property
    def calls(self) -> list[CallRecord]:
        return self.ledger.snapshot()

    def calls_table(self) -> str:
        return calls_table(self.ledger.snapshot())

    def company_ids_head(self, count: int) -> list[tuple[str, str]]:
        """The (Salesforce id, HubSpot id) pairs of the first ``count`` seed companies."""
        return list(itertools.islice(self.company_ids.values(), max(0, count)))

    def reset_calls(self) -> None:
        self.ledger.reset()

    def rotate_salesforce_token(self) -> str:
        """Expire the current Salesforce session: the old token now gets 401
        ``INVALID_SESSION_ID``; returns the new one (what a re-login would hand out)."""
        self.salesforce_token = "00DSANDBOX!" + secrets.token_urlsafe(24)
        self.salesforce.token = self.salesforce_token
        return self.salesforce_token

    def env(self) -> dict[str, str]:
        """TIERWISE_* variables that point tierwise at this sandbox."""
        return {
            "TIERWISE_SALESFORCE__INSTANCE_URL": self.salesforce_url,
            "TIERWISE_SALESFORCE__ACCESS_TOKEN": self.salesforce_token,
            "TIERWISE_SALESFORCE__CA_BUNDLE": str(self.ca_file),
            "TIERWISE_HUBSPOT__ACCESS_TOKEN": self.hubspot_token,
            "TIERWISE_HUBSPOT__BASE_URL": self.hubspot_url,
        }
