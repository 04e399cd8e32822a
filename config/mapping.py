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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from config.settings import Settings
from connectors.errors import ConfigurationError

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


def load_mapping(path: Path | str) -> MappingFile:
    """Read and check the shape of the mapping file at ``path``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MappingError(name, None, "(file)", f"cannot be read: {error.strerror} "
                           "(TIERWISE_MAPPING_PATH)") from None
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
                raise MappingError(file, _line(body, section), where,
                                   "unknown key" + _hint(str(section), SECTIONS))
            if table is None:
                continue
            if not isinstance(table, CommentedMap):
                raise MappingError(file, _line(body, section), where,
                                   "expected `model input: ...` lines")
            for name, value in table.items():
                key = f"{where}.{name}"
                at = _line(table, name)
                result.lines[key] = at
                if section == "fields":
                    if not isinstance(value, str) or not value.strip():
                        raise MappingError(file, at, key, "must be a CRM field name "
                                           "(e.g. Bombora_Composite_Score__c)")
                    result.fields.setdefault(crm, {})[str(name)] = value.strip()
                else:
                    result.values.setdefault(crm, {})[str(name)] = _value_map(
                        file, at, key, table, name, value
                    )
    return result


def _value_map(
    file: str, at: int, key: str, table: CommentedMap, name: Any, value: Any
) -> dict[str, str]:
    if not isinstance(value, CommentedMap):
        raise MappingError(file, at, key, "must map each value the org stores to a model "
                           "category, e.g. {Technology: Software}")
    out: dict[str, str] = {}
    for stored, category in value.items():
        if category is None or isinstance(category, (dict, list)):
            raise MappingError(file, _line(value, stored) or at, f"{key}.{stored}",
                               "must be a model category (text)")
        out[str(stored)] = str(category)
    return out


def apply_mapping(
    settings: Settings,
    inputs: Iterable[str],
    *,
    tolerated: Iterable[str] | None = None,
) -> Settings:
    """``settings`` with the mapping file merged under each configured CRM's ``fields`` /
    ``value_maps`` (the environment wins key by key), after checking that every key, from
    the file or the environment, names one of the model's ``inputs``.

    ``tolerated`` are inputs of a model not in use (the customer model with customer tiers
    off; by default read from ``settings.customer_model_path``): mapping them is not an
    error, they are simply not pulled.
    """
    known = set(inputs)
    accepted = known | set(_customer_inputs(settings) if tolerated is None else tolerated)
    mapping = load_mapping(settings.mapping_path) if settings.mapping_path else None
    if mapping is not None:
        for key, line in sorted(mapping.lines.items(), key=lambda kv: kv[1]):
            name = key.split(".", 2)[2]
            if name not in accepted:
                raise MappingError(mapping.path, line, key,
                                   "names no model input" + _hint(name, known))
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
                    raise MappingError(variable, None, name,
                                       "names no model input" + _hint(name, known))
        if mapping is None:
            continue
        fields = {**mapping.fields.get(crm, {}), **section.fields}
        values = dict(mapping.values.get(crm, {}))
        for name, table in section.value_maps.items():
            values[name] = {**values.get(name, {}), **table}
        updates[crm] = section.model_copy(update={"fields": fields, "value_maps": values})
    return settings.model_copy(update=updates) if updates else settings


def _customer_inputs(settings: Settings) -> tuple[str, ...]:
    """The customer model's inputs, mappable even while customer tiers are off."""
    from tiering import load_model
    from tiering.errors import ModelError

    try:
        return tuple(load_model(settings.customer_model_path).fields)
    except ModelError:
        return ()


def _line(node: CommentedMap, key: Any) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return int(node.lc.line) + 1


def _hint(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1)
    if close:
        return f" (did you mean {close[0]}?)"
    listed = ", ".join(sorted(choices))
    return f" (expected one of: {listed})" if listed else ""
