"""Results view: a run's matrix as a sortable table, the row you clicked in full beside it, the paired comparison
of two columns, charts, exports, and marking bad cases.

The matrix has one line per dataset row (its input and expected answer), then per prompt version × model — oldest
to newest — the output with ✓/✗. A click on a header sorts by that column; filters (failed, errors, flipped, flaky)
and the one search box narrow the rows, and the sort, the page and the selected row survive them. Clicking a row
shows its detail beside the table (or scrolls to it on a narrow screen): the inputs, and per column the output,
parsed value, each score with its reason, latency, tokens and the rendered prompt, then the word diff of B against
A and the template diff between their versions. A and B default to the two newest versions.

The view stays on the run you are looking at: a recheck or a run made elsewhere joins the run list (marked with
where it came from) without replacing the run under review; a run stopped in the Run tab shows what it stored.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.compare import Comparison, compare_runs, matrix
from workbench.errors import WorkbenchError
from workbench.reports import html_report
from workbench.store import ResultRecord
from workbench.ui.charts import latency_histogram, pass_rate_chart
from workbench.ui.detail import inputs_table, record_html
from workbench.ui.diff import version_diff_html, word_diff
from workbench.ui.links import file_link_html
from workbench.ui.matrix import (
    FILTERS,
    comparison_html,
    default_pair,
    empty_frame,
    filter_frame,
    ordered_columns,
    short_labels,
    summary_html,
    table_columns,
    table_rows,
)
from workbench.ui.run_labels import provenance_html, run_label
from workbench.ui.state import WIDE, Messages, WorkbenchState, button
from workbench.ui.styles import as_panel, style_widget
from workbench.ui.table import DataTable
from workbench.ui.trajectory import calls_side_by_side_html


class ResultsView(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        self.run_picker = w.Dropdown(description="Run", style=WIDE, layout=w.Layout(width="min(900px, 100%)"))
        self.run_picker.add_class("wb-run-picker")
        self.refresh_button = button("Refresh", icon="refresh", tooltip="pick up runs made in code or elsewhere")
        self.provenance = w.HTML()
        self.filter = w.ToggleButtons(options=FILTERS, value="all", style={"button_width": "auto"})
        self.filter.add_class("wb-filter")
        self.search = w.Text(placeholder="search inputs and outputs", layout=w.Layout(width="260px"))
        self.search.add_class("wb-search")
        self.count = w.HTML()
        self.count.add_class("wb-count")
        self.table = DataTable(reveal=".wb-row-detail", empty_text="No rows match the filter and the search.")
        self.table.add_class("wb-matrix")
        self.detail = w.HTML()
        self.detail.add_class("wb-row-detail")
        self.mark_column = w.Dropdown(description="Result of", style=WIDE, layout=w.Layout(width="auto"))
        self.mark_column.add_class("wb-mark-column")
        self.tags = w.Text(description="Tags", placeholder="wrong label, format error", style=WIDE)
        self.note = w.Text(description="Note", style=WIDE)
        self.expected = w.Text(description="Expected", style=WIDE)
        self.mark_button = button("Mark as bad case", icon="flag", button_style="warning")
        self.mark_button.add_class("wb-mark-bad")
        self.messages = Messages()
        self.messages.add_class("wb-results-messages")
        self.column_a = w.Dropdown(description="A", style=WIDE, layout=w.Layout(width="auto"))
        self.column_b = w.Dropdown(description="B", style=WIDE, layout=w.Layout(width="auto"))
        self.column_a.add_class("wb-column-a")
        self.column_b.add_class("wb-column-b")
        self.comparison = w.HTML()
        self.comparison.add_class("wb-comparison")
        self.export_csv = button("Export CSV", icon="download")
        self.export_html = button("Export HTML", icon="download")
        self.summary = w.HTML()
        self.charts = w.HTML()
        self.records: list[ResultRecord] = []
        self.frame: Any = empty_frame()
        self.columns: list[str] = []
        self.selected_row: str | None = None
        self.result_comparison: Comparison | None = None
        self._runs: dict[str, dict[str, Any]] = {}
        self._loaded_run: str | None = None
        self._quiet = False
        self._wire()
        super().__init__(self._layout(), **kwargs)
        as_panel(self, "wb-results")
        self.refresh_runs()

    def _wire(self) -> None:
        self.run_picker.observe(self._on_pick_run, "value")
        for widget in (self.filter, self.search):
            widget.observe(self._render_table, "value")
        for widget in (self.column_a, self.column_b):
            widget.observe(self._update_comparison, "value")
        self.table.observe(self._on_select, "selected")
        self.mark_column.observe(self._fill_expected, "value")
        self.refresh_button.on_click(lambda b: self.refresh_runs())
        self.mark_button.on_click(self.mark_bad)
        self.export_csv.on_click(lambda b: self.export("csv"))
        self.export_html.on_click(lambda b: self.export("html"))
        self.state.on("run_finished", lambda result: self.refresh_runs(select=result.run_id))
        self.state.on("run_stopped", lambda run_id: self.refresh_runs(select=run_id))
        self.state.on("store_changed", lambda store: self.refresh_runs())

    def _layout(self) -> list[w.Widget]:
        row = w.Layout(flex_flow="row wrap", align_items="center")
        table_box = w.VBox([self.count, self.table], layout=w.Layout(flex="3 1 560px", min_width="0"))
        detail_box = w.VBox(
            [
                w.HTML("<h4 style='margin:4px 0'>Selected row</h4>"),
                self.detail,
                w.VBox([self.mark_column, self.tags, self.note, self.expected, self.mark_button]),
                self.messages,
            ],
            layout=w.Layout(flex="2 1 360px", min_width="0", padding="0 0 0 12px"),
        )
        detail_box.add_class("wb-detail-box")
        return [
            style_widget(),
            w.HBox([self.run_picker, self.refresh_button], layout=row),
            self.provenance,
            w.HBox([self.filter, self.search, self.export_csv, self.export_html], layout=row),
            w.HBox([table_box, detail_box], layout=w.Layout(flex_flow="row wrap", align_items="flex-start")),
            w.HTML("<h4>Compare two columns</h4>"),
            w.HBox([self.column_a, self.column_b], layout=row),
            self.comparison,
            w.HTML("<h4>Summary</h4>"),
            self.summary,
            self.charts,
        ]

    # -- runs -----------------------------------------------------------------------------------
    def refresh_runs(self, select: str | None = None) -> None:
        """Every run in the store — from this panel, notebook code, the CLI, a recheck, the nightly job, a cluster
        or another person. Stays on the run shown unless ``select`` names another."""
        runs = self.state.store.runs(limit=200)
        self._runs = {r["id"]: r for r in runs}
        current = select or self.run_picker.value
        options = [(run_label(r), r["id"]) for r in runs]
        self._quiet = True  # new options reset the picker to the first run: not a pick by the user
        try:
            self.run_picker.options = options
            if options:
                self.run_picker.value = current if current in self._runs else options[0][1]
        finally:
            self._quiet = False
        if self.run_picker.value != self._loaded_run:
            self._load_run()
        else:
            self._read_run()  # the same run, re-read (more cells stored): filter, sort and selection stay

    def _on_pick_run(self, change: Any) -> None:
        if not self._quiet and change["new"] != self._loaded_run:
            self._load_run()

    def _load_run(self) -> None:
        """Another run: it starts unfiltered, unsorted, nothing selected (those were about the old run)."""
        self.messages.clear()
        self._loaded_run = self.run_picker.value
        with self.hold_trait_notifications():
            self.filter.value, self.search.value = "all", ""
        self.table.sort_by(None)
        self.table.selected = None
        self.selected_row = None
        self._read_run(new=True)

    def _read_run(self, *, new: bool = False) -> None:
        run_id = self.run_picker.value
        self.records = self.state.store.results(run_id) if run_id else []
        self.frame = matrix(self.records) if self.records else empty_frame()
        self.columns = ordered_columns(self.records)
        self.provenance.value = provenance_html(self._runs[run_id]) if run_id in self._runs else ""
        self._set_columns(keep=not new)
        self._update_comparison()
        self._render_summary()

    def _set_columns(self, *, keep: bool) -> None:
        a, b = (self.column_a.value, self.column_b.value) if keep else (None, None)
        if a not in self.columns or b not in self.columns:
            a, b = default_pair(self.columns)
        options = list(self.columns)
        marked = self.mark_column.value if keep and self.mark_column.value in self.columns else b
        self._quiet = True  # one comparison and one table render after all of them changed, not one per change
        try:
            self.column_a.options, self.column_b.options = options, options
            self.mark_column.options = options
            self.column_a.value, self.column_b.value = a, b
            self.mark_column.value = marked
        finally:
            self._quiet = False
        self.table.set_columns(table_columns(self.frame, self.columns))

    # -- the matrix -----------------------------------------------------------------------------
    def visible(self) -> Any:
        """The matrix rows the filter and the search let through."""
        return filter_frame(self.frame, self.columns, self.filter.value, self.search.value, self.result_comparison)

    @property
    def visible_ids(self) -> list[str]:
        """The visible rows' ids in the order the table shows them (sorted, all pages)."""
        return self.table.row_ids

    def _render_table(self, change: Any = None) -> None:
        df = self.visible()
        self.table.set_rows(table_rows(df, self.columns, self.records) if not df.empty else [])
        if self.selected_row is not None and self.selected_row not in self.table.row_ids:
            self.table.selected = None  # filtered out: its detail goes too
        total = len(self.frame)
        needle = self.search.value.strip()
        searched = f", matching “{html.escape(needle)}”" if needle else ""
        self.count.value = f"<small>{len(df)} of {total} rows ({self.filter.value}{searched})</small>"

    def _on_select(self, change: Any) -> None:
        self.selected_row = change["new"]
        self.messages.clear()
        self._default_mark_column()
        self._show_detail()

    def select_row(self, row_id: str) -> None:
        """Select a row by id, as clicking it in the table does (the filter and search are cleared if they hide
        it)."""
        if row_id not in self.table.row_ids:
            with self.hold_trait_notifications():
                self.filter.value, self.search.value = "all", ""
            self._render_table()
        self.table.select(row_id)

    # -- comparison and detail ------------------------------------------------------------------
    def _update_comparison(self, change: Any = None) -> None:
        if self._quiet:
            return
        a, b = self.column_a.value, self.column_b.value
        self.result_comparison = None
        if not a or not b or a == b:
            self.comparison.value = "<i>Choose two different columns to compare.</i>" if a else ""
        else:
            try:
                self.result_comparison = compare_runs(self.records, a=a, b=b)
                self.comparison.value = comparison_html(self.result_comparison)
            except WorkbenchError as exc:
                self.comparison.value = f"<i>{html.escape(str(exc))}</i>"
        self._render_table()
        self._show_detail()

    def _records_of(self, row_id: str | None) -> dict[str, ResultRecord]:
        if row_id is None:
            return {}
        found = {str(r.column): r for r in self.records if r.row_id == row_id and r.repeat == 0}
        return {c: found[c] for c in self.columns if c in found}

    def _default_mark_column(self) -> None:
        """The column whose result is wrong: B when it failed, else the only failing one, else B."""
        by_column = self._records_of(self.selected_row)
        failing = [c for c, r in by_column.items() if r.passed is False]
        b = self.column_b.value
        choice = b if b in failing or not failing else failing[-1]
        if choice in by_column:
            self.mark_column.value = choice
        self._fill_expected()

    def _show_detail(self) -> None:
        by_column = self._records_of(self.selected_row)
        if not by_column:
            self.detail.value = "<i>Click a row of the table to see it here in full.</i>"
            return
        first = next(iter(by_column.values()))
        expected = first.inputs.get("expected")
        heading = f"<b>Row {html.escape(str(self.selected_row))}</b>" + (
            f" · expected: <b>{html.escape(str(expected))}</b>" if expected not in (None, "") else ""
        )
        labels = short_labels(self.columns)
        parts = [f"<div class='wb-block'>{heading}</div>", f"<div class='wb-block'>{inputs_table(first.inputs)}</div>"]
        parts += [record_html(labels[c], c, r) for c, r in by_column.items()]
        a, b = by_column.get(self.column_a.value), by_column.get(self.column_b.value)
        if a is not None and b is not None and a is not b:
            parts.append(
                f"<div class='wb-block'><b>B against A</b> (word diff, {html.escape(labels[str(b.column)])} against "
                f"{html.escape(labels[str(a.column)])}): {word_diff(a.output, b.output)}</div>"
            )
            parts.append(calls_side_by_side_html(a, b))  # "" unless the rows called tools
            parts.append(self._template_diff(a, b))
        self.detail.value = "".join(parts)

    def _template_diff(self, a: ResultRecord, b: ResultRecord) -> str:
        if a.prompt != b.prompt or a.version == b.version:
            return ""
        templates = self._templates(a, b)
        if templates is None:
            return ""
        return (
            "<div class='wb-block'><b>What changed between the versions</b>"
            f"{version_diff_html(templates[0], templates[1])}</div>"
        )

    def _templates(self, a: ResultRecord, b: ResultRecord) -> tuple[Any, Any] | None:
        """The two versions from the library, else from the sources the store recorded with the run."""
        try:
            return self.state.library.get(a.prompt, a.version), self.state.library.get(b.prompt, b.version)
        except WorkbenchError:
            pass
        source_a = self.state.store.prompt_version_source(a.prompt, a.version)
        source_b = self.state.store.prompt_version_source(b.prompt, b.version)
        if source_a is None or source_b is None:
            return None
        from workbench.prompts import PromptTemplate

        return PromptTemplate.from_string(source_a), PromptTemplate.from_string(source_b)

    def _fill_expected(self, change: Any = None) -> None:
        if self._quiet:
            return
        record = self._records_of(self.selected_row).get(self.mark_column.value)
        self.expected.value = "" if record is None else str(record.inputs.get("expected") or "")

    def mark_bad(self, button: Any = None) -> Any:
        self.messages.clear()
        if self.selected_row is None:
            self.messages.error("Click a row of the table first, then choose the column whose result is wrong.")
            return None
        record = self._records_of(self.selected_row).get(self.mark_column.value)
        if record is None:
            self.messages.error(f"Row {self.selected_row} has no result in {self.mark_column.value}: choose another.")
            return None
        tags = [t.strip() for t in self.tags.value.split(",") if t.strip()]
        case = self.state.tracker.mark_bad(
            record.id, tags=tags, note=self.note.value, expected=self.expected.value or None
        )
        self.tags.value = self.note.value = ""  # the next case must not inherit this one's note
        self.messages.info(
            f"Bad case #{case.id} ({case.status}) for {record.column}, row {record.row_id}; "
            f"tags: {', '.join(case.tags) or '-'}. Review it in the Bad cases tab."
        )
        self.state.emit("bad_case_marked", case)
        return case

    # -- summary, charts, exports ---------------------------------------------------------------
    def _render_summary(self) -> None:
        if not self.records:
            self.summary.value = self.charts.value = ""
            return
        self.summary.value, summary = summary_html(self.records)
        latencies = [r.latency_ms for r in self.records if r.latency_ms is not None and not r.cached]
        self.charts.value = pass_rate_chart(summary) + latency_histogram(latencies)

    def export(self, kind: str) -> Any:
        """The visible rows of the matrix as CSV, or the run's HTML report (summary + coloured matrix), into
        ``exports/`` beside the notebook, with a link that opens it."""
        self.messages.clear()
        run_id = self.run_picker.value
        if not run_id:
            self.messages.error("No run to export: run something first (Run tab), or pick a run above.")
            return None
        folder = self.state.exports_dir
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
        self.messages.info_html(f"Exported to {file_link_html(path)} (also in the file browser).")
        return path
