"""Human explanations of a decision for the CLI (``tierwise explain``).

The one-line ``Decision.reason`` has to fit a CRM text field; when a rep or a
RevOps lead asks "why?", they deserve the whole breakdown, signal by signal,
including which facts were missing and so scored by the model's fallback.
"""

from __future__ import annotations

from tierwise.tiering.records import Decision


def format_decision(decision: Decision) -> str:
    """A multi-line explanation: outcome, rule, play, then the score breakdown."""
    previous = decision.previous_tier or "(new)"
    lines = [
        f"{decision.key}: {decision.tier_label} ({decision.tier}), score {decision.score:.2f}",
        f"  previous tier: {previous}{'' if decision.changed else ' (unchanged)'}",
        f"  decided by:    {decision.rule}",
        f"  reason:        {decision.reason}",
    ]
    if decision.next_tier:
        lines.append(f"  next tier:     {decision.next_tier}")
    if decision.play is not None:
        play = decision.play
        lines.append(
            f"  play:          {play.name} - {play.motion} (first touch within {play.sla_hours} h)"
        )
        lines.extend(
            f"    task: {task.subject} (due in {task.due_business_days} business days, "
            f"{task.owner}, {task.priority})"
            for task in play.tasks
        )
    lines.append("  breakdown:")
    for group in decision.groups:
        sign = "-" if group.subtracts else "+"
        lines.append(f"    {sign} {group.name:<14} {group.points:6.2f} / {group.max_points:g}")
        for signal in group.signals:
            note = " (missing: fallback value)" if signal.missing else ""
            detail = f"  {signal.detail}" if signal.detail and not signal.missing else ""
            lines.append(
                f"        {signal.name:<22} {signal.points:6.2f} / "
                f"{signal.max_points:g}{detail}{note}"
            )
    if decision.missing_signals:
        lines.append(f"  missing data:  {', '.join(decision.missing_signals)}")
    return "\n".join(lines)
