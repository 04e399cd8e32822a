"""HubSpot companies: the pull, tierwise's writes, the native ICP tier, contact copies.

A full pull lists companies 100 a page (raw JSON: the client's model layer parses every
timestamp with dateutil and cost more than the HTTP itself, profiled); an incremental
one is a keyset search from the watermark (``paging``). Each row is mapped onto the
model's canonical inputs with what ``schema`` learnt (labels, money strings, value maps).
From ``export_threshold`` expected rows (or when an incremental search's first page states
a ``total`` that reaches it) a pull is one CRM export instead (``exports``), and
from ``import_threshold`` changed companies a write is one import (``imports``); both are
off by default (sandbox/README.md "HubSpot bulk paths" says why).

Native ICP (``write_native_icp``): ``hs_ideal_customer_profile`` / ``hs_is_target_account``
are written only while they still hold what tierwise last wrote (``native_icp``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import structlog

from tierwise.config.settings import HubSpotSettings
from tierwise.connectors.base import AccountUpdate, CrmAccount, TierwiseValues, WriteOutcome
from tierwise.connectors.batching import chunked
from tierwise.connectors.errors import ConfigurationError, RetriableError
from tierwise.connectors.hubspot import paths
from tierwise.connectors.hubspot.batch import BATCH_MAX, batch_update
from tierwise.connectors.hubspot.client import HubSpotClient, to_dict
from tierwise.connectors.hubspot.exports import export_rows
from tierwise.connectors.hubspot.imports import Importer, split_clears
from tierwise.connectors.hubspot.native_icp import ICP_PROPERTY, NativeIcp
from tierwise.connectors.hubspot.native_icp import PROPERTIES as NATIVE_PROPERTIES
from tierwise.connectors.hubspot.paging import (
    associations,
    epoch_ms,
    list_rows,
    search_rows,
    search_total,
)
from tierwise.connectors.hubspot.schema import PortalFields
from tierwise.connectors.hubspot.values import hubspot_value, labelled, parse_money
from tierwise.connectors.parsing import (
    RecordReader,
    UnparseableError,
    normalise_domain,
    parse_datetime,
)

SYSTEM = "hubspot"

log = structlog.get_logger(__name__)


class _ExportInstead(Exception):  # noqa: N818 - a signal between two methods, not an error
    """The first search page's ``total`` says the pull is export-sized."""

    def __init__(self, total: int) -> None:
        super().__init__(total)
        self.total = total


