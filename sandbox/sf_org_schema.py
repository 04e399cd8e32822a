"""The org's objects and fields as its API user sees them, and its record ids.

``OrgSchema`` is the base mixin of ``SalesforceOrg`` (``sf_store.py``). Kept apart so the
org stays a readable size; it is the base of the seed, write and query mixins because
they all call its lookups (``field``, ``object_name``, ``editable``, ...) and its ids
(``new_id``, ``norm_id``), which they then need not declare.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import MutableMapping
from typing import Any

from tierwise.sandbox.clock import sf_from_ms
from tierwise.sandbox.records import Layout, Record
from tierwise.sandbox.sf_errors import RequestError
from tierwise.sandbox.sf_schema import KEY_PREFIX, FieldDef

# Seeded datetimes are kept as epoch milliseconds and print in wire form (records.Layout).
_SEEDED_STAMPS = dict.fromkeys(("CreatedDate", "LastModifiedDate", "SystemModstamp"), sf_from_ms)

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(id15: str) -> str:
    """The case-safe 18-character form of a 15-character Salesforce id."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for pos, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << pos
        suffix += _SUFFIX[bits]
    return id15 + suffix


class OrgSchema:
    """Schemas, the API user's field access, and new ids; ``SalesforceOrg.__init__`` sets
    the attributes declared here."""

    lock: threading.RLock
    api_user_id: str
    schemas: dict[str, dict[str, FieldDef]]
    _lower: dict[str, dict[str, str]]
    objects: dict[str, dict[str, MutableMapping[str, Any]]]
    deleted: dict[str, dict[str, MutableMapping[str, Any]]]
    layouts: dict[str, Layout]
    _counters: dict[str, itertools.count[int]]
    _ext_index: dict[tuple[str, str], dict[str, list[str]]]
    _readable: set[tuple[str, str]]
    _editable: set[tuple[str, str]]

    # ---- schema -----------------------------------------------------------------------------

    def _define(self, name: str, fields: list[FieldDef]) -> None:
        self.schemas[name] = {f.name: f for f in fields}
        self._lower[name] = {f.name.lower(): f.name for f in fields}
        self.layouts[name] = Layout([f.name for f in fields], decode=_SEEDED_STAMPS)
        self.objects.setdefault(name, {})
        self.deleted.setdefault(name, {})

    def add_field(self, object_name: str, fdef: FieldDef) -> None:
        with self.lock:
            self.schemas[object_name][fdef.name] = fdef
            self._lower[object_name][fdef.name.lower()] = fdef.name
            if fdef.external_id:
                self._ext_index[(object_name, fdef.name)] = {}
            default = fdef.default
            # Every existing record gains the field at its default: for compact records
            # that is the layout's fallback (O(1)); a deleted record does not gain it.
            layout = self.layouts[object_name]
            for gone in self.deleted[object_name].values():
                if isinstance(gone, Record):
                    gone.pin(fdef.name)
            layout.set_fallback(fdef.name, default)
            for record in self.objects[object_name].values():
                if not isinstance(record, Record):
                    record.setdefault(fdef.name, default)

    def object_name(self, name: str) -> str:
        for known in self.schemas:
            if known.lower() == name.lower():
                return known
        raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")

    def field(self, object_name: str, name: str) -> FieldDef | None:
        """The field as the API user sees it: None when it does not exist OR when the user
        has no Read on it (the API answers both the same way [sf-entityparticle])."""
        canonical = self._lower[object_name].get(name.lower())
        if canonical is None:
            return None
        fdef = self.schemas[object_name][canonical]
        return fdef if self.readable(object_name, fdef) else None

    def readable(self, object_name: str, fdef: FieldDef) -> bool:
        return not fdef.hidden or (object_name, fdef.name) in self._readable

    def editable(self, object_name: str, fdef: FieldDef) -> bool:
        return not fdef.hidden or (object_name, fdef.name) in self._editable

    def visible_fields(self, object_name: str) -> list[FieldDef]:
        return [f for f in self.schemas[object_name].values() if self.readable(object_name, f)]

    def refresh_access(self) -> None:
        """Recompute the API user's field access: FieldPermissions of the permission sets
        ASSIGNED to that user (PermissionSetAssignment) [sf-fieldperms] [sf-psa]."""
        assigned = {
            r["PermissionSetId"]
            for r in self.objects["PermissionSetAssignment"].values()
            if r.get("AssigneeId") == self.api_user_id
        }
        readable: set[tuple[str, str]] = set()
        editable: set[tuple[str, str]] = set()
        for row in self.objects["FieldPermissions"].values():
            if row.get("ParentId") not in assigned:
                continue
            object_name, _, field_name = str(row.get("Field") or "").partition(".")
            if row.get("PermissionsRead"):
                readable.add((object_name, field_name))
            if row.get("PermissionsEdit"):
                editable.add((object_name, field_name))
        self._readable, self._editable = readable, editable

    # ---- ids --------------------------------------------------------------------------------

    def new_id(self, object_name: str) -> str:
        prefix = KEY_PREFIX.get(object_name, "a00")
        counter = self._counters.setdefault(prefix, itertools.count(1))
        n = next(counter)
        digits = ""
        for _ in range(9):
            n, rem = divmod(n, 62)
            digits = _B62[rem] + digits
        return id18(f"{prefix}Hn0{digits}")

    @staticmethod
    def norm_id(record_id: str) -> str:
        return id18(record_id) if len(record_id) == 15 else record_id
