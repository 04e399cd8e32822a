"""The emulated Salesforce org's two failures: one record's, and a whole request's.

Apart from the org (``sf_store.py``) so each of its parts (schema, writes, queries) and
the HTTP layers that answer with them (``salesforce.py``, ``bulk.py``,
``sf_bulk_query.py``) share the same types without a cycle of imports.
"""

from __future__ import annotations

from typing import Any


class RecordError(Exception):
    """A per-record failure (collections result / single-record 400)."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or []

    def as_dict(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


class RequestError(Exception):
    """A whole-request failure: HTTP status plus errorCode/message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
