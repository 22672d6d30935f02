"""A prompt's pass rate over time: per run and per version, each with its 95 % interval, as a table and a plot.

Built from the store (every run of the prompt, served requests excluded), so it covers runs from notebooks,
the CLI, the UI and nightly jobs alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.compare import wilson_interval
from workbench.store import Store


def trend(store: Store, prompt: str, model: str | None = None) -> Any:
    """One line per (run, version, model): started_at, n judged, passed, pass_rate, ci_low, ci_high."""
    import pandas as pd

    sql = (
        "SELECT r.id AS run_id, r.started_at, x.version, x.model, SUM(x.passed IS NOT NULL) AS n,"
        " COALESCE(SUM(x.passed), 0) AS passed FROM results x JOIN runs r ON r.id = x.run_id"
        " WHERE x.prompt = ? AND r.status NOT IN ('serving', 'stopped')"
    )
    params: list[Any] = [prompt]
    if model:
        sql += " AND x.model = ?"
        params.append(model)
    rows = [dict(r) for r in store.query(sql + " GROUP BY r.id, x.version, x.model ORDER BY r.started_at", params)]
    rows = [r for r in rows if r["n"]]
    for row in rows:
        ci = wilson_interval(row["passed"], row["n"])
        row["pass_rate"] = round(row["passed"] / row["n"], 4)
        row["ci_low"], row["ci_high"] = ci if ci else (None, None)
    columns = ["run_id", "started_at", "version", "model", "n", "passed", "pass_rate", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def by_version(table: Any) -> Any:
    """Pool every run of each version × model: one line per version with its interval."""
    import pandas as pd

    if table.empty:
        return table
    pooled = table.groupby(["version", "model"], as_index=False)[["n", "passed"]].sum()
    intervals = [wilson_interval(int(p), int(n)) for p, n in zip(pooled["passed"], pooled["n"], strict=True)]
    pooled["pass_rate"] = (pooled["passed"] / pooled["n"]).round(4)
    pooled["ci_low"] = [ci[0] for ci in intervals]
    pooled["ci_high"] = [ci[1] for ci in intervals]
    return pd.DataFrame(pooled)


def plot_trend(table: Any, path: str | Path | None = None, *, title: str = "") -> Any:
    """Pass rate per run with 95 % error bars, one series per model, version labels on the points.
    Saved as PNG or SVG when ``path`` is given; returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    from workbench.plotting import figure

    fig, ax = figure(8, 4)
    for model, group in table.groupby("model", sort=False):
        x = list(range(len(group))) if len(table["model"].unique()) == 1 else list(group.index)
        low = group["pass_rate"] - group["ci_low"]
        high = group["ci_high"] - group["pass_rate"]
        ax.errorbar(x, group["pass_rate"], yerr=[low, high], marker="o", capsize=4, label=str(model))
        for xi, (_, line) in zip(x, group.iterrows(), strict=True):
            ax.annotate(
                f"v{line['version']}",
                (xi, line["pass_rate"]),
                textcoords="offset points",
                xytext=(0, 8),
                ha="center",
                fontsize=8,
            )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("pass rate (95% CI)")
    ax.set_xlabel("run (oldest → newest)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    return fig
