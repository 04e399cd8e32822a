"""A run's accounts as columns: what ``sync`` hands the core for a large population.

``tier_accounts`` reads its input a column at a time (every key, every owner, every
field map) and only a decision that is built reads one account whole. Holding a
million frozen ``AccountInput`` records just to read them back as columns costs a
second or two and a hundred megabytes, so ``AccountColumns`` keeps the five columns
and builds an ``AccountInput`` when one is indexed or iterated; ``column`` reads a
column off either form.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, overload

from tierwise.tiering.records import AccountInput, FieldValue


class AccountColumns(Sequence[AccountInput]):
    """Accounts as parallel lists (see the module docstring); equal to the list of the
    same ``AccountInput``s."""

    __slots__ = ("fields", "keys", "manual_tier_until", "manual_tiers", "owners")

    def __init__(
        self,
        keys: list[str],
        fields: list[Mapping[str, FieldValue]],
        manual_tiers: list[str | None],
        manual_tier_until: list[date | None],
        owners: list[str | None],
    ) -> None:
        self.keys = keys
        self.fields = fields
        self.manual_tiers = manual_tiers
        self.manual_tier_until = manual_tier_until
        self.owners = owners

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> AccountInput: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[AccountInput]: ...

    def __getitem__(self, index: int | slice) -> AccountInput | Sequence[AccountInput]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return AccountInput(
            self.keys[index],
            self.fields[index],
            self.manual_tiers[index],
            self.manual_tier_until[index],
            self.owners[index],
        )

    def __iter__(self) -> Iterator[AccountInput]:
        return map(
            AccountInput,
            self.keys,
            self.fields,
            self.manual_tiers,
            self.manual_tier_until,
            self.owners,
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AccountColumns | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by value, like a list

    def __repr__(self) -> str:
        return f"AccountColumns({list(self)!r})"


_COLUMNS = {
    "key": "keys",
    "fields": "fields",
    "manual_tier": "manual_tiers",
    "manual_tier_until": "manual_tier_until",
    "owner": "owners",
}


def column(accounts: Sequence[AccountInput], name: str) -> list[Any]:
    """One ``AccountInput`` attribute of every account, in order (a new list)."""
    if isinstance(accounts, AccountColumns):
        return list(getattr(accounts, _COLUMNS[name]))
    return [getattr(account, name) for account in accounts]