class Companies:
    """Pull and write companies of one portal."""

    def __init__(
        self, client: HubSpotClient, fields: PortalFields, settings: HubSpotSettings
    ) -> None:
        self._client = client
        self._fields = fields
        self._settings = settings
        # Native ICP values held per company, and who owns them (native_icp).
        self.native = NativeIcp()
        self.icp_options: frozenset[str] = frozenset()
        self._icp_loaded = False
        self._importer: Importer | None = None

    # ------------------------------------------------------------------ pull
    def uses_export(self, expected: int | None) -> bool:
        """The export path, when the caller expects at least ``export_threshold`` rows."""
        threshold = self._settings.export_threshold
        return threshold is not None and expected is not None and expected >= threshold

    def uses_import(self, count: int) -> bool:
        threshold = self._settings.import_threshold
        return threshold is not None and count >= threshold

    def pull(self, since: datetime | None, expected: int | None = None) -> Iterator[CrmAccount]:
        props = self._pull_properties()
        if expected is None and self._settings.export_threshold is not None:
            # Nothing estimated the size (a first run's empty store): one one-row search
            # reads the ``total``, so a large first pull can take the export too.
            expected = self._probe(since)
        if self.uses_export(expected):
            rows = self._export_rows(props, since)
        elif since is not None and self._settings.export_threshold is not None:
            rows = self._search_or_export(props, since, self._settings.export_threshold)
        else:
            rows = self._rest_rows(props, since)
        count = 0
        for row in rows:
            count += 1
            yield self.parse(row)
        log.debug("hubspot_pull_done", accounts=count, incremental=since is not None)

    def _search_or_export(
        self, props: list[str], since: datetime, threshold: int
    ) -> Iterator[dict[str, Any]]:
        """The keyset search, unless its first page's ``total`` (the exact size of the
        pull, which comes with the page) reaches ``threshold``: an estimate that was low
        (a mass import or an integration touched every company since the last run) then
        goes by export for that one call more, not by thousands of search pages."""

        def check(total: int) -> None:
            if total >= threshold:
                raise _ExportInstead(total)

        rows = search_rows(
            self._client,
            "companies",
            since,
            props,
            self._fields.identity["modified"],
            first_total=check,
        )
        try:
            first = next(rows)
        except StopIteration:
            return
        except _ExportInstead as larger:
            log.info("hubspot_pull_path", path="export", total=larger.total, threshold=threshold)
            yield from self._export_rows(props, since)
            return
        yield first
        yield from rows

    def _probe(self, since: datetime | None) -> int | None:
        modified = self._fields.identity["modified"]
        filters = (
            []
            if since is None
            else [{"propertyName": modified, "operator": "GTE", "value": epoch_ms(since)}]
        )
        return search_total(self._client, "companies", filters)

    def _rest_rows(self, props: list[str], since: datetime | None) -> Iterator[dict[str, Any]]:
        if since is None:
            return list_rows(
                self._client,
                "companies.basic",
                paths.COMPANIES_LIST,
                "companies",
                properties=props,
                _preload_content=False,
            )
        return search_rows(
            self._client, "companies", since, props, self._fields.identity["modified"]
        )

    def _export_rows(self, props: list[str], since: datetime | None) -> Iterator[dict[str, Any]]:
        """The export's rows; an export that is refused or never finishes (its 30 a day
        spent, still queued after ``bulk_max_wait_seconds``) falls back to the REST path
        before any row was read, so the run still gets its records."""
        rows = export_rows(
            self._client,
            props,
            since=since,
            modified=self._fields.identity["modified"],
            poll_seconds=self._settings.bulk_poll_seconds,
            max_wait_seconds=self._settings.bulk_max_wait_seconds,
        )
        try:
            first = next(rows)
        except StopIteration:
            return
        except RetriableError as exc:
            log.warning("hubspot_export_fallback", error=str(exc), path="rest")
            yield from self._rest_rows(props, since)
            return
        yield first
        yield from rows

    def _native_properties(self) -> tuple[str, ...]:
        return NATIVE_PROPERTIES if self._settings.write_native_icp else ()

    def _pull_properties(self) -> list[str]:
        f = self._fields
        return list(
            dict.fromkeys(
                (
                    *f.identity.values(),
                    *f.tierwise_fields.values(),
                    *f.customer_fields.values(),
                    *(name for name, _ in f.model_fields.values()),
                    *self._native_properties(),
                )
            )
        )

    def parse(self, row: Mapping[str, Any]) -> CrmAccount:
        """One company row (list or search) as a ``CrmAccount``."""
        f = self._fields
        props: Mapping[str, Any] = row.get("properties") or {}
        if f.labels or f.money:
            adjusted = dict(props)
            for name, labels in f.labels.items():
                adjusted[name] = labelled(props.get(name), labels)
            for name in f.money:
                raw = props.get(name)
                amount = parse_money(raw)
                adjusted[name] = amount if amount is not None else raw
            props = adjusted
        if self._settings.write_native_icp:
            self.native.remember(str(row.get("id")), props)
        reader = RecordReader(props)
        fields = reader.canonical(f.model_fields, f.value_maps)
        opt_str, opt_float, opt_date = reader.text, reader.number, reader.day
        tw, ident = f.tierwise_fields, f.identity
        modified_raw = opt_str(ident["modified"]) or row.get("updatedAt") or row.get("updated_at")
        try:
            modified = parse_datetime(modified_raw) if modified_raw else None
        except UnparseableError:
            modified = None
        return CrmAccount(
            system=SYSTEM,
            crm_id=str(row.get("id") or props.get(ident["id"])),
            name=opt_str(ident["name"]),
            domain=normalise_domain(opt_str(ident["website"])),
            owner_id=opt_str(ident["owner"]),
            modified_at=modified,
            fields=fields,
            written=TierwiseValues(
                tier=opt_str(tw["tier"]),
                score=opt_float(tw["score"], "tierwise.score"),
                reason=opt_str(tw["reason"]),
                play=opt_str(tw["play"]),
                sla_due=opt_date(tw["sla_due"], "tierwise.sla_due"),
                tier_changed=opt_date(tw["tier_changed"], "tierwise.tier_changed"),
                **self._customer_written(opt_str, opt_float, opt_date),
            ),
            manual_tier=opt_str(ident["override_tier"]),
            manual_tier_until=opt_date(ident["override_until"], "override_until"),
            invalid=reader.invalid,
        )

    def _customer_written(
        self,
        opt_str: Callable[[str], str | None],
        opt_float: Callable[[str, str], float | None],
        opt_date: Callable[[str, str], date | None],
    ) -> dict[str, Any]:
        cf = self._fields.customer_fields
        if not cf:
            return {}
        return {
            "customer_tier": opt_str(cf["customer_tier"]),
            "customer_score": opt_float(cf["customer_score"], "tierwise.customer_score"),
            "customer_reason": opt_str(cf["customer_reason"]),
            "customer_play": opt_str(cf["customer_play"]),
            "customer_tier_changed": opt_date(
                cf["customer_tier_changed"], "tierwise.customer_tier_changed"
            ),
        }

    # ------------------------------------------------------------------ native ICP
    def load_icp_options(self) -> frozenset[str]:
        """The native ICP tier's options (tier_1..tier_3 in portals seen so far), read once."""
        if self._icp_loaded:
            return self.icp_options
        core = self._client.api("properties.core")
        prop = self._client.maybe(
            paths.PROPERTY_GET,
            lambda t: core.get_by_name("companies", ICP_PROPERTY, _request_timeout=t),
            operation="read ICP property",
            object_name="companies",
        )
        options = to_dict(prop).get("options") or []
        self.icp_options = frozenset(str(o.get("value")) for o in options if o.get("value"))
        self._icp_loaded = True
        return self.icp_options

    def _load_native(self, ids: Sequence[str]) -> None:
        """Current native ICP values of companies not seen in this run's pull."""
        api = self._client.api("companies.batch")
        props = list(self._native_properties())
        for chunk in chunked(ids, BATCH_MAX):
            body = {"properties": props, "inputs": [{"id": i} for i in chunk]}
            result = to_dict(
                self._client.call(
                    paths.COMPANIES_BATCH_READ,
                    lambda t, b=body: api.read(b, _request_timeout=t, _preload_content=False),  # type: ignore[misc]  # lambda default binds the chunk
                    operation="read native ICP values",
                    object_name="companies",
                )
            )
            for row in result.get("results") or []:
                self.native.remember(str(row.get("id")), row.get("properties") or {})

    # ------------------------------------------------------------------ writes
    def _properties(self, update: AccountUpdate) -> dict[str, str]:
        f = self._fields
        properties: dict[str, str] = {}
        for logical, value in update.values.items():
            name = f.tierwise_fields.get(logical) or f.customer_fields.get(logical)
            if name is None:
                raise ConfigurationError(
                    f"HubSpot: tierwise does not write a property called {logical!r}",
                    system=SYSTEM,
                    object_name="companies",
                    record_id=update.crm_id,
                )
            properties[name] = hubspot_value(value)
        if self._settings.write_native_icp and "tier" in update.values:
            self.native.options = self.load_icp_options()
            properties.update(self.native.writes(update.crm_id, update.values["tier"]))
        return properties

    def write(self, updates: Sequence[AccountUpdate]) -> WriteOutcome:
        """Change-only batch updates, then the tier copied onto contacts if asked."""
        changed = [u for u in updates if u.values]
        if not changed:
            return WriteOutcome()
        if self._settings.write_native_icp:
            unseen = [
                u.crm_id for u in changed if "tier" in u.values and u.crm_id not in self.native.held
            ]
            if unseen:
                self._load_native(unseen)
        kept_before = len(self.native.kept)
        inputs = [{"id": u.crm_id, "properties": self._properties(u)} for u in changed]
        if len(self.native.kept) > kept_before:
            log.info(
                "hubspot_native_icp_kept",
                companies=len(self.native.kept) - kept_before,
                reason="set by someone other than tierwise",
            )
        outcome = self._send(inputs)
        if self._settings.copy_to_contacts:
            written = set(outcome.written)
            self._copy_to_contacts([i for i in inputs if i["id"] in written])
        return outcome

    def _send(self, inputs: list[dict[str, Any]]) -> WriteOutcome:
        """One import for a large write set (clears still by batch), else batch updates."""
        batch_inputs = inputs
        outcome = WriteOutcome()
        if self.uses_import(len(inputs)):
            importable, batch_inputs = split_clears(inputs)
            if importable:
                s = self._settings
                if self._importer is None:
                    self._importer = Importer(
                        self._client, s.bulk_poll_seconds, s.bulk_max_wait_seconds
                    )
                outcome = self._importer.write(importable)
        if batch_inputs:
            rest = batch_update(
                self._client,
                "companies.batch",
                "companies",
                batch_inputs,
                label=paths.COMPANIES_BATCH_UPDATE,
                operation="update companies",
                concurrency=self._settings.write_concurrency,
            )
            outcome.written.extend(rest.written)
            outcome.failed.extend(rest.failed)
        return outcome

    def _copy_to_contacts(self, company_inputs: Sequence[dict[str, Any]]) -> None:
        """Copy the written tier properties onto each company's associated contacts."""
        copy_names = set(self._fields.tierwise_fields.values())
        contact_inputs: list[dict[str, Any]] = []
        by_company = {str(i["id"]): i["properties"] for i in company_inputs}
        linked = associations(self._client, "companies", "contacts", list(by_company)).linked
        for company_id, contact_ids in linked.items():
            props = {k: v for k, v in by_company.get(company_id, {}).items() if k in copy_names}
            contact_inputs.extend({"id": cid, "properties": props} for cid in contact_ids)
        if contact_inputs:
            batch_update(
                self._client,
                "contacts.batch",
                "contacts",
                contact_inputs,
                label=paths.CONTACTS_BATCH_UPDATE,
                operation="copy tier to contacts",
                concurrency=self._settings.write_concurrency,
            )
