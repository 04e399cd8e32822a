"""Inline SVG charts built in Python: no JavaScript, no CDN, paste-able into a review."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 640
COLOURS = ("#1f4e79", "#2e75b6", "#9dc3e6", "#c9d9ea", "#a6a6a6", "#595959")


def _svg(height: int, body: Sequence[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        'font-family="sans-serif" font-size="12">'
        f'<text x="4" y="14" font-weight="bold">{escape(title)}</text>' + "".join(body) + "</svg>"
    )


def bar_chart(title: str, items: Sequence[tuple[str, float]], fmt: str = "{:,.0f}") -> str:
    """Horizontal bars, one per (label, value)."""
    top = max((v for _, v in items), default=0.0) or 1.0
    row, left, right = 24, 250, 80
    span = WIDTH - left - right
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        y = 26 + i * row
        w = max(0.0, value) / top * span
        body.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
            f'fill="{COLOURS[i % len(COLOURS)]}"><title>{escape(label)}: '
            f"{escape(fmt.format(value))}</title></rect>"
            f'<text x="{left + w + 4:.1f}" y="{y + 14}">{escape(fmt.format(value))}</text>'
        )
    return _svg(30 + len(items) * row, body, title)


def funnel_chart(
    title: str, stages: Sequence[str], rows: Sequence[tuple[str, Sequence[float]]]
) -> str:
    """Per tier, one bar per funnel stage (e.g. accounts -> with new deals -> won)."""
    top = max((v for _, values in rows for v in values), default=0.0) or 1.0
    group_h, bar_h, left, right = 18 * len(stages) + 10, 16, 250, 80
    span = WIDTH - left - right
    body: list[str] = []
    for s, stage in enumerate(stages):
        body.append(
            f'<rect x="{left + s * 120}" y="22" width="10" height="10" '
            f'fill="{COLOURS[s % len(COLOURS)]}"/>'
            f'<text x="{left + s * 120 + 14}" y="31">{escape(stage)}</text>'
        )
    for i, (label, values) in enumerate(rows):
        y0 = 40 + i * group_h
        body.append(f'<text x="{left - 6}" y="{y0 + 14}" text-anchor="end">{escape(label)}</text>')
        for s, value in enumerate(values):
            y = y0 + s * 18
            w = max(0.0, value) / top * span
            body.append(
                f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{COLOURS[s % len(COLOURS)]}"/>'
                f'<text x="{left + w + 4:.1f}" y="{y + 13}">{value:,.0f}</text>'
            )
    return _svg(44 + len(rows) * group_h, body, title)


def histogram(
    title: str, scores: Sequence[float], boundaries: Sequence[tuple[str, float]], bins: int = 20
) -> str:
    """Score distribution 0..100 with a dashed line at each tier's lower boundary."""
    counts = [0] * bins
    for score in scores:
        counts[min(bins - 1, max(0, int(score / 100 * bins)))] += 1
    top = max(counts) or 1
    legend = 24 + 14 * len(boundaries)
    left, plot_h = 40, 180
    bottom = legend + plot_h + 10
    span = WIDTH - left - 20
    bw = span / bins
    body: list[str] = [
        f'<line x1="{left}" y1="{bottom}" x2="{left + span}" y2="{bottom}" stroke="#333"/>'
    ]
    for i, count in enumerate(counts):
        h = count / top * plot_h
        body.append(
            f'<rect x="{left + i * bw + 1:.1f}" y="{bottom - h:.1f}" width="{bw - 2:.1f}" '
            f'height="{h:.1f}" fill="{COLOURS[1]}"><title>{i * 100 // bins}-'
            f"{(i + 1) * 100 // bins}: {count}</title></rect>"
        )
    for tick in range(0, 101, 20):
        x = left + tick / 100 * span
        body.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">{tick}</text>')
    for n, (tier, bar) in enumerate(sorted(boundaries, key=lambda b: b[1])):
        x = left + min(100.0, max(0.0, bar)) / 100 * span
        label_y = 34 + 14 * n
        body.append(
            f'<line x1="{x:.1f}" y1="{label_y + 2}" x2="{x:.1f}" y2="{bottom}" '
            f'stroke="#c00000" stroke-dasharray="4 3"/>'
            f'<text x="{x + 3:.1f}" y="{label_y}" fill="#c00000">'
            f"{escape(tier)} ≥ {bar:.1f}</text>"
        )
    return _svg(bottom + 22, body, title)
