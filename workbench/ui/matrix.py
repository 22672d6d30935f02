"""The matrix as the Results tab shows it: columns oldest to newest with short headers, the rows a filter and the
search let through, and each row's cells with the values to sort them by. Pure functions of the run's records
and matrix frame (no widgets), so the view stays small and these stay testable."""

from __future__ import annotations

import html
from typing import Any

from workbench.compare import Comparison
from workbench.identity import Column
from workbench.reports import summarize
from workbench.store import ResultRecord
from workbench.ui.detail import verdict_cell
from workbench.ui.table import Column as TableColumn
from workbench.ui.table import Row
from workbench.ui.trajectory import tool_note

FILTERS = ["all", "failed", "errors", "flipped", "flaky"]
SUMMARY_COLUMNS = {
    "column": "column",
    "cells": "cells",
    "errors": "errors",
    "passed": "passed",
    "judged": "judged",
    "pass_rate": "pass rate",
    "ci95": "95% CI",
    "latency_p50_ms": "p50 ms",
    "latency_p95_ms": "p95 ms",
    "cost_usd": "cost $",
}
BOOKKEEPING = ("row_id", "flipped", "id", "expected")
INPUT_CHARS = 160


def ordered_columns(records: list[ResultRecord]) -> list[str]:
    """The run's columns oldest to newest: by prompt, then version, then model."""
    return [str(c) for c in sorted(dict.fromkeys(r.column for r in records))]


def short_labels(columns: list[str]) -> dict[str, str]:
    """Header labels without what every column shares ("v2 · local" rather than "sentiment_cloze_en@v2/local"),
    so three versions do not squeeze the input column."""
    parsed = {c: Column.parse(c) for c in columns}
    prompts = {p.prompt for p in parsed.values()}
    models = {p.model for p in parsed.values()}
    labels = {}
    for name, column in parsed.items():
        head = f"v{column.version}" if len(prompts) == 1 else f"{column.prompt}@v{column.version}"
        labels[name] = head if len(models) == 1 else f"{head} · {column.model}"
    return labels


def default_pair(columns: list[str]) -> tuple[str | None, str | None]:
    """A and B: the two newest versions of one prompt on one model (A the older), else the first two columns."""
    parsed = [Column.parse(c) for c in columns]
    groups: dict[tuple[str, str], list[Column]] = {}
    for column in parsed:
        groups.setdefault((column.prompt, column.model), []).append(column)
    versions = max(groups.values(), key=len, default=[])
    if len(versions) >= 2:
        newest = sorted(versions, key=lambda c: c.version)[-2:]
        return str(newest[0]), str(newest[1])
    if not columns:
        return None, None
    return columns[0], columns[1] if len(columns) > 1 else columns[0]


def input_columns(frame: Any) -> list[str]:
    """The dataset's own columns in the matrix (what the model was given), without ids and the expected answer."""
    return [c for c in frame.columns if "|" not in c and c not in BOOKKEEPING]


def table_columns(frame: Any, columns: list[str]) -> list[TableColumn]:
    """Row id, the first input, the expected answer, then one column per prompt version × model."""
    labels = short_labels(columns)
    shown = [TableColumn("row", "row", "the dataset row's id", "4em")]
    inputs = input_columns(frame)
    if inputs:
        shown.append(TableColumn("input", inputs[0], f"the row's {inputs[0]!r}", "16em"))
    if "expected" in frame.columns:
        shown.append(TableColumn("expected", "expected", "the expected answer", "6em"))
    return shown + [TableColumn(c, labels[c], c, "10em") for c in columns]


def filter_frame(frame: Any, columns: list[str], mode: str, needle: str, comparison: Comparison | None) -> Any:
    """The matrix rows a filter (all, failed, errors, flipped between A and B, flaky) and the search let through."""
    df = frame
    if df.empty:
        return df
    if mode == "failed":
        df = df[df[[f"{c}|passed" for c in columns]].eq(False).any(axis=1)]
    elif mode == "errors":
        outputs = df[[f"{c}|output" for c in columns]].astype(str)
        df = df[outputs.apply(lambda s: s.str.startswith("ERROR")).any(axis=1)]
    elif mode == "flipped":
        flipped = {f["row_id"] for f in comparison.flipped} if comparison else set()
        df = df[df["row_id"].isin(flipped) if comparison else df["flipped"]]
    elif mode == "flaky":
        flaky = [f"{c}|flaky" for c in columns if f"{c}|flaky" in df.columns]
        df = df[df[flaky].any(axis=1)] if flaky else df.iloc[0:0]
    needle = needle.strip().casefold()
    if needle:
        df = df[df.astype(str).apply(lambda s: s.str.casefold().str.contains(needle, regex=False)).any(axis=1)]
    return df


