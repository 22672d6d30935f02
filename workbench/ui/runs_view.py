"""Runs view: every run in the store — yours, your colleagues', the nightly job's, a cluster's — filtered by prompt,
model, origin and date, with where each came from; and a prompt's pass rate per version with 95 % intervals.

The trend is :func:`workbench.trend.trend` (what ``workbench runs trend`` prints): each row counted once per
version, versions compared on their shared rows. This view draws it; it computes no statistics of its own.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.identity import PromptRef
from workbench.trend import trend
from workbench.ui.charts import trend_chart, version_trend_chart
from workbench.ui.run_labels import origin_label, provenance_html, started, who
from workbench.ui.state import WIDE, Messages, WorkbenchState, button
from workbench.ui.styles import as_panel, style_widget
from workbench.ui.table import Column, DataTable, Row

ANY = "(any)"
ORIGINS = ("notebook", "cli", "nightly", "cluster", "ui", "recheck", "python", "serve")
LIMIT = 500
RUN_COLUMNS = [
    Column("started", "started", "when the run started (UTC)", "9em"),
    Column("id", "run", "the run's id", "10em"),
    Column("status", "status"),
    Column("prompts", "prompts", "prompt versions", "12em"),
    Column("models", "models", "model specs", "8em"),
    Column("passed", "passed", "passed / judged cells"),
    Column("errors", "errors"),
    Column("origin", "from", "notebook, CLI, nightly job, cluster, recheck, …"),
    Column("who", "who", "user@host from the run's provenance"),
    Column("dataset", "dataset"),
]


def prompt_names(runs: list[dict[str, Any]]) -> list[str]:
    """The prompts the runs ran (``name@vN`` → ``name``)."""
    names = set()
    for run in runs:
        for ref in run.get("prompts") or []:
            try:
                names.add(PromptRef.parse(ref).name)
            except Exception:
                names.add(str(ref))
    return sorted(names)


def run_row(run: dict[str, Any]) -> Row:
    """A run as a table row (cells escaped, sortable values beside them)."""
    judged, passed = run.get("judged", 0), run.get("passed", 0)
    rate = f"{passed}/{judged} ({passed / judged:.0%})" if judged else "–"
    dataset = Path(run["dataset"]).name if run.get("dataset") else ""
    values = {
        "started": started(run),
        "id": run["id"],
        "status": run.get("status") or "",
        "prompts": ", ".join(run.get("prompts") or []),
        "models": ", ".join(run.get("models") or []),
        "passed": rate,
        "errors": str(run.get("errors", 0)),
        "origin": origin_label(run),
        "who": who(run),
        "dataset": dataset,
    }
    cells = {key: html.escape(value) for key, value in values.items()}
    keys: dict[str, Any] = {**values, "passed": passed / judged if judged else None, "errors": run.get("errors", 0)}
    return Row(run["id"], cells, keys)


class RunsView(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        self.prompt = w.Dropdown(description="Prompt", options=[ANY], style=WIDE)
        self.prompt.add_class("wb-runs-prompt")
        self.model = w.Dropdown(description="Model", options=[ANY], style=WIDE)
        self.model.add_class("wb-runs-model")
        self.origin = w.Dropdown(
            description="From", options=[("anywhere", ANY), *((origin_label({"origin": o}), o) for o in ORIGINS)]
        )
        self.origin.add_class("wb-runs-origin")
        self.since = w.DatePicker(description="Since", style=WIDE)
        self.since.add_class("wb-runs-since")
        self.refresh_button = button("Refresh", icon="refresh", tooltip="re-read the runs in the store")
        self.count = w.HTML()
        self.table = DataTable(empty_text="No runs match these filters.")
        self.table.add_class("wb-runs-table")
        self.detail = w.HTML()
        self.detail.add_class("wb-runs-detail")
        self.open_button = button("Open in Results", icon="table", disabled=True)
        self.open_button.add_class("wb-runs-open")
        self.messages = Messages()
        self.trend_dataset = w.Dropdown(description="Trend on", style=WIDE, layout=w.Layout(width="auto"))
        self.trend_dataset.add_class("wb-trend-dataset")
        self.trend_chart = w.HTML()
        self.trend_chart.add_class("wb-trend-chart")
        self.trend_table = w.HTML()
        self.trend_table.add_class("wb-trend-table")
        self.runs: list[dict[str, Any]] = []
        self._filling = False
        self._wire()
        row = w.Layout(flex_flow="row wrap", align_items="center")
        super().__init__(
            [
                style_widget(),
                w.HBox([self.prompt, self.model, self.origin, self.since, self.refresh_button], layout=row),
                self.count,
                self.table,
                w.HBox([self.detail, self.open_button], layout=row),
                self.messages,
                w.HTML("<h4>Pass rate per prompt version</h4>"),
                self.trend_dataset,
                self.trend_chart,
                self.trend_table,
            ],
            **kwargs,
        )
        as_panel(self, "wb-runs")
        self.refresh()

    def _wire(self) -> None:
        for widget in (self.prompt, self.model, self.origin, self.since):
            widget.observe(self._on_filter, "value")
        self.trend_dataset.observe(lambda change: self._show_trend(), "value")
        self.table.observe(self._on_select, "selected")
        self.refresh_button.on_click(lambda b: self.refresh())
        self.open_button.on_click(lambda b: self.open_selected())
        for event in ("run_finished", "store_changed"):
            self.state.on(event, lambda payload: self.refresh())

    # -- filters and the list -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the store: the choices of the filters (what the store holds), then the list and the trend."""
        every = self.state.store.runs(limit=LIMIT)
        prompts = sorted(set(prompt_names(every)) | set(self.state.library.names()))
        models = sorted({m for run in every for m in run.get("models") or []})
        self._filling = True  # new options reset a Dropdown to its first option: the filters chosen stay
        try:
            for widget, options in ((self.prompt, [ANY, *prompts]), (self.model, [ANY, *models])):
                chosen = widget.value
                widget.options = options
                widget.value = chosen if chosen in options else ANY
        finally:
            self._filling = False
        self._list()
        self._fill_trend_datasets()

    def _on_filter(self, change: Any) -> None:
        if self._filling:
            return
        self._list()
        if change["owner"] in (self.prompt, self.model):
            self._fill_trend_datasets()

    def filters(self) -> dict[str, Any]:
        """The filters as :meth:`workbench.store.Store.runs` takes them."""
        since = self.since.value
        return {
            "prompt": None if self.prompt.value == ANY else self.prompt.value,
            "model": None if self.model.value == ANY else self.model.value,
            "origin": None if self.origin.value == ANY else self.origin.value,
            "since": since.isoformat() if isinstance(since, dt.date) else None,
        }

    def _list(self) -> None:
        self.runs = self.state.store.runs(limit=LIMIT, **self.filters())
        self.table.set_columns(RUN_COLUMNS)
        self.table.set_rows([run_row(r) for r in self.runs])
        shown = {k: v for k, v in self.filters().items() if v}
        said = ", ".join(f"{k} {v}" for k, v in shown.items()) or "no filter"
        self.count.value = f"<small>{len(self.runs)} runs ({html.escape(said)}), newest first</small>"
        if self.table.selected not in self.table.row_ids:
            self.table.selected = None

    def _on_select(self, change: Any) -> None:
        run = next((r for r in self.runs if r["id"] == change["new"]), None)
        self.open_button.disabled = run is None
        self.detail.value = provenance_html(run) if run is not None else ""

    def open_selected(self) -> None:
        """Show the selected run in the Results tab."""
        if self.table.selected:
            self.state.emit("open_run", self.table.selected)

    # -- the trend ----------------------------------------------------------------------------------------
    def _fill_trend_datasets(self) -> None:
        """The datasets the chosen prompt ran on (its own first): a trend is about one dataset."""
        prompt = self.filters()["prompt"]
        if prompt is None:
            self.trend_dataset.options = []
            self._show_trend()
            return
        names = list(dict.fromkeys(Path(r["dataset"]).name for r in self.runs if r.get("dataset")))
        own = self._own_dataset(prompt)
        if own in names:
            names.remove(own)
            names.insert(0, own)
        self.trend_dataset.options = names
        self.trend_dataset.value = names[0] if names else None
        self._show_trend()

    def _own_dataset(self, prompt: str) -> str | None:
        try:
            dataset = self.state.library.get(prompt).dataset
        except Exception:
            return None
        return Path(dataset).name if dataset else None

    def _show_trend(self) -> None:
        prompt, model = self.filters()["prompt"], self.filters()["model"]
        if prompt is None:
            self.trend_chart.value = "<i>Choose a prompt above to see its pass rate per version.</i>"
            self.trend_table.value = ""
            return
        if not self.trend_dataset.value:
            self.trend_chart.value = f"<i>No runs of {html.escape(prompt)} in this store yet.</i>"
            self.trend_table.value = ""
            return
        report = trend(self.state.store, prompt, model, self.trend_dataset.value)
        if report.empty:
            self.trend_chart.value = (
                f"<i>No judged runs of {html.escape(prompt)} on {html.escape(self.trend_dataset.value)}.</i>"
            )
            self.trend_table.value = ""
            return
        per_run = trend_chart(report, f"{prompt} per run on {report.dataset}")
        self.trend_chart.value = (
            version_trend_chart(report) + f"<details><summary>Every run (oldest → newest)</summary>{per_run}</details>"
        )
        self.trend_table.value = _versions_table(report) + _comparisons_html(report)


