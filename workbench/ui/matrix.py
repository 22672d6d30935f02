"""The matrix as the Results tab shows it: columns oldest to newest with short headers, the rows a filter and the
search let through in the dataset's order, and each row's cells with the values to sort them by. Pure functions of
the run's records and matrix frame (no widgets), so the view stays small and these stay testable. Words come from
the catalogue (``say``: :class:`workbench.i18n.Messages`, English by default).

Why the column kinds: on a narrow screen a wide text column used to take the width and push the ✓/✗ columns off
the page. Verdict columns keep a fixed width; text columns (the input, free-text outputs) are cut to a line or
three, with the whole text on hover (``title``); the table scrolls sideways and says so.
"""

from __future__ import annotations

import html
from typing import Any

from workbench.compare import Comparison
from workbench.i18n import DEFAULT, Messages
from workbench.identity import Column
from workbench.reports import summarize
from workbench.store import ResultRecord
from workbench.ui.detail import text_cell, verdict_cell
from workbench.ui.table import Column as TableColumn
from workbench.ui.table import Row
from workbench.ui.trajectory import tool_note

FILTERS = ["all", "failed", "errors", "flipped", "flaky"]
SUMMARY_COLUMNS = (
    "column",
    "cells",
    "errors",
    "passed",
    "judged",
    "pass_rate",
    "ci95",
    "latency_p50_ms",
    "latency_p95_ms",
    "cost_usd",
)
BOOKKEEPING = ("row_id", "flipped", "id", "expected")
INPUT_CHARS = 2000  # the cell shows a line or two; the hover shows this much
ENGLISH = Messages(DEFAULT)


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


def table_columns(frame: Any, columns: list[str], say: Messages = ENGLISH) -> list[TableColumn]:
    """Row id, the first input (text: cut, whole on hover), the expected answer, then one verdict column (a fixed
    width) per prompt version × model."""
    labels = short_labels(columns)
    shown = [TableColumn("row", say("results.col.row"), say("results.col.row_title"), "3em", kind="key")]
    inputs = input_columns(frame)
    if inputs:
        title = say("results.col.input_title", name=inputs[0])
        shown.append(TableColumn("input", inputs[0], title, "10em", kind="text"))
    if "expected" in frame.columns:
        expected = say("results.col.expected")
        shown.append(TableColumn("expected", expected, say("results.col.expected_title"), "5em", kind="key"))
    return shown + [TableColumn(c, labels[c], c, "9em", kind="verdict") for c in columns]


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


def table_rows(df: Any, columns: list[str], records: list[ResultRecord], say: Messages = ENGLISH) -> list[Row]:
    """Each matrix row's cells (escaped HTML, ✓/✗ on colour) and the values to sort them by, in the dataset's
    order (a header click sorts; nothing else reorders the rows)."""
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
            cells["input"] = text_cell(text[:INPUT_CHARS] + ("…" if len(text) > INPUT_CHARS else ""))
            keys["input"] = text
        if "expected" in line:
            cells["expected"] = html.escape(str(line["expected"] if line["expected"] is not None else ""))
            keys["expected"] = line["expected"]
        for column in columns:
            passed, output = line.get(f"{column}|passed"), line.get(f"{column}|output")
            note = _repeats_note(line, column, say) + tool_note(firsts.get((row_id, column)), say)
            cells[column] = verdict_cell(passed, output, note, clamp=True)
            keys[column] = (_verdict_rank(passed), str(output or ""))
        rows.append(Row(row_id, cells, keys))
    rows.sort(key=lambda row: (row.sort_keys["row"] is None, row.sort_keys["row"] or 0))
    return rows


def summary_html(records: list[ResultRecord], say: Messages = ENGLISH) -> tuple[str, Any]:
    """The per-column summary as a table (pass rates with their 95 % intervals), and the summary frame."""
    summary = summarize(records)
    shown = summary[list(SUMMARY_COLUMNS)].copy()
    shown["ci95"] = shown["ci95"].map(lambda ci: "" if ci is None else f"{ci[0]:.0%}–{ci[1]:.0%}")
    shown["pass_rate"] = shown["pass_rate"].map(lambda r: "" if r is None or r != r else f"{r:.0%}")
    shown = shown.rename(columns={key: say(f"stats.col.{key}") for key in SUMMARY_COLUMNS})
    table = shown.to_html(index=False, na_rep="", classes="wb-plain wb-summary", border=0)
    return f"<div style='overflow-x:auto'>{table}</div>", summary


def _verdict_rank(passed: Any) -> int:
    """Failures first when sorting a column up, then passes, then cells without a verdict."""
    if passed is None or passed != passed:
        return 2
    return 1 if passed else 0


def _repeats_note(line: dict[str, Any], column: str, say: Messages) -> str:
    if f"{column}|passes" not in line:
        return ""
    flaky = f", {say('stats.flaky')}" if line.get(f"{column}|flaky") else ""
    agreement = line.get(f"{column}|agreement")
    agreed = f", {say('stats.agreement', rate=agreement)}" if isinstance(agreement, int | float) else ""
    return f" <small>({html.escape(line[f'{column}|passes'] + flaky + agreed)})</small>"


def verdict_text(verdict: str, say: Messages = ENGLISH, *, kind: str = "verdict") -> str:
    """A comparison's verdict as a sentence ("B is better than A", "B 优于 A"; ``kind="verdict_word"``: "better",
    "更好"). A verdict the catalogue does not know yet is shown as the core wrote it."""
    key = f"stats.{kind}.{verdict.replace(' ', '_')}"
    return say(key) if say.has(key) else verdict


def comparison_html(c: Comparison, say: Messages = ENGLISH) -> str:
    def side(label: str, s: Any) -> str:
        ci = (
            ""
            if s.ci95 is None
            else f" <small>[{html.escape(say('stats.interval', low=s.ci95[0], high=s.ci95[1]))}]</small>"
        )
        rate = say("common.na") if s.pass_rate is None else f"{s.pass_rate:.0%}"
        shown = html.escape(say("stats.rate_of", passed=s.passed, n=s.n, rate=rate))
        return f"<b>{label}</b> {html.escape(s.column)}: {shown}{ci}"

    color = {"better": "#1b5e20", "worse": "#b00020"}.get(c.verdict, "#444")
    hint = (
        f"<br><small>{html.escape(say('stats.min_detectable', pairs=c.pairs, mdd=c.min_detectable_difference))}</small>"
        if c.min_detectable_difference
        else ""
    )
    pairs = say("stats.paired_rows", n=c.pairs)
    discordant = say("stats.discordant", b_only=c.b_only, a_only=c.a_only)
    test = say("stats.mcnemar_p", p=c.p_value)
    return (
        f"<div class='wb-verdict'>{side('A', c.a)}<br>{side('B', c.b)}<br>"
        f"{html.escape(say('stats.comparison', pairs=pairs, discordant=discordant, test=test))} → "
        f"<b style='color:{color}' class='wb-verdict-text' data-verdict='{html.escape(c.verdict)}'>"
        f"{html.escape(verdict_text(c.verdict, say))}</b>{hint}</div>"
    )


def empty_frame() -> Any:
    import pandas as pd

    return pd.DataFrame({"row_id": []})
