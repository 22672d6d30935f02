"""Results view: a run's matrix as a sortable table, the row you clicked in full beside it, the paired comparison
of two columns, charts, exports, and marking bad cases.

The matrix has one line per dataset row (its input and expected answer), then per prompt version × model — oldest
to newest — the output with ✓/✗. A click on a header sorts by that column; filters (failed, errors, flipped, flaky)
and the one search box narrow the rows, and the sort, the page and the selected row survive them. Clicking a row
shows its detail beside the table (or scrolls to it on a narrow screen): the inputs, and per column the output,
parsed value, each score with its reason, latency, tokens and the rendered prompt, then the word diff of B against
A and the template diff between their versions. A and B default to the two newest versions, and follow the run's
columns whenever they change (a run stopped after one version's cells and resumed gets its second column: A and B
become the two versions, not the first one twice) unless you chose them. Rows come in the dataset's order until a
header is clicked, and the line above the table says which order it is.

The view stays on the run you are looking at: a recheck or a run made elsewhere joins the run list (marked with
where it came from) without replacing the run under review; a run stopped in the Run tab shows what it stored.
Opening another store starts the tab afresh (nothing of the old store's run stays), and coming back to a store
opens the run you were reviewing there.
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
from workbench.ui.mark_form import MarkForm
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
from workbench.ui.state import WIDE, WorkbenchState, button
from workbench.ui.styles import as_panel, style_widget
from workbench.ui.table import DataTable, table_labels
from workbench.ui.trajectory import calls_side_by_side_html


class ResultsView(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        say = self.state.t
        self.run_picker = w.Dropdown(
            description=say("results.run"), style=WIDE, layout=w.Layout(width="min(900px, 100%)")
        )
        self.run_picker.add_class("wb-run-picker")
        self.refresh_button = button(say("common.refresh"), icon="refresh", tooltip=say("results.refresh_tooltip"))
        self.provenance = w.HTML()
        self.filter = w.ToggleButtons(
            options=[(say(f"results.filter.{f}"), f) for f in FILTERS], value="all", style={"button_width": "auto"}
        )
        self.filter.add_class("wb-filter")
        self.search = w.Text(placeholder=say("results.search_placeholder"), layout=w.Layout(width="260px"))
        self.search.add_class("wb-search")
        self.count = w.HTML()
        self.count.add_class("wb-count")
        self.table = DataTable(reveal=".wb-row-detail", empty_text=say("results.no_match"), labels=table_labels(say))
        self.table.add_class("wb-matrix")
        self.detail = w.HTML()
        self.detail.add_class("wb-row-detail")
        self.form = MarkForm(self.state, self._records_of)
        self.mark_column, self.tags, self.note = self.form.column, self.form.tags, self.form.note
        self.expected, self.mark_button, self.messages = self.form.expected, self.form.button, self.form.messages
        self.column_a = w.Dropdown(description="A", style=WIDE, layout=w.Layout(width="auto"))
        self.column_b = w.Dropdown(description="B", style=WIDE, layout=w.Layout(width="auto"))
        self.column_a.add_class("wb-column-a")
        self.column_b.add_class("wb-column-b")
        self.comparison = w.HTML()
        self.comparison.add_class("wb-comparison")
        self.export_csv = button(say("results.export_csv"), icon="download")
        self.export_html = button(say("results.export_html"), icon="download")
        self.summary = w.HTML()
        self.charts = w.HTML()
        self.records: list[ResultRecord] = []
        self.frame: Any = empty_frame()
        self.columns: list[str] = []
        self.selected_row: str | None = None
        self.result_comparison: Comparison | None = None
        self._runs: dict[str, dict[str, Any]] = {}
        self._loaded_run: str | None = None
        self._pair_for: tuple[list[str], tuple[str | None, str | None]] = ([], (None, None))  # columns, default
        self._store_url = self.state.store.url
        self._reviewed: dict[str, str | None] = {}  # store → the run under review there
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
        self.table.observe(lambda change: self._show_count(), "sort")
        self.refresh_button.on_click(lambda b: self.refresh_runs())
        self.export_csv.on_click(lambda b: self.export("csv"))
        self.export_html.on_click(lambda b: self.export("html"))
        self.state.on("run_finished", lambda result: self.refresh_runs(select=result.run_id))
        self.state.on("run_stopped", lambda run_id: self.refresh_runs(select=run_id))
        self.state.on("store_changed", self._on_store)

    def _layout(self) -> list[w.Widget]:
        say = self.state.t
        row = w.Layout(flex_flow="row wrap", align_items="center")
        table_box = w.VBox([self.count, self.table], layout=w.Layout(flex="3 1 560px", min_width="0"))
        detail_box = w.VBox(
            [
                w.HTML(f"<h4 style='margin:4px 0'>{say('results.selected_row')}</h4>"),
                self.detail,
                self.form,
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
            w.HBox(
                [table_box, detail_box],
                layout=w.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"),
            ),
            w.HTML(f"<h4>{say('results.compare_two')}</h4>"),
            w.HBox([self.column_a, self.column_b], layout=row),
            self.comparison,
            w.HTML(f"<h4>{say('results.summary')}</h4>"),
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
        options = [(run_label(r, self.state.t), r["id"]) for r in runs]
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

    def _on_store(self, store: Any) -> None:
        """Another store: nothing of the old one's run stays; back in a store, the run reviewed there opens."""
        self._reviewed[self._store_url] = self._loaded_run
        self._store_url = store.url
        self._loaded_run = None
        self.form.reset()
        self.refresh_runs(select=self._reviewed.get(store.url))

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
        self.selected_row = self.form.selected_row = None
        self._read_run(new=True)

    def _read_run(self, *, new: bool = False) -> None:
        run_id = self.run_picker.value
        say = self.state.t
        self.records = self.state.store.results(run_id) if run_id else []
        self.frame = matrix(self.records) if self.records else empty_frame()
        self.columns = ordered_columns(self.records)
        self.provenance.value = provenance_html(self._runs[run_id], say) if run_id in self._runs else ""
        self.table.empty_text = say("results.no_match") if self._runs else say("results.no_runs")
        self._set_columns(keep=not new)
        self._update_comparison()
        self._render_summary()

    def _set_columns(self, *, keep: bool) -> None:
        """A and B: kept while the run's columns stay the same (or were chosen by the user and are still there);
        when the columns change, A and B that the panel chose itself follow them (the two newest versions)."""
        default = default_pair(self.columns)
        a, b = (self.column_a.value, self.column_b.value) if keep else (None, None)
        columns_before, default_before = self._pair_for
        if self.columns != columns_before and (a, b) == default_before:
            a, b = default  # the panel's own choice, for other columns: follow the run
        if a not in self.columns or b not in self.columns or (a == b and len(self.columns) > 1):
            a, b = default
        self._pair_for = (list(self.columns), default)
        options = list(self.columns)
        marked = self.mark_column.value if keep and self.mark_column.value in self.columns else b
        self._quiet = self.form.quiet = True  # one comparison and one render after all of them changed
        try:
            self.column_a.options, self.column_b.options = options, options
            self.mark_column.options = options
            self.column_a.value, self.column_b.value = a, b
            self.mark_column.value = marked
        finally:
            self._quiet = self.form.quiet = False
        self.table.set_columns(table_columns(self.frame, self.columns, self.state.t))

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
        self.table.set_rows(table_rows(df, self.columns, self.records, self.state.t) if not df.empty else [])
        if self.selected_row is not None and self.selected_row not in self.table.row_ids:
            self.table.selected = None  # filtered out: its detail goes too
        self._show_count()

    def _show_count(self) -> None:
        """How many rows the filter and the search let through, and the order they are in."""
        say = self.state.t
        if not self._runs:
            self.count.value = ""
            return
        needle = self.search.value.strip()
        searched = say("results.searched", needle=needle) if needle else ""
        shown = say("results.filter." + self.filter.value)
        text = say("results.count", shown=self.table.total, total=len(self.frame), filter=shown, searched=searched)
        sort = self.table.sort
        labels = {c["key"]: c["label"] for c in self.table.columns}
        if sort.get("key") in labels:
            direction = say("results.descending" if sort.get("descending") else "results.ascending")
            order = say("results.sorted_by", column=labels[sort["key"]], direction=direction)
        else:
            order = say("results.file_order")
        self.count.value = (
            f"<small>{html.escape(text)} · <span class='wb-sort-state'>{html.escape(order)}</span></small>"
        )

    def _on_select(self, change: Any) -> None:
        self.selected_row = self.form.selected_row = change["new"]
        self.messages.clear()
        self.form.default_column(self.column_b.value)
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
        say = self.state.t
        a, b = self.column_a.value, self.column_b.value
        self.result_comparison = None
        if not a or not b or a == b:
            self.comparison.value = f"<i>{html.escape(say('results.choose_two'))}</i>" if a else ""
        else:
            try:
                self.result_comparison = compare_runs(self.records, a=a, b=b)
                self.comparison.value = comparison_html(self.result_comparison, say)
            except WorkbenchError as exc:
                self.comparison.value = f"<i>{html.escape(str(exc))}</i>"
        self._render_table()
        self._show_detail()

    def _records_of(self, row_id: str | None) -> dict[str, ResultRecord]:
        if row_id is None:
            return {}
        found = {str(r.column): r for r in self.records if r.row_id == row_id and r.repeat == 0}
        return {c: found[c] for c in self.columns if c in found}

    def _show_detail(self) -> None:
        say = self.state.t
        by_column = self._records_of(self.selected_row)
        if not by_column:
            self.detail.value = f"<i>{html.escape(say('results.click_row'))}</i>" if self.records else ""
            return
        first = next(iter(by_column.values()))
        expected = first.inputs.get("expected")
        heading = f"<b>{html.escape(say('results.row_heading', row=self.selected_row))}</b>" + (
            f" · {html.escape(say('results.expected_is', expected=expected))}" if expected not in (None, "") else ""
        )
        labels = short_labels(self.columns)
        parts = [f"<div class='wb-block'>{heading}</div>", f"<div class='wb-block'>{inputs_table(first.inputs)}</div>"]
        parts += [record_html(labels[c], c, r, say) for c, r in by_column.items()]
        a, b = by_column.get(self.column_a.value), by_column.get(self.column_b.value)
        if a is not None and b is not None and a is not b:
            words = say("results.word_diff", b=labels[str(b.column)], a=labels[str(a.column)])
            parts.append(
                f"<div class='wb-block'><b>{html.escape(say('results.b_against_a'))}</b> {html.escape(words)} "
                f"{word_diff(a.output, b.output)}</div>"
            )
            parts.append(calls_side_by_side_html(a, b, say))  # "" unless the rows called tools
            parts.append(self._template_diff(a, b))
        self.detail.value = "".join(parts)

    def _template_diff(self, a: ResultRecord, b: ResultRecord) -> str:
        if a.prompt != b.prompt or a.version == b.version:
            return ""
        templates = self._templates(a, b)
        if templates is None:
            return ""
        return (
            f"<div class='wb-block'><b>{html.escape(self.state.t('results.what_changed'))}</b>"
            f"{version_diff_html(templates[0], templates[1], say=self.state.t)}</div>"
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

    def mark_bad(self, button: Any = None) -> Any:
        """Mark the selected row's result in the "Result of" column as a bad case (see :class:`MarkForm`)."""
        return self.form.mark_bad()

    # -- summary, charts, exports ---------------------------------------------------------------
    def _render_summary(self) -> None:
        if not self.records:
            self.summary.value = self.charts.value = ""
            return
        self.summary.value, summary = summary_html(self.records, self.state.t)
        latencies = [r.latency_ms for r in self.records if r.latency_ms is not None and not r.cached]
        self.charts.value = pass_rate_chart(summary, self.state.t) + latency_histogram(latencies, say=self.state.t)

    def export(self, kind: str) -> Any:
        """The visible rows of the matrix as CSV, or the run's HTML report (summary + coloured matrix), into
        ``exports/`` beside the notebook, with a link that opens it."""
        say = self.state.t
        self.messages.clear()
        run_id = self.run_picker.value
        if not run_id:
            self.messages.error(say("results.no_run_export"))
            return None
        folder = self.state.exports_dir
        folder.mkdir(parents=True, exist_ok=True)
        if kind == "csv":
            path = folder / f"{run_id}-matrix.csv"
            self.visible().to_csv(path, index=False)
        else:
            path = folder / f"{run_id}.html"
            rows = set(self.visible_ids)
            title = say("results.report_title", run_id=run_id)
            path.write_text(html_report([r for r in self.records if r.row_id in rows], title=title), encoding="utf-8")
        before, _, after = say("results.exported", link="\x00").partition("\x00")
        self.messages.info_html(f"{html.escape(before)}{file_link_html(path)}{html.escape(after)}")
        return path