def _versions_table(report: Any) -> str:
    rows = []
    for point in report.versions:
        ci = "" if point["ci_low"] is None else f"{point['ci_low']:.0%}–{point['ci_high']:.0%}"
        rate = "" if point["pass_rate"] is None else f"{point['pass_rate']:.0%}"
        dataset = f"{point['dataset']} #{point['dataset_hash'][:6]}"
        cells = [f"v{point['version']}", point["model"], dataset, point["params"], point["runs"], point["rows"]]
        cells += [point["passed"], rate, ci]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("version", "model", "dataset", "parameters", "runs", "rows", "passed", "pass rate", "95% CI")
    )
    return f"<table class='wb-plain wb-trend-versions'><tr>{head}</tr>{''.join(rows)}</table>"


def _comparisons_html(report: Any) -> str:
    lines = []
    for c in report.comparisons:
        note = f" ({c['note']})" if c["note"] else ""
        lines.append(
            f"<li>{html.escape(c['b'])} vs {html.escape(c['a'])} on {html.escape(c['model'])} "
            f"({html.escape(c['params'])}), {c['shared_rows']} "
            f"shared rows: {c['b_only']} pass only in {html.escape(c['b'])}, {c['a_only']} only in "
            f"{html.escape(c['a'])}; exact McNemar p = {c['p_value']:.3g} → <b>{html.escape(c['verdict'])}</b>"
            f"{html.escape(note)}</li>"
        )
    return f"<ul class='wb-trend-comparisons'>{''.join(lines)}</ul>" if lines else ""
