"""HubSpot connector over hubspot-api-client 12.0.0 (CRM v3, date-based associations, Lists v3).

``HubSpotConnector`` is a thin facade implementing the ``Connector`` protocol
(``tierwise.connectors.base``); each concern lives in a module of its own:

- ``client``     - the SDK client, cached API objects, limiters, timeouts, usage ledger,
                   the one raw attempt (limited, counted, classified by ``errors``);
- ``paging``     - list, keyset-search and association pages (one ``paginate`` loop);
- ``schema``     - which property feeds which input, and validation;
- ``companies``  - the pull, tier writes, native ICP, copies onto contacts;
- ``batch``      - batch updates with 207 handling (shared by every write);
- ``deals``      - deals for outcome analytics;
- ``tasks``      - play tasks exactly once, open and close;
- ``lists``, ``provision`` - what ``tierwise provision`` creates.

Every retry goes through the one retry engine (``tierwise.connectors.retry``): request retry for
reads and updates, partial-batch requeue for 207s, create-unless-done for task and list
creates. Every path is listed in ``paths``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from tierwise.config.settings import HubSpotSettings
from tierwise.connectors.base import (
    AccountUpdate,
    ApiUsage,
    CrmAccount,
    CrmOpportunity,
    OpenTask,
    ProvisionStep,
    TaskOutcome,
    TaskRequest,
    WriteOutcome,
)
from tierwise.connectors.errors import ConfigurationError
from tierwise.connectors.hubspot import provision as hs_provision
from tierwise.connectors.hubspot import schema
from tierwise.connectors.hubspot.batch import BATCH_MAX
from tierwise.connectors.hubspot.client import HubSpotClient
from tierwise.connectors.hubspot.companies import Companies
from tierwise.connectors.hubspot.deals import pull_deals
from tierwise.connectors.hubspot.paging import PAGE_LIMIT
from tierwise.connectors.hubspot.tasks import Tasks
from tierwise.connectors.ratelimit import SlidingWindowLimiter
from tierwise.connectors.retry import RetryPolicy

SYSTEM = "hubspot"
# Updates handed over per call between stop checks: 20 HubSpot batches.
WRITE_CHUNK = 2000


class HubSpotConnector:
    """The ``Connector`` for one HubSpot portal (private-app token)."""

    system = SYSTEM
    # The largest page and batch this connector uses (a report's "minimum calls" reads
    # them here instead of keeping a table of its own).
    page_size = PAGE_LIMIT
    batch_size = BATCH_MAX

    def __init__(
        self,
        settings: HubSpotSettings,
        model_fields: Mapping[str, str],
        *,
        retry_policy: RetryPolicy | None = None,
        limiter: SlidingWindowLimiter | None = None,
        search_limiter: SlidingWindowLimiter | None = None,
        customer_tiers: Mapping[str, str] | None = None,
    ) -> None:
        if settings.access_token is None:
            raise ConfigurationError("HubSpot needs TIERWISE_HUBSPOT__ACCESS_TOKEN", system=SYSTEM)
        self.fields = schema.PortalFields(settings, model_fields, customer_tiers)
        self.settings = settings
        self.client = HubSpotClient(
            settings,
            retry_policy or RetryPolicy(),
            limiter=limiter,
            search_limiter=search_limiter,
        )
        self.companies = Companies(self.client, self.fields, settings)
        self.tasks = Tasks(self.client, self.fields)
        self._checked_properties: schema.Properties | None = None
        # The resolved names, as attributes other modules read (inspect, build, preflight).
        self.model_fields = self.fields.model_fields
        self.tierwise_fields = self.fields.tierwise_fields
        self.customer_fields = self.fields.customer_fields
        self.customer_tier_values = self.fields.customer_tier_values
        self.identity = self.fields.identity
        self.task_key = self.fields.task_key
        self.value_maps = self.fields.value_maps

    def close(self) -> None:
        """Release pooled connections (not part of the Connector protocol)."""
        self.client.close()

    def __repr__(self) -> str:
        return f"HubSpotConnector(base_url={self.settings.base_url!r})"

    @property
    def icp_options(self) -> frozenset[str]:
        """The native ICP tier's options, known once read (``write_native_icp``)."""
        return self.companies.icp_options

    # ---- used by connectors/hubspot/inspect.py (tierwise connect)
    # ------------------------------------------------------------------ access & schema
    def check_access(self) -> None:
        # The company properties double as the token probe: validate_schema needs them
        # next, so the run pays for one call instead of two.
        self._checked_properties = schema.read_properties(self.client, "companies")
        if self.settings.write_native_icp:
            self.companies.load_icp_options()

    def validate_schema(self) -> None:
        companies = self._checked_properties or schema.read_properties(self.client, "companies")
        self._checked_properties = None
        schema.validate(self.client, self.fields, self.settings, companies)

    def input_values(self) -> dict[str, frozenset[str]]:
        """canonical input -> every value the model can receive from it (after
        ``validate_schema``), so ``validate``/``connect`` can warn when a model's category
        table shares no key with what the portal can hold (issue 12)."""
        return self.fields.input_values()

    def unmapped_inputs(self) -> dict[str, str]:
        """Model inputs this portal cannot supply: not mapped, or mapped by default to a
        property the portal lacks (known after ``validate_schema``)."""
        return dict(self.fields.unmapped)

    # ------------------------------------------------------------------ pull
    def pull_accounts(
        self, since: datetime | None, *, expected: int | None = None
    ) -> Iterator[CrmAccount]:
        # ``expected`` picks search/list or a CRM export once that path lands (hsbulk).
        return self.companies.pull(since)

    def pull_opportunities(self, since: datetime | None) -> Iterator[CrmOpportunity]:
        return pull_deals(self.client, since, self.fields.identity["modified"])

    # ------------------------------------------------------------------ writes
    def write_chunk_size(self, total: int) -> int:
        return min(total, WRITE_CHUNK) or WRITE_CHUNK

    def write_accounts(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        return self.companies.write(updates)

    # ------------------------------------------------------------------ tasks
    def ensure_tasks(self, tasks: Sequence[TaskRequest]) -> TaskOutcome:
        return self.tasks.ensure(tasks)

    def open_tasks(self, keys: Sequence[str]) -> list[OpenTask]:
        return self.tasks.open(keys)

    def close_tasks(self, task_ids: Sequence[str], reason: str) -> WriteOutcome:
        return self.tasks.close(task_ids, reason)

    # ------------------------------------------------------------------ provision & usage
    def provision(self, tier_values: Mapping[str, str], dry_run: bool) -> list[ProvisionStep]:
        return hs_provision.provision(self.client, self.fields, self.settings, tier_values, dry_run)

    def usage(self) -> ApiUsage:
        return self.client.usage()
