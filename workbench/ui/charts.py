"""Charts people read at a glance, as inline SVG (they render in JupyterLab and in exported HTML): pass rate per
column with its 95 % interval as an error bar, and the latency distribution with labelled axes."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from workbench.i18n import DEFAULT, Messages
from workbench.plotting import figure, to_svg

ENGLISH = Messages(DEFAULT)


def pass_rate_chart(summary: Any, say: Messages = ENGLISH) -> str:
    """One bar per column (prompt version × model): the pass rate, its Wilson 95 % interval, and n."""
    if summary is None or summary.empty:
        return ""
    rows = summary.reset_index(drop=True)
    fig, ax = figure(7.5, 0.55 * len(rows) + 1.3)
    labels = [str(c) for c in rows["column"]]
    rates = [float(r) if r is not None and r == r else 0.0 for r in rows["pass_rate"]]
    lows = [rate - (ci[0] if ci else rate) for rate, ci in zip(rates, rows["ci95"], strict=True)]
    highs = [(ci[1] if ci else rate) - rate for rate, ci in zip(rates, rows["ci95"], strict=True)]
    positions = list(range(len(rows)))[::-1]
    judged = [int(j) for j in rows["judged"]]
    colors = ["#3f7fbf" if j else "#bbbbbb" for j in judged]
    ax.barh(positions, rates, xerr=[lows, highs], color=colors, capsize=4, error_kw={"elinewidth": 1.2})
    for y, rate, n, errors in zip(positions, rates, judged, rows["errors"], strict=True):
        text = say("charts.rate_of", rate=rate, n=n) if n else say("charts.no_judged", errors=int(errors))
        ax.text(1.02, y, text, va="center", fontsize=9, transform=ax.get_yaxis_transform())
    ax.set_yticks(positions, labels, fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_xlabel(say("charts.pass_rate_axis"))
    ax.set_title(say("charts.pass_rate_title"), fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    return to_svg(fig)


def latency_histogram(latencies: Sequence[float | None], *, title: str | None = None, say: Messages = ENGLISH) -> str:
    title = title or say("charts.latency_title")
    values = [float(v) for v in latencies if v is not None]
    if not values:
        return f"<div>{html.escape(say('charts.no_timed', title=title))}</div>"
    fig, ax = figure(7.0, 2.8)
    ax.hist(values, bins=min(20, max(5, len(values) // 3)), color="#7f9f3f", edgecolor="white")
    ax.set_xlabel(say("charts.latency_axis"))
    ax.set_ylabel(say("charts.calls"))
    median = sorted(values)[len(values) // 2]
    ax.set_title(say("charts.latency_heading", title=title, n=len(values), median=median), fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    return to_svg(fig)


def trend_chart(table: Any, title: str) -> str:
    from workbench.trend import plot_trend

    if table is None or table.empty:
        return ""
    return to_svg(plot_trend(table, title=title))


def version_trend_chart(report: Any, say: Messages = ENGLISH) -> str:
    """The pass rate of each prompt version with its 95 % interval, one line per model, dataset content and
    generation parameters: the per-version figures :func:`workbench.trend.trend` computed (each row counted once),
    drawn, not recomputed."""
    from workbench.trend import line_label

    versions = getattr(report, "versions", None)
    if not versions:
        return ""
    series: dict[str, list[dict[str, Any]]] = {}
    for point in versions:
        series.setdefault(line_label(point), []).append(point)
    fig, ax = figure(7.5, 3.4)
    for label, points in series.items():
        points = sorted(points, key=lambda p: p["version"])
        x = [p["version"] for p in points]
        rates = [p["pass_rate"] or 0.0 for p in points]
        low = [rate - (p["ci_low"] if p["ci_low"] is not None else rate) for rate, p in zip(rates, points, strict=True)]
        high = [
            (p["ci_high"] if p["ci_high"] is not None else rate) - rate for rate, p in zip(rates, points, strict=True)
        ]
        ax.errorbar(x, rates, yerr=[low, high], marker="o", capsize=4, label=label)
        for xi, rate, point in zip(x, rates, points, strict=True):
            ax.annotate(
                say("charts.rate_of", rate=rate, n=point["rows"]),
                (xi, rate),
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
            )
    every = sorted({p["version"] for p in versions})
    ax.set_xticks(every, [f"v{v}" for v in every])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(say("charts.version_axis"))
    ax.set_ylabel(say("charts.pass_rate_ci_axis"))
    if report.dataset:
        ax.set_title(say("charts.per_version_title_on", prompt=report.prompt, dataset=report.dataset))
    else:
        ax.set_title(say("charts.per_version_title", prompt=report.prompt))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return to_svg(fig)
