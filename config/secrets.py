"""Container secrets: one file per secret, named like its variable.

Docker and Kubernetes mount secrets as files (``/run/secrets/<name>``). pydantic-settings'
own ``secrets_dir`` only maps a file onto a top-level field (a file ``TIERWISE_HUBSPOT``
holding JSON), which is not how anyone stores a token. This source reads
``TIERWISE_SECRETS_DIR`` (default ``/run/secrets``) and maps each file named like a
variable (``TIERWISE_HUBSPOT__ACCESS_TOKEN``, or without the prefix,
``HUBSPOT__ACCESS_TOKEN``; case-insensitive) onto the nested setting. Files whose names
are no setting are ignored (other containers' secrets share the folder); a file named like
a section (``TIERWISE_HUBSPOT``) holding JSON still works, as before. Environment
variables win over files. Values are stripped of the trailing newline editors add and
never logged: they land in ``SecretStr`` fields like any other secret.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

DEFAULT_SECRETS_DIR = Path("/run/secrets")
PREFIX = "TIERWISE_"


def secrets_dir() -> Path:
    return Path(os.environ.get("TIERWISE_SECRETS_DIR") or DEFAULT_SECRETS_DIR)


def read_secret_files(directory: Path, known: set[str]) -> dict[str, Any]:
    """Nested settings values from the files in ``directory`` whose names are settings."""
    values: dict[str, Any] = {}
    if not directory.is_dir():
        return values
    for path in sorted(directory.iterdir()):
        name = path.name.upper()
        env = name if name.startswith(PREFIX) else PREFIX + name
        section = any(k.startswith(env + "__") for k in known)
        if (env not in known and not section) or not path.is_file():
            continue
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if section:
            # The earlier documented form: a file named like a section holding JSON.
            try:
                loaded = json.loads(value)
            except ValueError:
                continue
            if isinstance(loaded, dict):
                node = values.setdefault(env[len(PREFIX) :].lower(), {})
                for key, item in loaded.items():
                    node.setdefault(str(key).lower(), item)
            continue
        parts = env[len(PREFIX) :].lower().split("__")
        node = values
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return values


class NestedSecretsSource(PydanticBaseSettingsSource):
    """A settings source for the files described in the module docstring."""

    def __init__(self, settings_cls: type[BaseSettings], directory: Path | None = None) -> None:
        super().__init__(settings_cls)
        self.directory = directory

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        from tierwise.config.catalog import settings_catalog

        known = {s.env for s in settings_catalog(self.settings_cls)}
        return read_secret_files(self.directory or secrets_dir(), known)
