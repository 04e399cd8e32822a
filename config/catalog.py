"""Every ``TIERWISE_*`` variable the settings model accepts, derived from the model itself.

Used to warn about unknown names (a misspelt variable is otherwise ignored without a
word), to name the variable behind a pydantic error, and to generate the README's
settings table, so the list can never drift from ``config/settings.py``.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

PREFIX = "TIERWISE_"
# Read by tierwise outside the settings model (secrets location, test fixtures).
EXTRA_NAMES = ("TIERWISE_SECRETS_DIR", "TIERWISE_TEST_POSTGRES_URL")


@dataclass(frozen=True)
class Setting:
    env: str
    type: str
    default: str
    # A dict setting: deeper names (``__FIELDS__INTENT_SCORE``) are keys of it.
    open: bool = False


def _section(annotation: Any) -> type[BaseModel] | None:
    args = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    for arg in args:
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _type_name(annotation: Any) -> str:
    if _is_union(annotation):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return getattr(annotation, "__name__", str(annotation)).replace("NoneType", "None")


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]  # no-arg factories only
        return "{}" if isinstance(value, dict) else "(section)"
    value = info.default
    if value is None:
        return ""
    text = str(value)
    # The bundled model paths depend on where tierwise is installed.
    return "bundled " + text.rsplit("/", 1)[-1] if text.startswith("/") else text


def settings_catalog(model: type[BaseModel] | None = None, prefix: str = PREFIX) -> list[Setting]:
    """One row per leaf setting, in declaration order."""
    if model is None:
        from tierwise.config.settings import Settings

        model = Settings
    return list(_walk(model, prefix))


def _walk(model: type[BaseModel], prefix: str) -> Iterator[Setting]:
    for name, info in model.model_fields.items():
        env = prefix + name.upper()
        section = _section(info.annotation)
        if section is not None:
            yield from _walk(section, env + "__")
            continue
        is_dict = typing.get_origin(info.annotation) is dict
        yield Setting(env, _type_name(info.annotation), _default(info), open=is_dict)


def unknown_names(env: Mapping[str, str], catalog: list[Setting] | None = None) -> list[str]:
    """``TIERWISE_*`` names in ``env`` no setting reads, each with the nearest known one."""
    rows = catalog if catalog is not None else settings_catalog()
    known = {s.env for s in rows} | set(EXTRA_NAMES)
    sections = {s.env.rsplit("__", 1)[0] for s in rows if "__" in s.env}
    open_prefixes = tuple(s.env + "__" for s in rows if s.open)
    warnings = []
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(PREFIX) or upper in known or upper in sections:
            continue
        if upper.startswith(open_prefixes):
            continue
        warnings.append(f"{name} is not a tierwise setting{_nearest(upper, known)}")
    return warnings


def nearest(name: str) -> str:
    """`` (did you mean X?)`` for the closest known variable name, or ``""``."""
    return _nearest(name.upper(), {s.env for s in settings_catalog()})


def _nearest(name: str, known: set[str]) -> str:
    match = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f" (did you mean {match[0]}?)" if match else ""


def env_name(loc: tuple[int | str, ...]) -> str:
    """The variable behind a pydantic error location (``hubspot.x`` -> TIERWISE_HUBSPOT__X)."""
    return PREFIX + "__".join(str(part).upper() for part in loc)


def markdown_table(catalog: list[Setting] | None = None) -> str:
    """The README's settings table (a test regenerates it and compares)."""
    rows = catalog if catalog is not None else settings_catalog()
    lines = ["| Variable | Type | Default |", "| --- | --- | --- |"]
    for s in rows:
        kind = s.type.replace("|", "\\|")
        default = s.default.replace("|", "\\|") or "—"
        lines.append(f"| `{s.env}` | {kind} | {default} |")
    return "\n".join(lines)
