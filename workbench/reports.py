"""Views of result records: the per-cell DataFrame, the summary (pass rate with its 95 % interval), the HTML report
(files are written by :mod:`workbench.exports`).

Records are the state; everything here is a view of them (pandas is imported lazily). Costs are what the
recorder computed from each model's declared price when the call was made (``details.cost_usd``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from workbench.compare import matrix, min_detectable_difference, wilson_interval
from workbench.errors import WorkbenchError
from workbench.store import ResultRecord


def results_dataframe(records: Sequence[ResultRecord]) -> Any:
    """One row per cell: the dataset's columns, then column/prompt/version/model/output/passed/score/..."""
    import pandas as pd

    rows = []
    for r in records:
        row = dict(r.inputs)
        row.update(
            {
                "column": str(r.column),
                "prompt": r.prompt,
                "version": r.version,
                "model": r.model,
                "row_id": r.row_id,
                "repeat": r.repeat,
                "output": r.output,
                "parsed": r.parsed,
                "passed": r.passed,
                "score": r.score,
                "reason": r.reason,
                "latency_ms": r.latency_ms,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "cost_usd": r.details.get("cost_usd"),
                "cached": r.cached,
                "error": r.error,
                "result_id": r.id,
                "run_id": r.run_id,
                "rendered": r.rendered,
            }
        )
        if r.trajectory is not None:  # a template with tools: the calls in order (the steps stay in the record)
            row["tool_calls"] = r.tool_calls
        rows.append(row)
    return pd.DataFrame(rows)


def summary_rows(records: Sequence[ResultRecord]) -> list[dict[str, Any]]:
    """Per column (prompt version × model): cells, errors, passed/judged, pass rate with its Wilson 95 %
    interval, the smallest difference this many rows can show to be real, mean score, latency p50/p95 (of calls
    really made), tokens, cost, cached cells and model requests (retries included). Plain Python: a summary
    prints without importing pandas."""
    columns: dict[str, list[ResultRecord]] = {}
    for record in records:
        columns.setdefault(str(record.column), []).append(record)
    return [_summary_row(name, group) for name, group in columns.items()]


def _summary_row(name: str, group: list[ResultRecord]) -> dict[str, Any]:
    judged = [r.passed for r in group if r.passed is not None]
    n, passed = len(judged), sum(bool(p) for p in judged)
    called = [r for r in group if not r.cached]
    latencies = sorted(r.latency_ms for r in called if r.error is None and r.latency_ms is not None)
    latencies = latencies or sorted(r.latency_ms for r in group if r.latency_ms is not None)
    scores = [r.score for r in group if r.score is not None]
    costs = [r.details.get("cost_usd") for r in group]
    return {
        "column": name,
        "cells": len(group),
        "errors": sum(1 for r in group if r.error),
        "passed": passed,
        "judged": n,
        "pass_rate": round(passed / n, 4) if n else None,
        "ci95": wilson_interval(passed, n),
        "min_detectable_diff": min_detectable_difference(n),
        "mean_score": round(sum(scores) / len(scores), 4) if scores else None,
        "latency_p50_ms": _quantile(latencies, 0.5),
        "latency_p95_ms": _quantile(latencies, 0.95),
        "prompt_tokens": sum(r.prompt_tokens or 0 for r in group),
        "completion_tokens": sum(r.completion_tokens or 0 for r in group),
        "cost_usd": None if any(c is None for c in costs) else round(sum(costs), 6),
        "cached": sum(1 for r in group if r.cached),
        "calls": sum(1 for r in called if answered_by_a_call(r)),
        "requests": sum(r.attempts for r in called if answered_by_a_call(r)),
    }


def answered_by_a_call(record: ResultRecord) -> bool:
    """The cell's stored answer (or error) came from a model call, not from the cache — the one definition of a
    "model call" behind the summary table, the closing line and the JSON."""
    return not record.cached and (record.output is not None or record.error is not None)


def stored_summary_rows(store: Any, run_id: str) -> list[dict[str, Any]]:
    """:func:`summary_rows` of a stored run, from the store's aggregates (no record is read back), in the run's own
    column order."""
    from workbench.identity import Column

    run = store.run(run_id)
    prompts = {ref: i for i, ref in enumerate(run["prompts"])}
    models = {spec: i for i, spec in enumerate(run["models"])}
    rows = store.run_aggregates(run["id"])

    def order(row: dict[str, Any]) -> tuple[Any, ...]:
        ref = f"{row['prompt']}@v{row['version']}"
        return (
            prompts.get(ref, len(prompts)),
            row["prompt"],
            row["version"],
            models.get(row["model"], 99),
            row["model"],
        )

    lines = []
    for row in sorted(rows, key=order):
        n, passed = int(row["judged"]), int(row["passed"])
        made, every = row["latencies"]
        latencies = sorted(made) or sorted(every)
        lines.append(
            {
                "column": str(Column(row["prompt"], row["version"], row["model"])),
                "cells": int(row["cells"]),
                "errors": int(row["errors"]),
                "passed": passed,
                "judged": n,
                "pass_rate": round(passed / n, 4) if n else None,
                "ci95": wilson_interval(passed, n),
                "min_detectable_diff": min_detectable_difference(n),
                "mean_score": None if row["mean_score"] is None else round(float(row["mean_score"]), 4),
                "latency_p50_ms": _quantile(latencies, 0.5),
                "latency_p95_ms": _quantile(latencies, 0.95),
                "prompt_tokens": int(row["prompt_tokens"]),
                "completion_tokens": int(row["completion_tokens"]),
                "cost_usd": None if row["unpriced"] else round(float(row["cost_usd"] or 0.0), 6),
                "cached": int(row["cached"]),
                "calls": int(row["calls"] or 0),
                "requests": int(row["requests"] or 0),
            }
        )
    return lines