def table_rows(df: Any, columns: list[str], records: list[ResultRecord]) -> list[Row]:
    """Each matrix row's cells (escaped HTML, ✓/✗ on colour) and the values to sort them by."""
    inputs = input_columns(df)
    positions = {r.row_id: r.row_index for r in records}
    firsts = {(r.row_id, str(r.column)): r for r in records if r.repeat == 0}
    rows = []
    for line in df.to_dict("records"):
        row_id = str(line["row_id"])
        cells = {"row": html.escape(row_id)}
        keys: dict[str, Any] = {"row": positions.get(row_id)}
        if inputs:
            text = str(line[inputs[0]])
            cells["input"] = html.escape(text[:INPUT_CHARS] + ("…" if len(text) > INPUT_CHARS else ""))
            keys["input"] = text
        if "expected" in line:
            cells["expected"] = html.escape(str(line["expected"] if line["expected"] is not None else ""))
            keys["expected"] = line["expected"]
        for column in columns:
            passed, output = line.get(f"{column}|passed"), line.get(f"{column}|output")
            note = _repeats_note(line, column) + tool_note(firsts.get((row_id, column)))
            cells[column] = verdict_cell(passed, output, note)
            keys[column] = (_verdict_rank(passed), str(output or ""))
        rows.append(Row(row_id, cells, keys))
    return rows


def summary_html(records: list[ResultRecord]) -> tuple[str, Any]:
    """The per-column summary as a table (pass rates with their 95 % intervals), and the summary frame."""
    summary = summarize(records)
    shown = summary[list(SUMMARY_COLUMNS)].rename(columns=SUMMARY_COLUMNS)
    shown["95% CI"] = shown["95% CI"].map(lambda ci: "" if ci is None else f"{ci[0]:.0%}–{ci[1]:.0%}")
    shown["pass rate"] = shown["pass rate"].map(lambda r: "" if r is None or r != r else f"{r:.0%}")
    table = shown.to_html(index=False, na_rep="", classes="wb-plain", border=0)
    return f"<div style='overflow-x:auto'>{table}</div>", summary


def _verdict_rank(passed: Any) -> int:
    """Failures first when sorting a column up, then passes, then cells without a verdict."""
    if passed is None or passed != passed:
        return 2
    return 1 if passed else 0


def _repeats_note(line: dict[str, Any], column: str) -> str:
    if f"{column}|passes" not in line:
        return ""
    flaky = ", flaky" if line.get(f"{column}|flaky") else ""
    agreement = line.get(f"{column}|agreement")
    agreed = f", agreement {agreement:.0%}" if isinstance(agreement, int | float) else ""
    return f" <small>({line[f'{column}|passes']}{flaky}{agreed})</small>"


def comparison_html(c: Comparison) -> str:
    def side(label: str, s: Any) -> str:
        ci = "" if s.ci95 is None else f" <small>[95% CI {s.ci95[0]:.0%}–{s.ci95[1]:.0%}]</small>"
        rate = "n/a" if s.pass_rate is None else f"{s.pass_rate:.0%}"
        return f"<b>{label}</b> {html.escape(s.column)}: {s.passed}/{s.n} = {rate}{ci}"

    color = {"better": "#1b5e20", "worse": "#b00020"}.get(c.verdict, "#444")
    verdict = {"better": "B is better than A", "worse": "B is worse than A"}.get(c.verdict, "no significant difference")
    hint = (
        (
            f"<br><small>With {c.pairs} paired rows a difference smaller than {c.min_detectable_difference:.0%} "
            "cannot be shown to be real.</small>"
        )
        if c.min_detectable_difference
        else ""
    )
    return (
        f"<div class='wb-verdict'>{side('A', c.a)}<br>{side('B', c.b)}<br>{c.pairs} paired rows: {c.b_only} pass "
        f"only in B, {c.a_only} only in A · exact McNemar p = {c.p_value:.3g} → "
        f"<b style='color:{color}' class='wb-verdict-text'>{verdict}</b>{hint}</div>"
    )


def empty_frame() -> Any:
    import pandas as pd

    return pd.DataFrame({"row_id": []})
