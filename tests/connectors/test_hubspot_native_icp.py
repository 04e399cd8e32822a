"""Who owns HubSpot's native ICP values (``tierwise.connectors.hubspot.native_icp``), as a table."""

from __future__ import annotations

import pytest

from tierwise.connectors.hubspot.native_icp import NativeIcp

TIERS = frozenset({"tier_1", "tier_2", "tier_3"})
ICP, TARGET, MARK = "hs_ideal_customer_profile", "hs_is_target_account", "tierwise_native_icp"


@pytest.mark.parametrize(
    ("held", "tier", "expected"),
    [
        # nobody set anything: tierwise takes them for a native tier, leaves them otherwise
        ({}, "tier_1", {ICP: "tier_1", TARGET: "true", MARK: "tier_1|true"}),
        ({TARGET: "false"}, "tier_2", {ICP: "tier_2", TARGET: "true", MARK: "tier_2|true"}),
        ({}, "tier_4", {}),
        # a marketer's values, no marker: never touched
        ({TARGET: "true"}, "tier_1", {}),
        ({ICP: "tier_3"}, "tier_1", {}),
        ({ICP: "tier_3", TARGET: "true"}, "tier_4", {}),
        # tierwise's own values (marker matches): moved, and cleared when the tier leaves
        (
            {ICP: "tier_1", TARGET: "true", MARK: "tier_1|true"},
            "tier_2",
            {ICP: "tier_2", TARGET: "true", MARK: "tier_2|true"},
        ),
        (
            {ICP: "tier_1", TARGET: "true", MARK: "tier_1|true"},
            "tier_4",
            {ICP: "", TARGET: "false", MARK: "|false"},
        ),
        ({ICP: "tier_1", TARGET: "true", MARK: "tier_1|true"}, "tier_1", {}),
        # someone changed what tierwise had written: theirs from now on
        ({ICP: "tier_3", TARGET: "true", MARK: "tier_1|true"}, "tier_2", {}),
        ({ICP: "tier_1", TARGET: "false", MARK: "tier_1|true"}, "tier_4", {}),
        ({ICP: "", TARGET: "true", MARK: "|false"}, "tier_2", {}),
    ],
)
def test_native_values_move_only_while_tierwise_owns_them(
    held: dict[str, str], tier: str, expected: dict[str, str]
) -> None:
    native = NativeIcp(options=TIERS)
    native.remember("1", held)
    assert expected == native.writes("1", tier)