def _quantile(ordered: list[float], q: float) -> float | None:
    """Linear interpolation between order statistics (pandas' and numpy's default)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 1)


def summarize(records: Sequence[ResultRecord]) -> Any:
    """:func:`summary_rows` as a DataFrame (one row per column)."""
    import pandas as pd

    return pd.DataFrame(summary_rows(records))


def breakdown(records: Sequence[ResultRecord], by: str) -> Any:
    """Per column and per value of a dataset column (an exam's ``subject``, a ``lang``): n, passed, pass rate and
    its Wilson 95 % interval — the per-subject accuracy table of a C-Eval / MMLU style exam."""
    import pandas as pd

    df = results_dataframe(records)
    if df.empty or by not in df.columns:
        raise WorkbenchError(f"No column {by!r} in these results' inputs; columns: {', '.join(map(str, df.columns))}.")
    lines = []
    for (column, group_value), group in df.groupby(["column", by], sort=True):
        judged = group["passed"].dropna().astype(bool)
        n, passed = len(judged), int(judged.sum())
        rate = round(passed / n, 4) if n else None
        lines.append(
            {
                "column": column,
                by: group_value,
                "n": n,
                "passed": passed,
                "pass_rate": rate,
                "ci95": wilson_interval(passed, n),
            }
        )
    return pd.DataFrame(lines)


REPORT_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}th{background:#f3f3f3}"
    ".pass{background:#e6f4ea}.fail{background:#fce8e6}.na{background:#f1f3f4}.differs{outline:2px solid #f9ab00}"
    ".mark{font-weight:bold}.flipped td:first-child{border-left:4px solid #f9ab00}"
)


def html_report(records: Sequence[ResultRecord], title: str = "Workbench results") -> str:
    """A self-contained HTML page: summary with intervals, then the matrix with ✓/✗ colouring."""
    summary = summarize(records)
    if not summary.empty:
        summary = summary.assign(ci95=summary["ci95"].map(lambda ci: "" if ci is None else f"{ci[0]:.1%}–{ci[1]:.1%}"))
    table = matrix(records)
    return (
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><style>{REPORT_STYLE}</style>"
        f"<h1>{html.escape(title)}</h1><h2>Summary</h2>{summary.to_html(index=False, na_rep='')}"
        f"<h2>Matrix</h2><p>One line per dataset row; flipped rows (the columns disagree) first.</p>"
        f"{matrix_html(table)}"
    )


def matrix_html(table: Any) -> str:
    """The matrix as an HTML table: ✓/✗ cells coloured, outputs that differ between columns outlined."""
    if table.empty:
        return "<p>No results.</p>"
    columns = list(dict.fromkeys(c.split("|")[0] for c in table.columns if "|" in c))
    inputs = [c for c in table.columns if "|" not in c and c not in ("row_id", "flipped")]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["row", *inputs, *columns])
    body = []
    for _, line in table.iterrows():
        outputs = {c: line.get(f"{c}|output") for c in columns}
        differs = len({str(v) for v in outputs.values()}) > 1
        cells = [f"<td>{html.escape(str(line['row_id']))}</td>"]
        cells += [f"<td>{html.escape(_short(line[c]))}</td>" for c in inputs]
        for c in columns:
            passed = line.get(f"{c}|passed")
            kind, mark = _verdict_mark(passed)
            extra = f" <small>{html.escape(str(line[f'{c}|passes']))}</small>" if f"{c}|passes" in line else ""
            cls = f"{kind} differs" if differs else kind
            cells.append(
                f"<td class='{cls}'><span class='mark'>{mark}</span>{extra} {html.escape(_short(outputs[c]))}</td>"
            )
        body.append(f"<tr class='{'flipped' if line['flipped'] else ''}'>{''.join(cells)}</tr>")
    return f"<table class='wb-matrix'><tr>{head}</tr>{''.join(body)}</table>"


def _verdict_mark(passed: Any) -> tuple[str, str]:
    if passed is None or passed != passed:  # None or NaN: not judged
        return "na", "–"
    return ("pass", "✓") if passed else ("fail", "✗")


def _short(value: Any, width: int = 160) -> str:
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
