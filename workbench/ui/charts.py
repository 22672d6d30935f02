"""Small inline SVG charts (no plotting library needed): pass rate per version/model, latency histogram."""

from __future__ import annotations

import html
from collections.abc import Sequence


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, maximum: float = 1.0,
              fmt: str = "{:.0%}") -> str:  # fmt: skip
    width, row, label_w = 520, 22, 220
    height = row * len(labels) + 30
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 24 + i * row
        w = 0 if maximum <= 0 else max(0.0, min(1.0, value / maximum)) * (width - label_w - 60)
        bars.append(
            f"<text x='0' y='{y + 14}' font-size='12'>{html.escape(label[:34])}</text>"
            f"<rect x='{label_w}' y='{y}' width='{w:.1f}' height='{row - 6}' fill='#3f7fbf'/>"
            f"<text x='{label_w + w + 4:.1f}' y='{y + 13}' font-size='12'>{html.escape(fmt.format(value))}</text>"
        )
    return (
        f"<svg class='wb-chart' width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"
        f"<text x='0' y='14' font-size='13' font-weight='bold'>{html.escape(title)}</text>{''.join(bars)}</svg>"
    )


def histogram(values: Sequence[float], *, title: str, bins: int = 10, unit: str = "ms") -> str:
    values = [v for v in values if v is not None]
    if not values:
        return f"<div>{html.escape(title)}: no data</div>"
    lo, hi = min(values), max(values)
    step = (hi - lo) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / step))] += 1
    width, height, top = 520, 140, max(counts)
    bar_w = (width - 20) / bins
    bars = "".join(
        f"<rect x='{10 + i * bar_w:.1f}' y='{20 + (height - 40) * (1 - c / top):.1f}' width='{bar_w - 2:.1f}' "
        f"height='{(height - 40) * c / top:.1f}' fill='#7f9f3f'><title>{c}</title></rect>"
        for i, c in enumerate(counts)
    )
    return (
        f"<svg class='wb-chart' width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>"
        f"<text x='0' y='14' font-size='13' font-weight='bold'>{html.escape(title)}</text>{bars}"
        f"<text x='10' y='{height - 5}' font-size='11'>{lo:.0f} {unit}</text>"
        f"<text x='{width - 80}' y='{height - 5}' font-size='11'>{hi:.0f} {unit}</text></svg>"
    )
