"""Progress reporting for long steps; the CLI plugs in rich bars on a terminal."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def step(self, label: str, total: int | None = None) -> None: ...

    def advance(self, count: int = 1) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    def step(self, label: str, total: int | None = None) -> None:
        return None

    def advance(self, count: int = 1) -> None:
        return None

    def close(self) -> None:
        return None
