"""Transport-neutral request/response values and a small regex router.

The CRM emulators are plain objects that map a :class:`Request` to a
:class:`Response`; :mod:`tierwise.sandbox.server` owns sockets, TLS, faults and accounting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tierwise.sandbox.faults import FaultRule


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    record_faults: list[FaultRule] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    target_length: int = 0

    @classmethod
    def build(cls, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Request:
        path, _, qs = target.partition("?")
        return cls(
            method.upper(),
            path,
            parse_qs(qs, keep_blank_values=True),
            headers,
            body,
            target_length=len(target),
        )

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    records: int = 0

    @classmethod
    def json(
        cls, status: int, payload: Any, *, records: int = 0, headers: dict[str, str] | None = None
    ) -> Response:
        hdrs = {"Content-Type": "application/json;charset=UTF-8"}
        hdrs.update(headers or {})
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, body, hdrs, records)

    @classmethod
    def text(cls, status: int, text: str, content_type: str, *, records: int = 0) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": content_type}, records)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    template: str
    handler: Handler


class Router:
    """Routes by method and full-match regex; named groups become ``request.params``."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, regex: str, template: str, handler: Handler) -> None:
        self._routes.append(Route(method.upper(), re.compile(regex), template, handler))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route, its params, and whether the path matched under another method."""
        path_matched = False
        for route in self._routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if route.method != method.upper():
                path_matched = True
                continue
            return route, {k: v for k, v in found.groupdict().items() if v is not None}, True
        return None, {}, path_matched


class ApiError(Exception):
    """Raised inside a handler to answer with an error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response
