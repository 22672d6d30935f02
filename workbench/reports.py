"""Views of result records: DataFrames, summaries, run comparisons, exports, cost estimates.

Records are the state; everything here is a view of them (pandas is imported lazily).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.store import ResultRecord

# Prices in US dollars per million tokens (input, output). Extend with register_price();
# unknown models cost "unknown" (NaN), local ones nothing.
PRICES: dict[str, tuple[float, float]] = {
    "local": (0.0, 0.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "deepseek-chat": (0.27, 1.10),
    "qwen-plus": (0.40, 1.20),
}

EXPORT_COLUMNS = [
    "prompt",
    "version",
    "model",
    "row_id",
    "repeat",
    "output",
    "parsed",
    "passed",
    "score",
    "reason",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "cached",
    "error",
]


def register_price(model: str, input_per_million: float, output_per_million: float) -> None:
    PRICES[model] = (input_per_million, output_per_million)


def price_for(model_spec: str) -> tuple[float, float] | None:
    if model_spec.startswith(("local", "mock", "echo", "function")):
        return PRICES["local"]
    name = model_spec.split(":", 1)[-1].split("@", 1)[0]
    return PRICES.get(name) or PRICES.get(model_spec)


def estimate_cost(model_spec: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    price = price_for(model_spec)
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


def _reason(record: ResultRecord) -> str:
    failed = [s for s in record.scores if not s.get("passed")]
    return "; ".join(f"{s['name']}: {s['reason']}" for s in (failed or record.scores))


def results_dataframe(records: Sequence[ResultRecord]) -> Any:
    """One row per cell: the dataset's columns, then prompt/version/model/output/passed/score/..."""
    import pandas as pd

    rows = []
    for r in records:
        row = dict(r.inputs)
        row.update(
            {
                "prompt": r.prompt,
                "version": r.version,
                "model": r.model,
                "row_id": r.row_id,
                "repeat": r.repeat,
                "output": r.output,
                "parsed": r.parsed,
                "passed": r.passed,
                "score": r.score,
                "reason": _reason(r),
                "latency_ms": r.latency_ms,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "cached": r.cached,
                "error": r.error,
                "result_id": r.id,
                "run_id": r.run_id,
                "rendered": r.rendered,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def summarize(records: Sequence[ResultRecord]) -> Any:
    """Per prompt version × model: cells, errors, pass rate, mean score, latency p50/p95, tokens, cost."""
    import pandas as pd

    df = results_dataframe(records)
    if df.empty:
        return pd.DataFrame()
    out = []
    for (prompt, version, model), group in df.groupby(["prompt", "version", "model"], sort=False):
        judged = group["passed"].dropna()
        latency = group.loc[group["error"].isna() & ~group["cached"].astype(bool), "latency_ms"].dropna()
        if latency.empty:
            latency = group["latency_ms"].dropna()
        p_tok = int(group["prompt_tokens"].fillna(0).sum())
        c_tok = int(group["completion_tokens"].fillna(0).sum())
        cost = estimate_cost(model, p_tok, c_tok)
        out.append(
            {
                "prompt": f"{prompt}@v{version}",
                "model": model,
                "cells": len(group),
                "errors": int(group["error"].notna().sum()),
                "passed": int(judged.astype(bool).sum()),
                "pass_rate": round(float(judged.astype(bool).mean()), 4) if len(judged) else None,
                "mean_score": round(float(group["score"].dropna().mean()), 4) if group["score"].notna().any() else None,
                "latency_p50_ms": round(float(latency.quantile(0.5)), 1) if len(latency) else None,
                "latency_p95_ms": round(float(latency.quantile(0.95)), 1) if len(latency) else None,
                "prompt_tokens": p_tok,
                "completion_tokens": c_tok,
                "cost_usd": None if cost is None else round(cost, 6),
                "cached": int(group["cached"].astype(bool).sum()),
            }
        )
    return pd.DataFrame(out)


def _side_key(record: ResultRecord) -> tuple[str, int]:
    return (record.row_id, record.repeat)


def _change(a: bool | None, b: bool | None) -> str:
    if a is None or b is None:
        return "n/a"
    if a and not b:
        return "pass→fail"
    if b and not a:
        return "fail→pass"
    return "still pass" if a else "still fail"


def compare_records(before: Sequence[ResultRecord], after: Sequence[ResultRecord]) -> Any:
    """Side by side on the same rows: output and verdict before/after, and what flipped."""
    import pandas as pd

    left = {_side_key(r): r for r in before}
    right = {_side_key(r): r for r in after}
    common = [k for k in right if k in left]
    if not common:
        raise WorkbenchError("The two result sets share no rows (compare runs over the same dataset).")
    rows = []
    for key in common:
        a, b = left[key], right[key]
        row = dict(b.inputs)
        row.update(
            {
                "row_id": key[0],
                "repeat": key[1],
                "before": f"{a.prompt}@v{a.version} · {a.model}",
                "after": f"{b.prompt}@v{b.version} · {b.model}",
                "output_before": a.output,
                "output_after": b.output,
                "passed_before": a.passed,
                "passed_after": b.passed,
                "change": _change(a.passed, b.passed),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def compare_versions(records: Sequence[ResultRecord], prompt: str, a: int, b: int, model: str | None = None) -> Any:
    """Compare two versions of one prompt inside a single run."""
    pick = [r for r in records if r.prompt == prompt and (model is None or r.model == model)]
    return compare_records([r for r in pick if r.version == a], [r for r in pick if r.version == b])


def flips(comparison: Any) -> dict[str, int]:
    counts = comparison["change"].value_counts().to_dict()
    return {k: int(counts.get(k, 0)) for k in ("fail→pass", "pass→fail", "still pass", "still fail")}


def export_results(records: Sequence[ResultRecord], path: str | Path) -> Path:
    """Write one row per cell to .csv, .jsonl or .html (dataset columns first)."""
    path = Path(path)
    df = results_dataframe(records)
    input_columns = [c for c in df.columns if c not in EXPORT_COLUMNS and c not in ("result_id", "run_id", "rendered")]
    df = df[input_columns + EXPORT_COLUMNS + ["result_id", "run_id"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for row in df.to_dict(orient="records"):
                fh.write(json.dumps(_plain(row), ensure_ascii=False, default=str) + "\n")
    elif suffix in (".html", ".htm"):
        summary = summarize(records)
        html = (
            "<!doctype html><meta charset='utf-8'><title>Workbench results</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:4px;vertical-align:top}</style><h1>Summary</h1>"
            + summary.to_html(index=False, na_rep="")
            + "<h1>Results</h1>"
            + df.to_html(index=False, na_rep="")
        )
        path.write_text(html, encoding="utf-8")
    else:
        raise WorkbenchError(f"Cannot export to {path}: use a .csv, .jsonl or .html file name.")
    return path


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, float) and v != v:
            v = None
        elif hasattr(v, "item"):
            v = v.item()
        out[k] = v
    return out
