"""The mapping file a RevOps person edits: model inputs onto each CRM's fields and values.

``mapping.yaml`` (path ``TIERWISE_MAPPING_PATH``) says, per CRM, which field holds each
model input and which of the org's stored values mean which model category::

    salesforce:
      fields:  {intent_score: Bombora_Composite_Score__c}
      values:  {industry: {Technology: Software}}
    hubspot:
      fields:  {...}
      values:  {...}

It fills ``<crm>.fields`` / ``<crm>.value_maps`` of the settings, under the environment
variables (``TIERWISE_SALESFORCE__FIELDS`` ...), which still win key by key. Like the model
file, every mistake is one ``MappingError`` naming file, line and key
(``mapping.yaml:7: salesforce.fields.intnt_score: names no model input ...``), raised
before anything runs: a misspelt key is never dropped silently, whether it came from the
file or from an environment variable.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tierwise.config.settings import Settings
from tierwise.connectors.errors import ConfigurationError

# The model loader's line-aware YAML node, so both YAML files report lines alike.
from tierwise.tiering.yaml_node import Node

CRMS = ("salesforce", "hubspot")
SECTIONS = ("fields", "values")
# Where each section lands in the CRM's settings, and the variable that overrides it.
_SETTING = {"fields": "fields", "values": "value_maps"}


class MappingError(ConfigurationError):
    """The mapping (file or environment) is invalid; nothing has been read or written.

    ``str(error)`` is ``<file>:<line>: <key path>: <problem>``, or ``<VARIABLE>: <key>:
    <problem>`` for a key that came from an environment variable.
    """

    def __init__(self, where: str, line: int | None, key: str, problem: str) -> None:
        self.file = where
        self.line = line
        self.key = key
        self.problem = problem
        place = f"{where}:{line}" if line is not None else where
        super().__init__(f"{place}: {key}: {problem}", system="tierwise")


@dataclass(frozen=True)
class MappingFile:
    """One parsed mapping file; ``lines`` remembers where each ``crm.section.input`` is."""

    path: str
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    # ``crm.values.input.stored value`` -> line, for errors about one value map entry.
    value_lines: dict[str, int] = field(default_factory=dict)


def load_mapping(path: Path | str) -> MappingFile:
    """Read and check the shape of the mapping file at ``path``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MappingError(
            name, None, "(file)", f"cannot be read: {error.strerror} (TIERWISE_MAPPING_PATH)"
        ) from None
    except UnicodeDecodeError:
        raise MappingError(name, None, "(file)", "is not UTF-8 text") from None
    return parse_mapping(text, name)


def parse_mapping(text: str, file: str = "mapping.yaml") -> MappingFile:
    """Validate mapping text; ``file`` only labels errors."""
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "invalid YAML"
        raise MappingError(file, line, "(yaml)", f"invalid YAML: {problem}") from None
    except YAMLError as error:
        raise MappingError(file, None, "(yaml)", f"invalid YAML: {error}") from None
    result = MappingFile(path=file)
    if data is None:
        return result  # an empty (all comments) file maps nothing
    if not isinstance(data, CommentedMap):
        raise MappingError(file, 1, "(root)", "expected sections salesforce: and/or hubspot:")
    for crm, body in data.items():
        line = _line(data, crm)
        if crm not in CRMS:
            raise MappingError(file, line, str(crm), "unknown CRM" + _hint(str(crm), CRMS))
        if body is None:
            continue
        if not isinstance(body, CommentedMap):
            raise MappingError(file, line, crm, "expected fields: and/or values:")
        for section, table in body.items():
            where = f"{crm}.{section}"
            if section not in SECTIONS:
                raise MappingError(
                    file, _line(body, section), where, "unknown key" + _hint(str(section), SECTIONS)
                )
            if table is None:
                continue
            if not isinstance(table, CommentedMap):
                raise MappingError(
                    file, _line(body, section), where, "expected `model input: ...` lines"
                )
            for name, value in table.items():
                key = f"{where}.{name}"
                at = _line(table, name)
                result.lines[key] = at
                if section == "fields":
                    if not isinstance(value, str) or not value.strip():
                        raise MappingError(
                            file,
                            at,
                            key,
                            "must be a CRM field name (e.g. Bombora_Composite_Score__c)",
                        )
                    result.fields.setdefault(crm, {})[str(name)] = value.strip()
                else:
                    result.values.setdefault(crm, {})[str(name)] = _value_map(
                        result, at, key, value
                    )
    return result


def _value_map(result: MappingFile, at: int, key: str, value: Any) -> dict[str, str]:
    file = result.path
    if not isinstance(value, CommentedMap):
        raise MappingError(
            file,
            at,
            key,
            "must map each value the org stores to a model category, e.g. {Technology: Software}",
        )
    out: dict[str, str] = {}
    for stored, category in value.items():
        line = _line(value, stored, at)
        if category is None or isinstance(category, (dict, list)):
            raise MappingError(file, line, f"{key}.{stored}", "must be a model category (text)")
        out[str(stored)] = str(category)
        result.value_lines[f"{key}.{stored}"] = line
    return out


