"""How ``tierwise connect`` shows its findings: text for a person, JSON for a script,
and a ``mapping.yaml`` proposal for review.

The proposal only maps what ``tierwise.sync.connect`` is confident about; every other input
is written as a comment naming its best candidates, so a reviewer sees the choices
without a guess slipping into the live mapping. The file is never the live mapping:
the command refuses to overwrite that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from tierwise.sync.connect import InputReport, SystemReport
from tierwise.sync.connect_match import Candidate

STATUS_MARK = {"ok": "ok", "missing": "MISSING", "unknown": "?"}


def _pct(rate: float | None) -> str:
    return "not sampled" if rate is None else f"{rate:.0%} filled"


def describe_candidate(candidate: Candidate) -> str:
    """``Bombora_Composite_Score__c (number, 87% filled)``."""
    kind = candidate.kind or candidate.crm_type
    return f"{candidate.name} ({kind}, {_pct(candidate.fill_rate)})"


def _input_lines(report: InputReport) -> list[str]:
    head = f"    {report.name:<22}"
    if report.status == "ok" and report.info is not None:
        info = report.info
        how = "mapped" if report.explicit else "default"
        lines = [f"{head}{info.name} ({info.crm_type}, {_pct(info.fill_rate)}, {how})  ok"]
    elif report.status == "derived":
        lines = [f"{head}{report.note}"]
    else:
        arrow = ""
        if report.proposal is not None:
            arrow = f" -> {describe_candidate(report.proposal)}"
        lines = [f"{head}{report.status}: {report.note}{arrow}"]
        others = [c for c in report.candidates if c is not report.proposal]
        if others:
            label = "candidates" if report.proposal is None else "also"
            lines.append(
                f"    {'':<22}{label}: " + "; ".join(describe_candidate(c) for c in others)
            )
        elif report.proposal is None:
            lines.append(f"    {'':<22}no candidate field of a compatible type")
    lines += [f"    {'':<22}! {warning}" for warning in report.warnings]
    return lines


def render_text(reports: Sequence[SystemReport]) -> str:
    out: list[str] = []
    for rep in reports:
        out.append(f"{rep.system} ({rep.object_name}; sample of {rep.sample_size} records)")
        out.append("  model inputs")
        for item in rep.inputs:
            out += _input_lines(item)
        out.append("  tierwise's own fields")
        for own in rep.own_fields:
            verdict = "ok (read, write)" if own.exists and own.writable else own.problem
            out.append(f"    {own.logical:<22}{own.object_name}.{own.name}  {verdict}")
        out.append("  permissions")
        for check in rep.permissions:
            mark = STATUS_MARK.get(check.status, check.status)
            needed = ", ".join(check.needed_by)
            detail = f": {check.detail}" if check.detail and check.status != "ok" else ""
            out.append(f"    {mark:<8}{check.name} [{needed}]{detail}")
        out.append("")
    missing = [
        f"{rep.system}: {c.name}"
        for rep in reports
        for c in rep.permissions
        if c.status == "missing"
    ]
    if missing:
        out.append("missing permissions: " + "; ".join(missing))
    return "\n".join(out).rstrip()


def to_json(reports: Sequence[SystemReport]) -> list[dict[str, Any]]:
    """Plain data: every report, candidate and check (``confident`` spelt out)."""
    data: list[dict[str, Any]] = []
    for rep in reports:
        item = asdict(rep)
        for entry, report in zip(item["inputs"], rep.inputs, strict=True):
            entry["proposal"] = _candidate(report.proposal)
            entry["candidates"] = [_candidate(c) for c in report.candidates]
        data.append(item)
    return data


def _candidate(candidate: Candidate | None) -> dict[str, Any] | None:
    if candidate is None:
        return None
    return {**asdict(candidate), "confident": candidate.confident}


def _quote(value: str) -> str:
    """A YAML scalar: plain when it is a plain identifier, else double-quoted."""
    if value and value.replace("_", "").isalnum() and not value[0].isdigit():
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def mapping_yaml(reports: Sequence[SystemReport]) -> str:
    """The proposal in the mapping-file shape (``<crm>: {fields: ..., values: ...}``).

    Mapped: inputs the operator already mapped explicitly to an existing field, and
    confident proposals. Commented: everything else, with its candidates, and a value
    map skeleton (the org's values) for a category input whose table matches none.
    """
    lines = [
        "# tierwise field mapping proposed by `tierwise connect` - review before use.",
        "# Lines that are commented out were not confident matches (or have no candidate);",
        "# uncomment and edit them, then point TIERWISE_MAPPING_PATH at this file.",
    ]
    for rep in reports:
        lines += ["", f"{rep.system}:", "  fields:"]
        mapped = 0
        for item in rep.inputs:
            line = _field_line(item)
            mapped += not line.lstrip().startswith("#")
            lines.append(line)
        if not mapped:
            lines.append("    {}  # nothing confident to map")
        # Live value maps only where a value differs from a model category in case alone;
        # the rest are comment skeletons. An empty mapping keeps the shape.
        values = _value_lines(rep)
        live = any(not line.lstrip().startswith("#") for line in values)
        lines += ["  values:", *values, *([] if live else ["    {}"])]
    return "\n".join(lines) + "\n"


def _field_line(item: InputReport) -> str:
    if item.status == "ok" and item.explicit and item.info is not None:
        return f"    {item.name}: {_quote(item.info.name)}  # already mapped"
    if item.status == "ok":
        return f"    # {item.name}: default mapping {item.mapped} is fine"
    if item.status == "derived":
        return f"    # {item.name}: {item.note}"
    if item.proposal is not None:
        return (
            f"    {item.name}: {_quote(item.proposal.name)}  # "
            f"{describe_candidate(item.proposal)}; was {item.status}"
        )
    if item.candidates:
        best = item.candidates[0]
        others = "; ".join(describe_candidate(c) for c in item.candidates[1:])
        tail = f" (also: {others})" if others else ""
        return (
            f"    # {item.name}: {_quote(best.name)}  # not confident: "
            f"{describe_candidate(best)}{tail}"
        )
    return f"    # {item.name}:   # {item.status}, no candidate of a compatible type"


def _value_lines(rep: SystemReport) -> list[str]:
    lines: list[str] = []
    for item in rep.inputs:
        info = item.info if item.status == "ok" else None
        name = item.proposal.name if item.proposal is not None else None
        source = info.name if info is not None else name
        if item.value_map:
            lines.append(
                f"    {item.name}:  # {source} values onto the model's categories "
                "(they differ in case only)"
            )
            lines += [f"      {_quote(k)}: {_quote(v)}" for k, v in item.value_map.items()]
            continue
        if not item.warnings or info is None or not info.options or item.kind != "string":
            continue
        values = [o.value for o in info.options]
        lines.append(f"    # {item.name}:   # {info.name} values -> model categories")
        lines += [f"    #   {_quote(v)}: <category>" for v in values]
    return lines
