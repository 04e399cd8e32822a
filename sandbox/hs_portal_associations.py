"""A HubSpot portal's associations: links between objects, both ways, with type ids.

A mixin of ``HubSpotPortal`` (``hs_store.py``), kept apart so the portal stays a
readable size. Each direction keeps its links as one small tuple per object (see
``associate``), and each association type id has its inverse (``_inverse``).
"""

from __future__ import annotations

from collections.abc import Iterable


class PortalAssociations:
    """Association links; ``HubSpotPortal.__init__`` sets ``_links``."""

    # (from type, to type) -> from id -> (to id, type id, to id, type id, ...).
    _links: dict[tuple[str, str], dict[str, tuple[str | int, ...]]]

    # ---- associations -----------------------------------------------------------------------

    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: Iterable[int]
    ) -> None:
        """Link both ways; each direction keeps its (to id, type id) pairs in link order."""
        for type_id in type_ids:
            self._link(from_type, from_id, to_type, to_id, type_id)
            self._link(to_type, to_id, from_type, from_id, _inverse(type_id))

    def _link(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> None:
        links = self._links.setdefault((from_type, to_type), {})
        pairs = links.get(from_id, ())
        for at in range(0, len(pairs), 2):
            if pairs[at] == to_id and pairs[at + 1] == type_id:
                return
        links[from_id] = (*pairs, to_id, type_id)

    def associated(self, from_type: str, from_id: str, to_type: str) -> dict[str, set[int]]:
        """to id -> association type ids (a fresh dict, in the order the links were made)."""
        pairs = self._links.get((from_type, to_type), {}).get(from_id, ())
        out: dict[str, set[int]] = {}
        for at in range(0, len(pairs), 2):
            out.setdefault(str(pairs[at]), set()).add(int(pairs[at + 1]))
        return out


def _inverse(type_id: int) -> int:
    pairs = {
        192: 191,
        191: 192,
        204: 203,
        203: 204,
        279: 280,
        280: 279,
        1: 2,
        2: 1,
        341: 342,
        342: 341,
        5: 6,
        6: 5,
    }
    return pairs.get(type_id, type_id)