def apply_mapping(
    settings: Settings,
    inputs: Iterable[str],
    *,
    tolerated: Iterable[str] | None = None,
    categories: Mapping[str, Collection[str]] | None = None,
) -> Settings:
    """``settings`` with the mapping file merged under each configured CRM's ``fields`` /
    ``value_maps`` (the environment wins key by key), after checking that every key, from
    the file or the environment, names one of the model's ``inputs``.

    ``tolerated`` are inputs of a model not in use (the customer model with customer tiers
    off; by default read from ``settings.customer_model_path``): mapping them is not an
    error, they are simply not pulled.

    ``categories`` (:func:`model_categories` of the models in use) are the values each
    input can usefully take; when given, a value map (of an input in ``inputs``) whose
    target is none of them is an error too: the account would silently score the table's
    default.
    """
    known = set(inputs)
    accepted = known | set(_customer_inputs(settings) if tolerated is None else tolerated)
    mapping = load_mapping(settings.mapping_path) if settings.mapping_path else None
    if mapping is not None:
        for key, line in sorted(mapping.lines.items(), key=lambda kv: kv[1]):
            name = key.split(".", 2)[2]
            if name not in accepted:
                raise MappingError(
                    mapping.path, line, key, "names no model input" + _hint(name, known)
                )
        if categories is not None:
            _check_targets(mapping, categories, known)
    updates: dict[str, Any] = {}
    for crm in CRMS:
        section = getattr(settings, crm)
        if section is None:
            continue  # the file may map a CRM this deployment does not use
        for setting in _SETTING.values():
            env: Mapping[str, Any] = getattr(section, setting)
            variable = f"TIERWISE_{crm.upper()}__{setting.upper()}"
            for name in env:
                if name not in accepted:
                    raise MappingError(
                        variable, None, name, "names no model input" + _hint(name, known)
                    )
        if categories is not None:
            for name, table in section.value_maps.items():
                if name not in known:
                    continue
                for stored, target in table.items():
                    problem = target_problem(name, str(target), categories)
                    if problem:
                        raise MappingError(
                            f"TIERWISE_{crm.upper()}__VALUE_MAPS", None, f"{name}.{stored}", problem
                        )
        if mapping is None:
            continue
        fields = {**mapping.fields.get(crm, {}), **section.fields}
        values = dict(mapping.values.get(crm, {}))
        for name, table in section.value_maps.items():
            values[name] = {**values.get(name, {}), **table}
        updates[crm] = section.model_copy(update={"fields": fields, "value_maps": values})
    return settings.model_copy(update=updates) if updates else settings


def model_categories(*models: Any) -> dict[str, set[str]]:
    """input -> the values the models can tell apart for it: category table keys,
    ``contains_any`` values, and the text a trigger condition tests (``is`` /
    ``contains_any``). ``None`` models (customer tiers off) are skipped."""
    found: dict[str, set[str]] = {}
    for model in models:
        if model is None:
            continue
        for signal in model.signals():
            if signal.kind == "category":
                found.setdefault(signal.field, set()).update(str(k) for k in signal.table)
            elif signal.kind == "contains_any":
                found.setdefault(signal.field, set()).update(str(v) for v in signal.any_of)
        for trigger in getattr(model, "triggers", ()):
            for condition in trigger.conditions:
                value = condition.value
                if condition.field is None or condition.op not in ("is", "contains_any"):
                    continue
                if isinstance(value, str):
                    found.setdefault(condition.field, set()).add(value)
                elif isinstance(value, tuple):
                    found.setdefault(condition.field, set()).update(str(v) for v in value)
    return found


def target_problem(name: str, target: str, categories: Mapping[str, Collection[str]]) -> str | None:
    """Why ``target`` cannot be what a value map of input ``name`` produces, or None.

    Scoring compares exactly (``software`` is not ``Software``), so a target differing
    only in case is refused with the spelling the model uses."""
    wanted = categories.get(name)
    if not wanted:
        return (
            f"maps onto {target!r}, but the model has no categories for {name} "
            "(value maps only feed category tables and lists)"
        )
    if target in wanted:
        return None
    folded = {w.lower(): w for w in wanted}
    if target.lower() in folded:
        return (
            f"{target!r} is not a model category for {name} (did you mean "
            f"{folded[target.lower()]}? categories match exactly)"
        )
    return f"{target!r} is not a model category for {name}" + _hint(target, wanted)


def _check_targets(
    mapping: MappingFile, categories: Mapping[str, Collection[str]], known: Collection[str]
) -> None:
    """Each value map entry of an input in use lands on a category (tolerated inputs of a
    model not in use are not pulled, so their maps are not checked)."""
    for crm, tables in mapping.values.items():
        for name, table in tables.items():
            if name not in known:
                continue
            for stored, target in table.items():
                problem = target_problem(name, target, categories)
                if problem:
                    key = f"{crm}.values.{name}.{stored}"
                    line = mapping.value_lines.get(key, mapping.lines.get(f"{crm}.values.{name}"))
                    raise MappingError(mapping.path, line, key, problem)


def _customer_inputs(settings: Settings) -> tuple[str, ...]:
    """The customer model's inputs, mappable even while customer tiers are off."""
    from tierwise.tiering import load_model
    from tierwise.tiering.errors import ModelError

    try:
        return tuple(load_model(settings.customer_model_path).fields)
    except ModelError:
        return ()


def _line(node: CommentedMap, key: Any, fallback: int | None = None) -> int:
    """The line of ``key`` in ``node`` (else ``fallback``, else the node's own line), by
    the model loader's lookup so both files point at lines the same way."""
    start = fallback if fallback is not None else int(node.lc.line) + 1
    return Node("", node, "", start).line_of(key)


def _hint(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1)
    if close:
        return f" (did you mean {close[0]}?)"
    listed = ", ".join(sorted(choices))
    return f" (expected one of: {listed})" if listed else ""
