"""Salesforce connector over simple-salesforce (REST, sObject Collections, Bulk API 2.0).

``SalesforceConnector`` is a thin facade implementing the ``Connector`` protocol
(``tierwise.connectors.base``); each concern lives in its own module of this package:

- ``client``: session, authentication, call accounting, daily quota, describe cache;
  every request is one attempt handed to the one retry engine (``tierwise.connectors.retry``)
- ``auth``: the login flows (client credentials, JWT bearer, legacy SOAP)
- ``fields``: the org's resolved field mapping; ``schema``: access and schema checks
- ``paging``: SOQL paging over ``nextRecordsUrl`` (``tierwise.connectors.paging``)
- ``accounts``: the incremental pull and parsing; ``writes``: Collections and Bulk writes
- ``bulk_query``: Bulk API 2.0 query jobs, the path of pulls above the threshold
- ``opportunities``: the deals pull; ``tasks``: exactly-once tasks; ``provisioning``
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from tierwise.config.settings import SalesforceSettings
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
from tierwise.connectors.retry import RetryPolicy
from tierwise.connectors.salesforce import opportunities, schema
from tierwise.connectors.salesforce.accounts import Accounts
from tierwise.connectors.salesforce.auth import Login, login_domain, make_login
from tierwise.connectors.salesforce.client import SYSTEM, SalesforceClient
from tierwise.connectors.salesforce.fields import resolve_fields
from tierwise.connectors.salesforce.paging import QUERY_BATCH_SIZE
from tierwise.connectors.salesforce.provisioning import Provisioner
from tierwise.connectors.salesforce.tasks import Tasks
from tierwise.connectors.salesforce.writes import COLLECTION_MAX, AccountWriter
from tierwise.tiering.model import STAGE_INPUT, PipelineStage

T = TypeVar("T")

__all__ = ["SalesforceConnector", "login_domain", "make_login"]


class SalesforceConnector:
    """The ``Connector`` for one Salesforce org."""

    system = SYSTEM
    # Owned here, not by tables elsewhere: rows per query page, records per write call.
    page_size = QUERY_BATCH_SIZE
    batch_size = COLLECTION_MAX

    def __init__(
        self,
        settings: SalesforceSettings,
        model_fields: Mapping[str, str],
        *,
        login: Login | None = None,
        retry_policy: RetryPolicy | None = None,
        precheck_tasks: bool = True,
        customer_tiers: Mapping[str, str] | None = None,
        pipeline_stage: PipelineStage | None = None,
    ) -> None:
        self.settings = settings
        self.fields = resolve_fields(settings, model_fields, customer_tiers)
        # The model's pipeline entry stage (issue 16): open_deals_at_stage is derived
        # only with one; without it the input is reported unmapped.
        self.pipeline_stage = pipeline_stage
        if pipeline_stage is None and STAGE_INPUT in self.fields.derived:
            self.fields.derived = tuple(n for n in self.fields.derived if n != STAGE_INPUT)
            self.fields.unmapped[STAGE_INPUT] = "needs pipeline.stage in the model"
        self.client = SalesforceClient(settings, login=login, retry_policy=retry_policy)
        self._accounts = Accounts(self.client, self.fields)
        self._writer = AccountWriter(self.client, self.fields)
        self._tasks = Tasks(self.client, self.fields, precheck=precheck_tasks)
        self._provisioner = Provisioner(self.client, self.fields)
        # The names other modules read (connect's inspection, tests): one mapping, shared.
        fields = self.fields
        self.account_object = fields.account_object
        self.task_object = fields.task_object
        self.model_fields = fields.model_fields
        self.wanted_fields = fields.wanted_fields
        self.explicit_fields = fields.explicit_fields
        self.derived = fields.derived
        self.value_maps = fields.value_maps
        self.tierwise_fields = fields.tierwise_fields
        self.customer_fields = fields.customer_fields
        self.customer_tier_values = fields.customer_tier_values
        self.identity = fields.identity
        self.task_key_field = fields.task_key_field

    def close(self) -> None:
        """Release pooled connections (not part of the Connector protocol)."""
        self.client.close()

    def __repr__(self) -> str:
        return f"SalesforceConnector(instance_url={self.settings.instance_url!r})"

    # ------------------------------------------------------------------ access & schema
    def check_access(self) -> None:
        """``GET /limits/``: proves the token and reads the daily API budget."""
        schema.check_access(self.client, self.fields)

    def validate_schema(self) -> None:
        """Check every field tierwise reads or writes, before any write."""
        schema.validate_schema(self.client, self.fields)

    def unmapped_inputs(self) -> dict[str, str]:
        """Model inputs this org cannot supply (complete after ``validate_schema``)."""
        return dict(self.fields.unmapped)

    # ------------------------------------------------------------------ pulls
    def account_soql(self, since: datetime | None) -> str:
        return self._accounts.soql(since)

    def pull_accounts(
        self, since: datetime | None, *, expected: int | None = None
    ) -> Iterator[CrmAccount]:
        """``expected``: the caller's estimate of the rows; above
        ``salesforce.bulk_query_threshold`` the pull runs as Bulk API 2.0 query jobs."""
        if self.pipeline_stage is not None and STAGE_INPUT in self.fields.derived:
            # One OpportunityStage query per pull: the org's stage order may change.
            self._accounts.stages = opportunities.stages_at_or_past(
                self.client, self.pipeline_stage
            )
        return self._accounts.pull(since, expected=expected)

    def opportunity_soql(self, since: datetime | None) -> str:
        return opportunities.opportunity_soql(since)

    def pull_opportunities(self, since: datetime | None) -> Iterator[CrmOpportunity]:
        return opportunities.pull_opportunities(self.client, since)

    # ------------------------------------------------------------------ writes
    def write_chunk_size(self, total: int) -> int:
        return self._writer.chunk_size(total)

    def write_accounts(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        return self._writer.write(updates)

    # ------------------------------------------------------------------ tasks
    def ensure_tasks(self, tasks: Sequence[TaskRequest]) -> TaskOutcome:
        return self._tasks.ensure_tasks(tasks)

    def open_tasks(self, keys: Sequence[str]) -> list[OpenTask]:
        return self._tasks.open_tasks(keys)

    def close_tasks(self, task_ids: Sequence[str], reason: str) -> WriteOutcome:
        return self._tasks.close_tasks(task_ids, reason)

    # ------------------------------------------------------------------ provisioning
    def provision(self, tier_values: Mapping[str, str], dry_run: bool) -> list[ProvisionStep]:
        return self._provisioner.provision(tier_values, dry_run)

    def running_user_id(self) -> str:
        return self._provisioner.running_user_id()

    def usage(self) -> ApiUsage:
        usage = self.client.usage
        related = 0
        if self.fields is not None:
            activity = self.fields.activity_days(self.settings) is not None
            related = int(bool(self.fields.derived)) + 2 * int(activity)
        return ApiUsage(
            calls=dict(usage.calls),
            daily_used=usage.daily_used,
            daily_max=usage.daily_max,
            related_reads=related,
            bulk_files=usage.bulk_files,
        )
