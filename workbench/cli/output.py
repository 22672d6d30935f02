"""Console output for the CLI: rich tables sized for a terminal (or 160 columns when piped), short cells."""

from __future__ import annotations

import json
from typing import Any

SUMMARY_HEADINGS = {
    "pass_rate": "pass rate",
    "ci95": "95% CI",
    "min_detectable_diff": "min Δ",
    "mean_score": "score",
    "latency_p50_ms": "p50 ms",
    "latency_p95_ms": "p95 ms",
    "prompt_tokens": "tokens in",
    "completion_tokens": "tokens out",
    "cost_usd": "cost $",
}
MARKS = {True: "✓", False: "✗", None: ""}


def console() -> Any:
    from rich.console import Console

    out = Console(soft_wrap=False)
    if not out.is_terminal:  # piped or in CI: don't squeeze tables into 80 columns
        out = Console(soft_wrap=False, width=160)
    return out


def short(value: Any, width: int = 48) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return MARKS[value]
    if isinstance(value, tuple | list) and len(value) == 2 and all(isinstance(v, float) for v in value):
        return f"{value[0]:.1%}–{value[1]:.1%}"  # a confidence interval
    text = str(value).replace("\n", "⏎ ")
    return text if len(text) <= width else text[: width - 1] + "…"


def print_frame(df: Any, title: str | None = None, max_rows: int = 60, width: int = 60) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in df.columns:
        table.add_column(str(column), overflow="fold")
    for _, row in df.head(max_rows).iterrows():
        table.add_row(*[short(v, width) for v in row])
    console().print(table)
    if len(df) > max_rows:
        console().print(f"… {len(df) - max_rows} more rows (use --out to export them all)")


def print_summary(summary: Any, title: str) -> None:
    """The summary with short headings, so it fits a terminal (the DataFrame keeps the descriptive names)."""
    if summary.empty:
        console().print("no results")
        return
    print_frame(summary.rename(columns=SUMMARY_HEADINGS), title=title)


def print_results(records: list[Any]) -> None:
    import pandas as pd

    rows = []
    for r in records:
        first_input = next((v for k, v in r.inputs.items() if k not in ("expected", "id")), "")
        rows.append(
            {
                "row": r.row_id,
                "column": str(r.column),
                "input": short(first_input, 36),
                "output": short(r.output if r.error is None else f"ERROR: {r.error}", 40),
                "parsed": r.parsed,
                "expected": r.inputs.get("expected"),
                "passed": MARKS[r.passed],
                "ms": None if r.latency_ms is None else round(r.latency_ms),
            }
        )
    print_frame(pd.DataFrame(rows), title="Results")


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
