"""The requests session every Salesforce call goes through.

simple-salesforce has no timeout parameter and its ``create``/``update``/``upsert``
pass no ``timeout`` to requests, so a session subclass supplies a default timeout to
every request (no request is ever sent without one). It also pins ``verify`` to the
configured CA bundle on each request: requests lets ``REQUESTS_CA_BUNDLE`` override a
session-level ``verify``, a per-request value wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests


class TimeoutSession(requests.Session):
    def __init__(self, timeout: tuple[float, float], ca_bundle: Path | None = None) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.ca_bundle = str(ca_bundle) if ca_bundle is not None else None
        if self.ca_bundle is not None:
            self.verify = self.ca_bundle
        self.sent = 0  # requests sent through this session (call accounting)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.sent += 1
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        if self.ca_bundle is not None and kwargs.get("verify") is None:
            kwargs["verify"] = self.ca_bundle
        return super().request(method, url, *args, **kwargs)
