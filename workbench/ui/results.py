"""Results view: the run's matrix as an interactive table, the paired comparison of two columns, row details
with word and template diffs, charts, exports, and marking bad cases.

The matrix has one line per dataset row (its input and expected answer), then per prompt version × model the
output with ✓/✗; itables (DataTables, bundled offline) sorts, searches and pages it. Filters narrow it to failed,
errored, flipped or flaky rows. Choosing columns A and B shows the paired verdict (exact McNemar test), each pass
rate's 95 % interval and the rows that flipped; selecting a row shows every column's output, a coloured word diff
of B against A, and the template diff that separates the two versions.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.compare import Comparison, compare_runs, matrix
from workbench.errors import WorkbenchError
from workbench.prompts import diff_templates
from workbench.reports import html_report, summarize
from workbench.store import ResultRecord
from workbench.ui.charts import latency_histogram, pass_rate_chart
from workbench.ui.diff import unified_diff_html, word_diff
from workbench.ui.state import WIDE, Messages, WorkbenchState, button, pre

FILTERS = ["all", "failed", "errors", "flipped", "flaky"]
# cells hold ✓/✗ and coloured HTML; long inputs wrap (no "nowrap") so the matrix fits the page
TABLE_OPTIONS = {"allow_html": True, "select": True, "pageLength": 10, "scrollX": True, "classes": "display compact"}
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
MARK = {True: ("#e6f4ea", "✓"), False: ("#fce8e6", "✗"), None: ("#f1f3f4", "–")}


def _cell(passed: Any, output: Any, extra: str = "") -> str:
    verdict = None if passed is None or passed != passed else bool(passed)
    color, mark = MARK[verdict]
    text = html.escape(str(output or ""))
    return f"<div style='background:{color};padding:2px 4px;white-space:pre-wrap'><b>{mark}</b> {text}{extra}</div>"


class ResultsView(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        from itables.widget import ITable

        self.state = state or WorkbenchState()
        self.run_picker = w.Dropdown(description="Run", style=WIDE, layout=w.Layout(width="min(760px, 100%)"))
        self.refresh_button = button("Refresh", icon="refresh", tooltip="pick up runs made in code or elsewhere")
        self.filter = w.ToggleButtons(options=FILTERS, value="all", style={"button_width": "auto"})
        self.search = w.Text(placeholder="search outputs and inputs", layout=w.Layout(width="260px"))
        self.table = ITable(pd_empty(), **TABLE_OPTIONS)
        self.table.add_class("wb-matrix")
        self.filter.add_class("wb-filter")
        self.count = w.HTML()
        self.column_a = w.Dropdown(description="A", style=WIDE, layout=w.Layout(width="auto"))
        self.column_b = w.Dropdown(description="B", style=WIDE, layout=w.Layout(width="auto"))
        self.comparison = w.HTML()
        self.comparison.add_class("wb-comparison")
        self.detail = w.HTML()
        self.detail.add_class("wb-row-detail")
        self.mark_column = w.Dropdown(description="Result of", style=WIDE, layout=w.Layout(width="auto"))
        self.tags = w.Text(description="Tags", placeholder="wrong label, format error", style=WIDE)
        self.note = w.Text(description="Note", style=WIDE)
        self.expected = w.Text(description="Expected", style=WIDE)
        self.column_a.add_class("wb-column-a")
        self.column_b.add_class("wb-column-b")
        self.mark_column.add_class("wb-mark-column")
        self.mark_button = button("Mark as bad case", icon="flag", button_style="warning")
        self.mark_button.add_class("wb-mark-bad")
        self.messages = Messages()
        self.messages.add_class("wb-results-messages")
        self.export_csv = button("Export CSV", icon="download")
        self.export_html = button("Export HTML", icon="download")
        self.summary = w.HTML()
        self.charts = w.HTML()
        self.records: list[ResultRecord] = []
        self.frame: Any = pd_empty()
        self.visible_ids: list[str] = []
        self.selected_row: str | None = None
        self.result_comparison: Comparison | None = None
        self.run_picker.observe(self._load_run, "value")
        for widget in (self.filter, self.search):
            widget.observe(self._render_table, "value")
        for widget in (self.column_a, self.column_b):
            widget.observe(self._update_comparison, "value")
        self.table.observe(self._on_select, "selected_rows")
        self.mark_column.observe(self._fill_expected, "value")
        self.refresh_button.on_click(lambda b: self.refresh_runs())
        self.mark_button.on_click(self.mark_bad)
        self.export_csv.on_click(lambda b: self.export("csv"))
        self.export_html.on_click(lambda b: self.export("html"))
        self.state.on("run_finished", lambda result: self.refresh_runs(select=result.run_id))
        row = w.Layout(flex_flow="row wrap", align_items="center")
        super().__init__(
            [
                w.HBox([self.run_picker, self.refresh_button], layout=row),
                w.HBox([self.filter, self.search, self.export_csv, self.export_html], layout=row),
                self.count,
                self.table,
                w.HTML("<h4>Compare two columns</h4>"),
                w.HBox([self.column_a, self.column_b], layout=row),
                self.comparison,
                w.HTML("<h4>Selected row</h4>"),
                self.detail,
                w.HBox([self.mark_column, self.tags, self.note, self.expected, self.mark_button], layout=row),
                self.messages,
                w.HTML("<h4>Summary</h4>"),
                self.summary,
                self.charts,
            ],
            **kwargs,
        )
        self.refresh_runs()

    # -- runs -----------------------------------------------------------------------------------
    def refresh_runs(self, select: str | None = None) -> None:
        """Every run in the store — from this panel, notebook code, the CLI, a recheck, or another process."""
        runs = self.state.store.runs(limit=200)
        options = [
            (f"{r['id']} · {', '.join(_json_list(r['prompts']))} · {r['status']} · {r['done']}/{r['n_cells']}", r["id"])
            for r in runs
        ]
        current = select or self.run_picker.value
        self.run_picker.options = options
        ids = [o[1] for o in options]
        if options:
            self.run_picker.value = current if current in ids else ids[0]
        self._load_run()

    def _load_run(self, change: Any = None) -> None:
        self.messages.clear()
        with self.hold_trait_notifications():  # a new run starts unfiltered: the old filter was about the old run
            self.filter.value, self.search.value = "all", ""
        self.records = self.state.store.results(self.run_picker.value) if self.run_picker.value else []
        self.frame = matrix(self.records) if self.records else pd_empty()
        run_columns = list(dict.fromkeys(r.column for r in self.records))
        columns = [str(c) for c in run_columns]
        in_order = [str(c) for c in sorted(run_columns)]  # A: the older version (or first model), B: the next
        with self.hold_trait_notifications():
            self.column_a.options, self.column_b.options = columns, columns
            self.mark_column.options = columns
            if columns:
                self.column_a.value = in_order[0]
                self.column_b.value = in_order[1] if len(in_order) > 1 else in_order[0]
        self.selected_row = None
        self._update_comparison()
        self._render_summary()

    # -- the matrix -----------------------------------------------------------------------------
    def visible(self) -> Any:
        df = self.frame
        if df.empty:
            return df
        columns = list(self.column_a.options)
        mode = self.filter.value
        if mode == "failed":
            df = df[df[[f"{c}|passed" for c in columns]].eq(False).any(axis=1)]
        elif mode == "errors":
            outputs = df[[f"{c}|output" for c in columns]].astype(str)
            df = df[outputs.apply(lambda s: s.str.startswith("ERROR")).any(axis=1)]
        elif mode == "flipped":
            flipped = {f["row_id"] for f in self.result_comparison.flipped} if self.result_comparison else set()
            df = df[df["row_id"].isin(flipped) if self.result_comparison else df["flipped"]]
        elif mode == "flaky":
            flaky = [f"{c}|flaky" for c in columns if f"{c}|flaky" in df.columns]
            df = df[df[flaky].any(axis=1)] if flaky else df.iloc[0:0]
        needle = self.search.value.strip().casefold()
        if needle:
            df = df[df.astype(str).apply(lambda s: s.str.casefold().str.contains(needle, regex=False)).any(axis=1)]
        return df

    def display_frame(self, df: Any) -> Any:
        import pandas as pd

        columns = list(self.column_a.options)
        inputs = [c for c in df.columns if "|" not in c and c not in ("row_id", "flipped", "id", "expected")]
        out = pd.DataFrame({"row": df["row_id"]})
        if inputs:
            out["input"] = df[inputs[0]].astype(str).str.slice(0, 160)
        if "expected" in df.columns:
            out["expected"] = df["expected"]
        for c in columns:
            extra = [""] * len(df)
            if f"{c}|passes" in df.columns:
                extra = [
                    f" <small>({p}{', flaky' if fl else ''}, agreement {a:.0%})</small>"
                    for p, fl, a in zip(df[f"{c}|passes"], df[f"{c}|flaky"], df[f"{c}|agreement"], strict=True)
                ]
            out[c] = [_cell(p, o, e) for p, o, e in zip(df[f"{c}|passed"], df[f"{c}|output"], extra, strict=True)]
        return out.reset_index(drop=True)

    def _render_table(self, change: Any = None) -> None:
        df = self.visible()
        self.visible_ids = list(df["row_id"]) if not df.empty else []
        self.table.update(self.display_frame(df) if not df.empty else pd_empty(), selected_rows=[], **TABLE_OPTIONS)
        total = len(self.frame)
        self.count.value = f"<small>{len(df)} of {total} rows ({self.filter.value})</small>"

    def _on_select(self, change: Any) -> None:
        rows = change["new"] or []
        self.selected_row = self.visible_ids[rows[0]] if rows and rows[0] < len(self.visible_ids) else None
        self.messages.clear()
        self._show_detail()

    def select_row(self, row_id: str) -> None:
        """Select a row by id (as clicking it in the table does)."""
        if row_id not in self.visible_ids:
            self.filter.value, self.search.value = "all", ""
        self.table.selected_rows = [self.visible_ids.index(row_id)]

    # -- comparison and detail ------------------------------------------------------------------
    def _update_comparison(self, change: Any = None) -> None:
        a, b = self.column_a.value, self.column_b.value
        self.result_comparison = None
        if not a or not b or a == b:
            self.comparison.value = "<i>Choose two different columns to compare.</i>" if a else ""
        else:
            try:
                self.result_comparison = compare_runs(self.records, a=a, b=b)
                self.comparison.value = _comparison_html(self.result_comparison)
            except WorkbenchError as exc:
                self.comparison.value = f"<i>{html.escape(str(exc))}</i>"
        self._render_table()
        self._show_detail()

    def _records_of(self, row_id: str) -> dict[str, ResultRecord]:
        return {str(r.column): r for r in self.records if r.row_id == row_id and r.repeat == 0}

    def _show_detail(self) -> None:
        if self.selected_row is None:
            self.detail.value = "<i>Select a row in the table.</i>"
            return
        by_column = self._records_of(self.selected_row)
        first = next(iter(by_column.values()))
        parts = [f"<b>Row {html.escape(self.selected_row)}</b>{pre(str(first.inputs))}"]
        for column, record in by_column.items():
            shown = record.output if record.error is None else f"ERROR: {record.error}"
            parts.append(f"<div><b>{html.escape(column)}</b> → {_cell(record.passed, shown)}</div>")
        a, b = by_column.get(self.column_a.value), by_column.get(self.column_b.value)
        if a is not None and b is not None and a is not b:
            parts.append(f"<b>B against A</b> (word diff): {word_diff(a.output, b.output)}")
            parts.append(self._template_diff(a, b))
        self.detail.value = "".join(parts)
        self._fill_expected()

    def _template_diff(self, a: ResultRecord, b: ResultRecord) -> str:
        if a.prompt != b.prompt or a.version == b.version:
            return ""
        try:
            left, right = self.state.library.get(a.prompt, a.version), self.state.library.get(b.prompt, b.version)
        except WorkbenchError:
            left = right = None
        if left is None or right is None:
            source_a = self.state.store.prompt_version_source(a.prompt, a.version)
            source_b = self.state.store.prompt_version_source(b.prompt, b.version)
            if source_a is None or source_b is None:
                return ""
            from workbench.prompts import PromptTemplate

            left, right = PromptTemplate.from_string(source_a), PromptTemplate.from_string(source_b)
        return f"<b>What changed between the versions</b>{unified_diff_html(diff_templates(left, right))}"

    def _fill_expected(self, change: Any = None) -> None:
        record = self._records_of(self.selected_row).get(self.mark_column.value) if self.selected_row else None
        self.expected.value = "" if record is None else str(record.inputs.get("expected") or "")

    def mark_bad(self, button: Any = None) -> Any:
        self.messages.clear()
        record = self._records_of(self.selected_row).get(self.mark_column.value) if self.selected_row else None
        if record is None:
            self.messages.error("Select a row in the table first (and the column whose result is wrong).")
            return None
        tags = [t.strip() for t in self.tags.value.split(",") if t.strip()]
        case = self.state.tracker.mark_bad(
            record.id, tags=tags, note=self.note.value, expected=self.expected.value or None
        )
        self.tags.value = self.note.value = ""  # the next case must not inherit this one's note
        self.messages.info(
            f"Bad case #{case.id} ({case.status}) for {record.column}, row {record.row_id}; "
            f"tags: {', '.join(case.tags) or '-'}"
        )
        self.state.emit("bad_case_marked", case)
        return case

    # -- summary, charts, exports ---------------------------------------------------------------
    def _render_summary(self) -> None:
        if not self.records:
            self.summary.value = self.charts.value = ""
            return
        summary = summarize(self.records)
        shown = summary[list(SUMMARY_COLUMNS)].rename(columns=SUMMARY_COLUMNS)
        shown["95% CI"] = shown["95% CI"].map(lambda ci: "" if ci is None else f"{ci[0]:.0%}–{ci[1]:.0%}")
        shown["pass rate"] = shown["pass rate"].map(lambda r: "" if r is None or r != r else f"{r:.0%}")
        self.summary.value = "<div style='overflow-x:auto'>" + shown.to_html(index=False, na_rep="") + "</div>"
        latencies = [r.latency_ms for r in self.records if r.latency_ms is not None and not r.cached]
        self.charts.value = pass_rate_chart(summary) + latency_histogram(latencies)

    def export(self, kind: str) -> Path | None:
        """The visible rows of the matrix as CSV, or the run's HTML report (summary + coloured matrix)."""
        self.messages.clear()
        run_id = self.run_picker.value
        if not run_id:
            self.messages.error("No run to export.")
            return None
        folder = self.state.store.path.parent / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        if kind == "csv":
            path = folder / f"{run_id}-matrix.csv"
            self.visible().to_csv(path, index=False)
        else:
            path = folder / f"{run_id}.html"
            rows = set(self.visible_ids)
            path.write_text(
                html_report([r for r in self.records if r.row_id in rows], title=f"Run {run_id}"), encoding="utf-8"
            )
        self.messages.info(f"Exported to {path}")
        return path


def _comparison_html(c: Comparison) -> str:
    def side(label: str, s: Any) -> str:
        ci = "" if s.ci95 is None else f" <small>[95% CI {s.ci95[0]:.0%}–{s.ci95[1]:.0%}]</small>"
        rate = "n/a" if s.pass_rate is None else f"{s.pass_rate:.0%}"
        return f"<b>{label}</b> {html.escape(s.column)}: {s.passed}/{s.n} = {rate}{ci}"

    color = {"better": "#1b5e20", "worse": "#b00020"}.get(c.verdict, "#444")
    verdict = (
        "B is better than A"
        if c.verdict == "better"
        else "B is worse than A"
        if c.verdict == "worse"
        else "no significant difference"
    )
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


def pd_empty() -> Any:
    import pandas as pd

    return pd.DataFrame({"row": []})


def _json_list(value: str) -> list[str]:
    import json

    try:
        return list(json.loads(value))
    except (TypeError, ValueError):
        return [str(value)]
