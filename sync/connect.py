"""``tierwise connect``: match the model's inputs to what an org actually holds.

Pure: it reads ``tierwise.connectors.inventory`` records (built by the CRM inspectors, or by
hand in tests) and decides, per model input, whether its mapped field exists and is
usable, and which fields are the best candidates when it is not; the value-table checks
(category tables against picklist options) are in ``tierwise.sync.connect_values``. Candidates are
ranked by how alike their API name and label are to the input's name (with synonyms:
a customer's ``Bombora_Composite_Score__c`` is an intent score), whether their type
can feed the input, and how full they are in the sampled records
(``tierwise.sync.connect_match``). Rendering lives in ``tierwise.sync.connect_render``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from typing import Any

from tierwise.connectors.inventory import CrmInventory, FieldInfo
from tierwise.sync.connect_match import Candidate, rank, type_fit
from tierwise.sync.connect_values import (
    case_value_map,
    category_warning,
    list_warning,
    merged_tables,
)


@dataclass
class InputReport:
    """One model input in one CRM: where it comes from and what to map it to.

    ``status``: ``ok``, ``derived`` (the connector computes it), ``not mapped``,
    ``missing`` (mapped by default to a field the org lacks: scored as missing),
    ``error`` (mapped explicitly to a field that does not exist: run refuses), or
    ``unreadable`` / ``wrong type``.
    """

    name: str
    kind: str
    status: str
    mapped: str | None = None
    explicit: bool = False
    info: FieldInfo | None = None
    note: str = ""
    candidates: list[Candidate] = dc_field(default_factory=list)
    proposal: Candidate | None = None
    warnings: list[str] = dc_field(default_factory=list)
    # Proposed value map (org value -> model category) for the field in use or proposed:
    # only options that differ from a category of the model's table in case alone.
    value_map: dict[str, str] = dc_field(default_factory=dict)


@dataclass
class OwnFieldReport:
    logical: str
    object_name: str
    name: str
    exists: bool
    writable: bool
    problem: str = ""


@dataclass
class SystemReport:
    system: str
    object_name: str
    sample_size: int
    inputs: list[InputReport]
    own_fields: list[OwnFieldReport]
    permissions: list[Any]  # connectors.inventory.PermissionCheck


def _own_report(own: Any, system: str) -> OwnFieldReport:
    info = own.info
    if info is None and own.hidden:
        return OwnFieldReport(
            own.logical,
            own.object_name,
            own.name,
            True,
            False,
            "exists but this user cannot see it: assign the permission set that grants "
            "field-level security on it ('tierwise provision' does, with "
            "TIERWISE_SALESFORCE__PERMISSION_SET)",
        )
    if info is None:
        fix = (
            "run 'tierwise provision' (it also grants field-level security)"
            if system == "salesforce"
            else "run 'tierwise provision'"
        )
        return OwnFieldReport(
            own.logical, own.object_name, own.name, False, False, f"missing or not visible: {fix}"
        )
    problem = "" if info.writable else "not writable by this user: grant edit access"
    return OwnFieldReport(own.logical, own.object_name, own.name, True, info.writable, problem)


def assess(
    model_fields: Mapping[str, str],
    inventory: CrmInventory,
    *,
    categories: Mapping[str, Collection[str]] | None = None,
    members: Mapping[str, Collection[str]] | None = None,
) -> SystemReport:
    """The per-input verdicts and proposals for one CRM."""
    categories, members = categories or {}, members or {}
    fields = inventory.fields
    own_names = {o.name for o in inventory.own_fields}
    used = {
        inventory.mapping[n]
        for n in model_fields
        if n in inventory.mapping and inventory.mapping[n] in fields
    }
    reports: list[InputReport] = []
    for name, kind in model_fields.items():
        mapped = inventory.mapping.get(name)
        explicit = name in inventory.explicit
        info = fields.get(mapped) if mapped else None
        others = (used - {mapped}) | own_names
        report = InputReport(
            name,
            kind,
            "ok",
            mapped,
            explicit,
            info,
            candidates=rank(name, kind, fields.values(), exclude=others),
        )
        if mapped is None and name in inventory.derived:
            report.status, report.note = "derived", inventory.derived[name]
        elif mapped is None:
            report.status, report.note = "not mapped", "scored as missing"
        elif info is None:
            if explicit:
                report.status = "error"
                report.note = f"mapped explicitly to {mapped}, which does not exist: run refuses"
            else:
                report.status = "missing"
                report.note = f"no field {mapped}: scored as missing"
        elif not info.readable:
            report.status, report.note = "unreadable", f"{mapped} is not readable by this user"
        elif type_fit(kind, info.kind) == 0.0:
            report.status = "wrong type"
            report.note = f"{mapped} is {info.crm_type}, the model wants {kind}"
        if report.status != "ok" and report.status != "derived":
            best = report.candidates[0] if report.candidates else None
            report.proposal = best if best is not None and best.confident else None
        if info is not None and report.status == "ok":
            table_map = inventory.value_maps.get(name, {})
            for warning in (
                category_warning(name, info, categories.get(name, ()), table_map),
                list_warning(name, info, members.get(name, ())),
            ):
                if warning:
                    report.warnings.append(warning)
        reports.append(report)
    _one_field_per_input(reports)
    for report in reports:
        _propose_values(report, fields, categories, members, inventory.value_maps)
    return SystemReport(
        inventory.system,
        inventory.object_name,
        inventory.sample_size,
        reports,
        [_own_report(o, inventory.system) for o in inventory.own_fields],
        list(inventory.permissions),
    )


def _propose_values(
    report: InputReport,
    fields: Mapping[str, FieldInfo],
    categories: Mapping[str, Collection[str]],
    members: Mapping[str, Collection[str]],
    value_maps: Mapping[str, Mapping[str, str]],
) -> None:
    """The value map an input needs on the field it uses (status ok) or is proposed to
    use, when the org's values differ from the model's in case alone: a category table's
    keys, or the values a list input is tested for (by option value only: HubSpot lists
    are read as labels already). For a proposed field, also its table warning once that
    map is in (a proposal that would score every account the default must say so)."""
    target = (
        report.info
        if report.status == "ok"
        else (fields.get(report.proposal.name) if report.proposal is not None else None)
    )
    if target is None or not target.options:
        return
    current = value_maps.get(report.name, {})
    table = categories.get(report.name, ())
    wanted = members.get(report.name, ())
    if table:
        report.value_map = case_value_map(target, table, current)
    elif wanted:
        by_value = replace(target, options=tuple(replace(o, label=o.value) for o in target.options))
        report.value_map = case_value_map(by_value, wanted, current)
    if report.status == "ok":
        return
    merged = {**current, **{k.strip().lower(): v for k, v in report.value_map.items()}}
    for warning in (
        category_warning(report.name, target, table, merged),
        list_warning(report.name, target, wanted),
    ):
        if warning:
            report.warnings.append(warning)


def _one_field_per_input(reports: list[InputReport]) -> None:
    """Two inputs never get the same proposed field: the better-scoring one keeps it and
    the other falls back to its next confident candidate that is still free."""
    taken: set[str] = set()
    for report in sorted(
        (r for r in reports if r.proposal is not None),
        key=lambda r: -(r.proposal.score if r.proposal else 0.0),
    ):
        report.proposal = next(
            (c for c in report.candidates if c.confident and c.name not in taken), None
        )
        if report.proposal is not None:
            taken.add(report.proposal.name)


def value_warnings(
    model_fields: Mapping[str, str], inventory: CrmInventory, models: Iterable[Any]
) -> list[str]:
    """The table warnings ``connect`` shows (a category table sharing no key with the
    mapped field's options after the value map, a list none of whose model values is an
    option), for ``validate --online``: the same verdicts from the same function."""
    categories, members = merged_tables(models)
    report = assess(model_fields, inventory, categories=categories, members=members)
    return [warning for item in report.inputs for warning in item.warnings]


def assess_all(
    connectors: Iterable[Any],
    model_fields: Mapping[str, str],
    models: Iterable[Any],
    sample: int,
) -> list[SystemReport]:
    """Inspect each connector's CRM (read-only) and assess the model's inputs there."""
    from tierwise.connectors.inventory import inspect_crm

    categories, members = merged_tables(models)
    return [
        assess(model_fields, inspect_crm(connector, sample), categories=categories, members=members)
        for connector in connectors
    ]
