"""tierwise's settings: environment variables (``TIERWISE_``, ``__`` for nesting),
an optional ``.env`` file and container secrets: one file per secret under
``TIERWISE_SECRETS_DIR`` (default ``/run/secrets``), named like the variable
(config/secrets.py).

Loaded once at the entry point and passed down; nothing else reads ``os.environ``.
Every secret is a ``SecretStr`` so it prints as ``**********`` in logs and errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tierwise.config.secrets import NestedSecretsSource

DEFAULT_MODEL_PATH = Path(__file__).with_name("model.yaml")
DEFAULT_CUSTOMER_MODEL_PATH = Path(__file__).with_name("customer_model.yaml")


class _Section(BaseModel):
    # Validation errors must never echo a secret back: hide input values everywhere.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class SalesforceSettings(_Section):
    """Salesforce connection. Pick one auth method:

    * OAuth 2.0 client credentials (default server-to-server path): ``consumer_key`` +
      ``consumer_secret`` + ``domain`` = the org's My Domain host
      (``acme.my.salesforce.com``; login/test.salesforce.com do not support this flow);
    * JWT bearer: ``username`` + ``consumer_key`` + ``private_key_file`` (+ ``domain``);
    * OAuth access token: ``instance_url`` + ``access_token``;
    * legacy username/password (SOAP ``login()``, retired in new orgs; warns, and logs in
      at API 64.0 at most): ``username`` + ``password`` + ``security_token``.
    """

    instance_url: str | None = None
    access_token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    # "login", "test", or a My Domain host (acme.my.salesforce.com; "acme.my" works too).
    domain: str = Field(default="login", pattern=r"^[A-Za-z0-9.:-]+$")
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    private_key_file: Path | None = None
    api_version: str = "66.0"
    # Extra CA certificates to trust (a TLS-inspecting proxy, a private CA, the sandbox).
    ca_bundle: Path | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    # Above this many changed accounts, writes go through Bulk API 2.0 instead of Collections.
    # 2,000 is Salesforce's own line ("Introduction to Bulk API 2.0 and Bulk API": more
    # than 2,000 records is a good candidate, fewer should use synchronous calls), and
    # about where one job (create, upload, close, status reads) costs fewer calls than
    # 200-record Collections requests.
    bulk_threshold: int = Field(default=2_000, gt=0)
    # Above this many accounts expected from a pull, it runs as Bulk API 2.0 query jobs
    # (CSV result pages of up to 50,000 rows) instead of 2,000-row REST query pages.
    bulk_query_threshold: int = Field(default=20_000, gt=0)
    # Stop cleanly before the run would push daily API usage past this share of the org limit.
    max_daily_api_share: float = Field(default=0.5, gt=0, le=1)
    account_object: str = "Account"
    task_object: str = "Task"
    # canonical field name -> Salesforce field API name; merged over the default mapping.
    fields: dict[str, str] = Field(default_factory=dict)
    # tierwise logical field (tier, score, ...) -> Salesforce field API name; merged over defaults.
    tierwise_fields: dict[str, str] = Field(default_factory=dict)
    # model input -> {value the org stores: model category}; merged over the default maps.
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Optional: also count Tasks and Events of the last N days as an engagement field.
    activity_aggregate_days: int | None = None
    escalation_user_id: str | None = None
    # Attempts per API call for transient failures (429, 5xx, timeouts), first try included.
    max_attempts: int = Field(default=5, ge=1)
    # Permission set (API name) `tierwise provision` finds or creates, grants read+edit on the
    # new fields and assigns to the API user (empty: leave field-level security to the admin).
    permission_set: str | None = "Tierwise_Integration"


class HubSpotSettings(_Section):
    """HubSpot connection through a private-app access token."""

    access_token: SecretStr | None = None
    base_url: str = "https://api.hubapi.com"
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    # Per-10-second request budget of the portal's tier (100 Free/Starter, 190 Pro/Enterprise).
    requests_per_10s: int = Field(default=100, gt=0)
    search_per_second: float = Field(default=4.0, gt=0)
    fields: dict[str, str] = Field(default_factory=dict)
    tierwise_fields: dict[str, str] = Field(default_factory=dict)
    # model input -> {enumeration value or label: model category}; merged over the defaults.
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Copy tier properties onto associated contacts (marketing emails and lists target contacts).
    copy_to_contacts: bool = False
    # Also set HubSpot's native ICP tier (tier_1..tier_3) and target-account flag.
    write_native_icp: bool = False
    create_lists: bool = True
    escalation_owner_id: str | None = None
    # Attempts per API call for transient failures (429, 5xx, timeouts), first try included.
    max_attempts: int = Field(default=5, ge=1)
    # Batch updates in flight at once (the rate limiter still paces them): one at a time
    # a batch waits out a full round trip; two keep a 100-per-10-s budget busy.
    write_concurrency: int = Field(default=2, ge=1, le=8)
    # Bulk paths (issue 15; sandbox/README.md "Bulk paths" has the figures). From this many
    # expected companies a pull goes through one CRM export instead of list/search pages;
    # unset = never (the default: 30 exports a day, minutes of latency, an unconfirmed file).
    export_threshold: int | None = Field(default=None, gt=0)
    # From this many changed companies, tier writes go through one import (UPDATE by record
    # id) instead of 100-input batch updates; unset = never (the default).
    import_threshold: int | None = Field(default=None, gt=0)
    # Seconds between status polls of an export or import, and the longest wait for one.
    bulk_poll_seconds: float = Field(default=10.0, gt=0)
    bulk_max_wait_seconds: float = Field(default=3600.0, gt=0)


class ScheduleSettings(_Section):
    """Cron schedules for ``tierwise schedule`` (standard 5-field crontab, UTC)."""

    full_cron: str = "0 2 * * *"
    incremental_cron: str = "15 * * * *"
    misfire_grace_seconds: int = 3600
    metrics_port: int | None = 9108
    shutdown_grace_seconds: int = 60
    # The worker's health check turns unhealthy after this many scheduled runs in a row
    # ended in failure (any status but ok, partial, stopped, locked or deferred).
    unhealthy_after_failures: int = Field(default=3, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TIERWISE_",
        env_nested_delimiter="__",
        env_file=".env",
        secrets_dir=None,
        extra="ignore",
        hide_input_in_errors=True,
    )

    # Validators and sources sit above the fields so settings appended below merge cleanly.
    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment over .env over one-file-per-secret (config/secrets.py).
        return (init_settings, env_settings, dotenv_settings, NestedSecretsSource(settings_cls))

    model_path: Path = DEFAULT_MODEL_PATH
    # Customer tiers (grow / defend / monitor) for accounts with a won deal, run in the same
    # job and written to their own fields. Off by default: it pulls deals on every run and
    # needs the customer fields (`tierwise provision` with it on creates them).
    customer_tiers: bool = False
    customer_model_path: Path = DEFAULT_CUSTOMER_MODEL_PATH
    database_url: str = "sqlite:///tierwise.db"
    salesforce: SalesforceSettings | None = None
    hubspot: HubSpotSettings | None = None
    # Which CRM's field values win when the same company is in both.
    primary: Literal["salesforce", "hubspot"] = "salesforce"
    # How the same company is recognised across CRMs: its normalised website domain.
    match_on: Literal["domain"] = "domain"
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    report_dir: Path = Path("reports")
    # A tier typed by hand into the CRM is honoured as an override for this many days.
    hand_edit_override_days: int = Field(default=30, ge=0)
    # Also create "escalate" tasks for play tasks past their SLA.
    escalate_overdue: bool = False
    # Holidays are ignored: business days are Monday to Friday.
    timezone: str = "UTC"
    # Where play tasks go for a company held by both CRMs: only the primary CRM's record
    # (one task for one rep), or every CRM's record (teams working in different CRMs).
    tasks_in: Literal["primary", "all"] = "primary"
    # Day one (issue 12). The mapping file a RevOps person edits (model input -> CRM field,
    # value maps per CRM); TIERWISE_<CRM>__FIELDS / __VALUE_MAPS override it key by key.
    mapping_path: Path | None = None
    # The first run against an org (no tier history yet) records tiers and writes the tier
    # fields but creates no entry tasks; true creates them for every account found in a tier.
    backfill_tasks: bool = False
    # At most this many entry tasks per owner per day; the rest wait for the next days in
    # priority order (tier, then score), each still created exactly once. None: no cap.
    tasks_per_owner_per_day: int | None = Field(default=None, ge=1)
    # issue 17: the blast-radius breaker. A run that would change the tier of more than
    # this share of already-tiered accounts, or clear more than this many tier fields,
    # writes nothing and is saved as a plan to approve (`tierwise apply`).
    max_tier_change_share: float = Field(default=0.2, ge=0, le=1)
    max_tier_clears: int | None = Field(default=100, ge=0)
