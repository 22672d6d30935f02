"""Results view: filterable, paginated table; side-by-side comparison; row detail; charts; mark as bad."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.compare import compare_runs
from workbench.errors import WorkbenchError
from workbench.reports import results_dataframe, summarize
from workbench.store import ResultRecord
from workbench.ui.charts import bar_chart, histogram
from workbench.ui.state import WorkbenchState, error_html, info_html, pre

PAGE_SIZE = 10
TABLE_COLUMNS = ["result_id", "row_id", "prompt", "version", "model", "output", "parsed", "expected", "passed"]


class ResultsView(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        self.run_picker = w.Dropdown(description="Run", layout=w.Layout(width="60%"))
        self.compare_picker = w.Dropdown(description="Compare with", layout=w.Layout(width="60%"))
        self.filter = w.ToggleButtons(options=["all", "failed", "errors", "flipped"], value="all")
        self.page = w.BoundedIntText(description="Page", min=1, max=1, value=1, layout=w.Layout(width="150px"))
        self.table = w.HTML()
        self.table.add_class("wb-results-table")
        self.summary = w.HTML()
        self.charts = w.HTML()
        self.row_picker = w.Dropdown(description="Row")
        self.detail = w.HTML()
        self.tags = w.Text(description="Tags", placeholder="wrong label, format error")
        self.note = w.Text(description="Note")
        self.expected = w.Text(description="Expected")
        self.mark_button = w.Button(description="Mark as bad case", icon="flag", button_style="warning")
        self.mark_button.add_class("wb-mark-bad")
        self.message = w.HTML()
        self.records: list[ResultRecord] = []
        self.run_picker.observe(self._load_run, "value")
        for widget in (self.compare_picker, self.filter, self.page):
            widget.observe(self._render, "value")
        self.row_picker.observe(self._show_detail, "value")
        self.mark_button.on_click(self.mark_bad)
        self.state.on("run_finished", lambda result: self.refresh_runs(select=result.run_id))
        super().__init__([
            w.HTML("<h3>Results</h3>"), self.run_picker, self.compare_picker, w.HBox([self.filter, self.page]),
            self.table, self.summary, self.charts, w.HTML("<h4>Row</h4>"), self.row_picker, self.detail,
            w.HBox([self.tags, self.note, self.expected]), self.mark_button, self.message,
        ], **kwargs)  # fmt: skip
        self.refresh_runs()

    def refresh_runs(self, select: str | None = None) -> None:
        runs = self.state.store.runs(limit=100)
        options = [(f"{r['id']} · {', '.join(_json_list(r['prompts']))} · {r['status']}", r["id"]) for r in runs]
        self.run_picker.options = options
        self.compare_picker.options = [("(none)", None), *options]
        if options:
            self.run_picker.value = select if select in [o[1] for o in options] else options[0][1]
        self._load_run()

    def _load_run(self, change: Any = None) -> None:
        self.records = self.state.store.results(self.run_picker.value) if self.run_picker.value else []
        self.page.value = 1
        self._render()

    def visible_records(self) -> list[ResultRecord]:
        mode = self.filter.value
        if mode == "failed":
            return [r for r in self.records if r.passed is False]
        if mode == "errors":
            return [r for r in self.records if r.error]
        if mode == "flipped":
            if not self.compare_picker.value:
                return []
            before = {(r.row_id, r.repeat): r.passed for r in self.state.store.results(self.compare_picker.value)}
            return [r for r in self.records
                    if (r.row_id, r.repeat) in before and before[(r.row_id, r.repeat)] != r.passed]  # fmt: skip
        return self.records

    def _render(self, change: Any = None) -> None:
        records = self.visible_records()
        pages = max(1, -(-len(records) // PAGE_SIZE))
        self.page.max = pages
        shown = records[(self.page.value - 1) * PAGE_SIZE : self.page.value * PAGE_SIZE]
        if self.compare_picker.value and self.records:
            try:
                other = self.state.store.results(self.compare_picker.value)
                comparison = compare_runs(other, self.records)
                table = comparison.flipped_frame()
                self.table.value = html.escape(str(comparison)).replace("\n", "<br>") + (
                    table.to_html(index=False, escape=True) if len(table) else "<i>no flipped rows</i>")
            except WorkbenchError as exc:
                self.table.value = error_html(exc)
        elif shown:
            df = results_dataframe(shown)
            df["expected"] = [r.inputs.get("expected") for r in shown]
            self.table.value = df[TABLE_COLUMNS].to_html(index=False, escape=True, na_rep="")
        else:
            self.table.value = "<i>no rows to show</i>"
        self.table.value += f"<div>{len(records)} rows · page {self.page.value} of {pages}</div>"
        self.row_picker.options = [(f"#{r.id} row {r.row_id} · {r.prompt}@v{r.version} · {r.model}", r.id)
                                   for r in shown]  # fmt: skip
        if shown and self.row_picker.value is None:  # ipywidgets 8 leaves the value empty on new options
            self.row_picker.value = shown[0].id
        self._render_summary()
        self._show_detail()

    def _render_summary(self) -> None:
        if not self.records:
            self.summary.value, self.charts.value = "", ""
            return
        summary = summarize(self.records)
        self.summary.value = summary.to_html(index=False, na_rep="")
        labels = list(summary["column"])
        rates = [float(x) if x == x and x is not None else 0.0 for x in summary["pass_rate"]]
        latencies = [r.latency_ms for r in self.records if r.latency_ms is not None]
        self.charts.value = (bar_chart(labels, rates, title="Pass rate per prompt version × model")
                             + histogram(latencies, title="Latency distribution"))  # fmt: skip

    def _selected(self) -> ResultRecord | None:
        return next((r for r in self.records if r.id == self.row_picker.value), None)

    def _show_detail(self, change: Any = None) -> None:
        record = self._selected()
        if record is None:
            self.detail.value = ""
            return
        scores = "".join(f"<li>{html.escape(s['name'])}: {'✓' if s['passed'] else '✗'} {html.escape(s['reason'])}</li>"
                         for s in record.scores)  # fmt: skip
        retrieved = ", ".join(c["id"] for c in record.retrieved)
        self.detail.value = (
            f"<b>Inputs</b>{pre(str(record.inputs))}<b>Rendered prompt</b>{pre(record.rendered)}"
            f"<b>Output</b>{pre(record.output or '')}"
            + (error_html(record.error) if record.error else "")
            + (f"<b>Scores</b><ul>{scores}</ul>" if scores else "")
            + (f"<b>Retrieved</b> {html.escape(retrieved)}" if retrieved else "")
        )
        self.expected.value = str(record.inputs.get("expected") or "")

    def mark_bad(self, button: Any = None) -> Any:
        record = self._selected()
        if record is None:
            self.message.value = error_html("Choose a row first.")
            return None
        tags = [t.strip() for t in self.tags.value.split(",") if t.strip()]
        case = self.state.tracker.mark_bad(record.id, tags=tags, note=self.note.value,
                                           expected=self.expected.value or None)  # fmt: skip
        self.message.value = info_html(f"Bad case #{case.id} ({case.status}) tags: {', '.join(case.tags) or '-'}")
        self.state.emit("bad_case_marked", case)
        return case


def _json_list(value: str) -> list[str]:
    import json

    try:
        return list(json.loads(value))
    except (TypeError, ValueError):
        return [str(value)]
