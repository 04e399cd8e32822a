"""HubSpot objects in compact storage: five slots per object instead of a dict each.

The sandbox holds up to a million companies per portal (issue 15: "the sandbox at that
scale"); an object has the CRM objects API's wire shape (``id``, ``properties``,
``createdAt``, ``updatedAt``, ``archived``: developers.hubspot.com/docs/api/crm/
understanding-the-crm) as a mapping over slots, read and written as the dict it replaces.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any, Final

from tierwise.sandbox.clock import hs_from_ms
from tierwise.sandbox.records import Record


class HubSpotObject(MutableMapping[str, Any]):
    """``{"id", "properties", "createdAt", "updatedAt", "archived"}`` in five slots."""

    __slots__ = ("archived", "createdAt", "id", "properties", "updatedAt")
    KEYS: Final = ("id", "properties", "createdAt", "updatedAt", "archived")

    def __init__(
        self,
        object_id: str,
        properties: Record,
        created: str | int,
        updated: str | int,
        archived: bool,
    ) -> None:
        self.id = object_id
        self.properties = properties
        self.createdAt = created
        self.updatedAt = updated
        self.archived = archived

    def __getitem__(self, name: str) -> Any:
        if name not in self.KEYS:
            raise KeyError(name)
        value = getattr(self, name)
        if value.__class__ is int and name in ("createdAt", "updatedAt"):
            return hs_from_ms(value)  # a seeded stamp (Layout's decode)
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in self.KEYS:
            raise KeyError(f"a HubSpot object holds only {', '.join(self.KEYS)}: {name}")
        setattr(self, name, value)

    def __delitem__(self, name: str) -> None:
        raise KeyError(f"{name} cannot be removed from a HubSpot object")

    def __iter__(self) -> Iterator[str]:
        return iter(self.KEYS)

    def __len__(self) -> int:
        return len(self.KEYS)

    def __repr__(self) -> str:
        return repr(dict(self))
