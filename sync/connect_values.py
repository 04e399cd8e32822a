"""The model's value tables against what an org stores: ``connect`` and ``validate``.

A category table keyed on values no picklist option produces (after the value maps)
scores every account the table's default, silently; a list test none of whose values
is an option never matches. These pure checks word the warning and, where an org's
value differs from a category in case alone, the value map that fixes it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from tierwise.connectors.inventory import FieldInfo


def model_tables(model: Any) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(category keys per input, contains_any values per input) from a tiering model."""
    categories: dict[str, set[str]] = {}
    members: dict[str, set[str]] = {}
    for signal in model.signals():
        if signal.kind == "category":
            categories.setdefault(signal.field, set()).update(str(k) for k in signal.table)
        elif signal.kind == "contains_any":
            members.setdefault(signal.field, set()).update(str(v) for v in signal.any_of)
    return categories, members


def category_warning(
    name: str, info: FieldInfo, table: Collection[str], value_map: Mapping[str, str]
) -> str | None:
    """A warning when no option of ``info`` lands on a key of the model's category table
    once the value map is applied (every account would score the table's default)."""
    if not info.options or not table:
        return None
    produced = {value_map.get(o.value.strip().lower(), o.value) for o in info.options}
    produced |= {
        value_map[o.label.strip().lower()]
        for o in info.options
        if o.label.strip().lower() in value_map
    }
    if produced & set(table):
        return None
    folded = {p.lower() for p in produced} & {t.lower() for t in table}
    hint = f" (they differ only in case: {', '.join(sorted(folded))})" if folded else ""
    return (
        f"{name}: the model's category table shares no key with the options of {info.name} "
        f"after the value map{hint}; add a value map (values: {{{name}: {{<org value>: "
        f"<model category>}}}}) or every account scores the table's default"
    )


def case_value_map(
    info: FieldInfo, table: Collection[str], value_map: Mapping[str, str]
) -> dict[str, str]:
    """Option value -> category for each option of ``info`` that, after ``value_map``,
    is no key of ``table`` but whose value or label is one in another case (the org's
    ``High`` onto the model's ``high``): unambiguous, so ``connect`` proposes it live.
    Anything less certain stays a commented skeleton for the operator to fill in."""
    keys = set(table)
    folded: dict[str, str] = {}
    for key in sorted(keys):
        folded.setdefault(key.lower(), key)
    proposed: dict[str, str] = {}
    for option in info.options:
        if value_map.get(option.value.strip().lower(), option.value) in keys:
            continue
        for text in (option.value, option.label):
            match = folded.get(text.strip().lower())
            if match is not None:
                proposed[option.value] = match
                break
    return proposed


def list_warning(name: str, info: FieldInfo, wanted: Collection[str]) -> str | None:
    """A warning when none of the model's ``any_of`` values is an option (value or label,
    case-insensitive) of the list field."""
    if not info.options or not wanted:
        return None
    offered = {o.value.lower() for o in info.options} | {o.label.lower() for o in info.options}
    if offered & {w.lower() for w in wanted}:
        return None
    return (
        f"{name}: none of the model's values ({', '.join(sorted(wanted))}) is an option "
        f"of {info.name}"
    )


def merged_tables(models: Iterable[Any]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """:func:`model_tables` of several models (prospect and customer), merged."""
    categories: dict[str, set[str]] = {}
    members: dict[str, set[str]] = {}
    for model in models:
        found_categories, found_members = model_tables(model)
        for name, keys in found_categories.items():
            categories.setdefault(name, set()).update(keys)
        for name, values in found_members.items():
            members.setdefault(name, set()).update(values)
    return categories, members
