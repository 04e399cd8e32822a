"""HubSpot's native ICP tier and target-account flag: written only where tierwise owns them.

``hs_ideal_customer_profile`` (tier_1..tier_3) and ``hs_is_target_account`` are account-
based-marketing state that marketers and other tools set by hand (CRM-API-NOTES §2.12).
With ``write_native_icp`` on, tierwise mirrors its tier into them, but never clears or
overwrites a value it did not set. What it last wrote is kept *in the portal*, in its own
property ``tierwise_native_icp`` ("tier_1|true"), so every run - a fresh process, a new
host, a rebuilt state store - can tell its own values from someone else's:

- the portal still holds exactly the marker's values (or, with no marker yet, nothing at
  all): tierwise owns them and moves them with the tier;
- anything else: someone changed them; tierwise leaves both alone from then on.

This module only decides; the connector reads the current values and sends the writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ICP_PROPERTY = "hs_ideal_customer_profile"
TARGET_ACCOUNT_PROPERTY = "hs_is_target_account"
MARKER_PROPERTY = "tierwise_native_icp"
PROPERTIES = (ICP_PROPERTY, TARGET_ACCOUNT_PROPERTY, MARKER_PROPERTY)

# (ICP tier, target flag, tierwise's marker or None) as the portal holds them.
Held = tuple[str, str, str | None]


@dataclass
class NativeIcp:
    """What each company holds, and the writes a new tier calls for."""

    options: frozenset[str] = frozenset()  # the ICP property's tiers (tier_1..tier_3)
    held: dict[str, Held] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)  # companies whose values are someone else's

    def remember(self, crm_id: str, props: Mapping[str, Any]) -> None:
        """Note what the portal holds for a company (from a pull or a batch read)."""
        marker = props.get(MARKER_PROPERTY)
        self.held[crm_id] = (
            str(props.get(ICP_PROPERTY) or ""),
            str(props.get(TARGET_ACCOUNT_PROPERTY) or ""),
            None if marker in (None, "") else str(marker),
        )

    def writes(self, crm_id: str, tier: object) -> dict[str, str]:
        """The native properties to send for a company's new tier; {} when tierwise does
        not own them or they already hold what it would write."""
        native = isinstance(tier, str) and tier in self.options
        want = (str(tier) if native else "", "true" if native else "false")
        icp, target, marker = self.held.get(crm_id, ("", "", None))
        unset_target = target in ("", "false")
        if marker is None:
            owned = icp == "" and unset_target
            if owned and not native:
                return {}  # nothing set, nothing to set: the portal's defaults stay
        else:
            mine_icp, _, mine_target = marker.partition("|")
            owned = icp == mine_icp and (
                target == mine_target or (unset_target and mine_target in ("", "false"))
            )
        stamp = "|".join(want)
        if not owned:
            self.kept.add(crm_id)
            return {}
        if (icp, target, marker) == (want[0], want[1], stamp):
            return {}
        self.held[crm_id] = (want[0], want[1], stamp)
        return {ICP_PROPERTY: want[0], TARGET_ACCOUNT_PROPERTY: want[1], MARKER_PROPERTY: stamp}
