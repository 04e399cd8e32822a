"""Text, CSV and HTML forms of the outcome report."""

from __future__ import annotations

import csv
from dataclasses import asdict, fields
from html import escape
from pathlib import Path

from tierwise.sync.outcomes import charts
from tierwise.sync.outcomes.report import ALL, BASELINE, OutcomeReport, TierRow


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _money(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            return f"${value / size:,.1f}{unit}"
    return f"${value:,.0f}"


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


COLUMNS: tuple[tuple[str, str], ...] = (
    ("label", "tier"),
    ("accounts", "accounts"),
    ("open_pipeline", "open pipe"),
    ("win_rate", "win rate"),
    ("win_rate_vs_baseline", "vs base"),
    ("avg_deal_size", "avg deal"),
    ("days_to_close", "days"),
    ("pipeline_per_account", "pipe/acct"),
    ("revenue_share", "rev share"),
)


def _cell(row: TierRow, name: str) -> str:
    value = getattr(row, name)
    if name in ("win_rate", "revenue_share"):
        return _pct(value)
    if name == "win_rate_vs_baseline":
        return "-" if value is None else f"{value:.2f}x"
    if name in ("open_pipeline", "avg_deal_size", "pipeline_per_account"):
        return _money(value)
    if name == "days_to_close":
        return _num(value)
    return str(value) if not isinstance(value, float) else _num(value)


def text_table(report: OutcomeReport) -> str:
    head = [title for _, title in COLUMNS]
    body = [[_cell(r, name) for name, _ in COLUMNS] for r in report.rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [
        f"Outcomes by tier, {report.since} .. {report.until} "
        f"(deals closed/created in the period; tiers as of {report.until})",
        line(head),
        line(["-" * w for w in widths]),
    ]
    out += [line(cells) for cells in body]
    if report.unmatched_deals:
        out.append(f"{report.unmatched_deals} deals belong to accounts tierwise has not pulled.")
    if report.volatility is not None:
        from tierwise.sync.outcomes.volatility import volatility_text

        out += ["", volatility_text(report.volatility)]
    return "\n".join(out)


def write_csv(report: OutcomeReport, path: Path) -> None:
    names = [f.name for f in fields(TierRow)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["since", "until", *names])
        writer.writeheader()
        for row in report.rows:
            writer.writerow(
                {
                    "since": report.since.isoformat(),
                    "until": report.until.isoformat(),
                    **asdict(row),
                }
            )


def html_page(report: OutcomeReport) -> str:
    tiers = [r for r in report.rows if r.tier != ALL]
    funnel = charts.funnel_chart(
        "Tier funnel: accounts, with new deals, with a win (in the period)",
        ("accounts", "with new deals", "with a win"),
        [(r.label, (r.accounts, r.accounts_with_new_deals, r.accounts_won)) for r in tiers],
    )
    win = charts.bar_chart(
        "Win rate by tier (%)",
        [(r.label, 100 * (r.win_rate or 0.0)) for r in tiers],
        fmt="{:.1f}%",
    )
    hist = charts.histogram(
        "Score distribution with tier boundaries",
        [s for _, s in report.scores],
        report.boundaries,
    )
    head = "".join(f"<th>{escape(t)}</th>" for _, t in COLUMNS)
    rows = "".join(
        "<tr"
        + (' class="base"' if r.tier in (BASELINE, ALL) else "")
        + ">"
        + "".join(f"<td>{escape(_cell(r, n))}</td>" for n, _ in COLUMNS)
        + "</tr>"
        for r in report.rows
    )
    volatility = ""
    if report.volatility is not None:
        from tierwise.sync.outcomes.volatility import volatility_text

        volatility = f"<h2>Volatility</h2><pre>{escape(volatility_text(report.volatility))}</pre>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>tierwise outcomes {report.since} .. {report.until}</title>"
        "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto}"
        "table{border-collapse:collapse}td,th{padding:4px 8px;border-bottom:1px solid #ddd;"
        "text-align:right}td:first-child,th:first-child{text-align:left}"
        ".base td{background:#f3f3f3}</style></head><body>"
        f"<h1>Outcomes by tier</h1><p>Period {report.since} .. {report.until}. Deals closed "
        "(win rate, deal size, days to close, revenue) or created (pipeline) in the period; "
        f"tiers as of {report.until}. Baseline = unqualified + never tiered.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        f"<h2>Funnel</h2>{funnel}<h2>Win rate</h2>{win}<h2>Scores</h2>{hist}{volatility}"
        "</body></html>"
    )
