"""Field and object names from configuration, checked before any request is built.

A name from configuration ends up inside SOQL and URLs, so it must be a plain
identifier (``^[A-Za-z][A-Za-z0-9_]*$``); whether it exists is confirmed later by
``validate_schema`` (describe / properties API). Values never go through here: they
are quoted by ``format_soql`` or sent as JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tierwise.connectors.errors import ConfigurationError

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

CANONICAL_TYPES = frozenset({"number", "string", "bool", "date", "list"})


def check_identifier(name: str, *, system: str, setting: str) -> str:
    """Return ``name`` if it is a plain identifier, else raise ConfigurationError."""
    if not isinstance(name, str) or IDENTIFIER.fullmatch(name) is None:
        raise ConfigurationError(
            f"{system}: {setting} must be a plain field/object name "
            f"(letters, digits, underscore, starting with a letter); got {name!r}",
            system=system,
        )
    return name


def resolve_mapping(
    defaults: Mapping[str, str],
    overrides: Mapping[str, str],
    *,
    system: str,
    setting: str,
) -> dict[str, str]:
    """Defaults merged with configured overrides; every CRM name checked."""
    merged = {**defaults, **overrides}
    for key, crm_name in merged.items():
        check_identifier(crm_name, system=system, setting=f"{setting}.{key}")
    return merged


def model_field_mapping(
    model_fields: Mapping[str, str],
    mapping: Mapping[str, str],
    *,
    system: str,
) -> dict[str, tuple[str, str]]:
    """canonical -> (CRM name, type) for the mapped fields the model uses.

    A model field with no mapping in this CRM is simply not pulled (it stays missing
    for this CRM's accounts); an unknown type is a configuration error.
    """
    selected: dict[str, tuple[str, str]] = {}
    for canonical, kind in model_fields.items():
        if kind not in CANONICAL_TYPES:
            raise ConfigurationError(
                f"{system}: model field {canonical!r} has unknown type {kind!r}; "
                f"expected one of {sorted(CANONICAL_TYPES)}",
                system=system,
            )
        if canonical in mapping:
            selected[canonical] = (mapping[canonical], kind)
    return selected
