"""Issue 16, coverage and motions: capacity report, audience export, planned spend.

Everything here reads the state store (the last pulled data and tier history) and
calls the same pure ``tiering.tier_accounts`` the run uses, so a report can never
disagree with the tiers a run writes; nothing here talks to a CRM.
"""
