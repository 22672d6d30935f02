"""Runs view: every run in the store — yours, your colleagues', the nightly job's, a cluster's — filtered by prompt,
model, origin and date, with where each came from; and a prompt's pass rate per version with 95 % intervals.

The trend is :func:`workbench.trend.trend` (what ``workbench runs trend`` prints): each row counted once per
version, versions compared on their shared rows. This view draws it; it computes no statistics of its own.

On a narrow screen the table keeps what tells runs apart — when, who, what and how well — in its first columns; the
run's id (also in the detail line) comes last.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.i18n import DEFAULT, Messages
from workbench.identity import PromptRef
from workbench.trend import trend
from workbench.ui.charts import trend_chart, version_trend_chart
from workbench.ui.detail import text_cell
from workbench.ui.matrix import verdict_text
from workbench.ui.run_labels import origin_label, provenance_html, started, status_label, who
from workbench.ui.state import WIDE, WorkbenchState, button
from workbench.ui.state import Messages as MessageLine
from workbench.ui.styles import as_panel, style_widget
from workbench.ui.table import Column, DataTable, Row, table_labels

ANY = "(any)"  # a filter's "any" value (its label comes from the catalogue)
ORIGINS = ("notebook", "cli", "nightly", "cluster", "ui", "recheck", "python", "serve")
LIMIT = 500
ENGLISH = Messages(DEFAULT)
# key, kind, min width, has a tooltip of its own
COLUMN_SPECS = (
    ("started", "key", "8em", True),
    ("who", "key", "", True),
    ("prompts", "text", "9em", True),
    ("passed", "key", "", True),
    ("origin", "key", "", True),
    ("models", "text", "6em", True),
    ("errors", "", "", False),
    ("status", "", "", False),
    ("dataset", "text", "6em", False),
    ("id", "key", "", True),
)
TEXT = ("prompts", "models", "dataset")


def run_columns(say: Messages = ENGLISH) -> list[Column]:
    """The Runs table's columns in ``say``'s language."""
    return [
        Column(key, say(f"runs.col.{key}"), say(f"runs.col.{key}_title") if titled else "", width, kind=kind)
        for key, kind, width, titled in COLUMN_SPECS
    ]


RUN_COLUMNS = run_columns()


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


def run_row(run: dict[str, Any], say: Messages = ENGLISH) -> Row:
    """A run as a table row (cells escaped, long text cut with the whole on hover, sortable values beside them)."""
    judged, passed = run.get("judged", 0), run.get("passed", 0)
    rate = f"{passed}/{judged} ({passed / judged:.0%})" if judged else "–"
    dataset = Path(run["dataset"]).name if run.get("dataset") else ""
    values = {
        "started": started(run),
        "id": run["id"],
        "status": status_label(run.get("status"), say),
        "prompts": ", ".join(run.get("prompts") or []),
        "models": ", ".join(run.get("models") or []),
        "passed": rate,
        "errors": str(run.get("errors", 0)),
        "origin": origin_label(run, say),
        "who": who(run),
        "dataset": dataset,
    }
    cells = {key: text_cell(value) if key in TEXT else html.escape(value) for key, value in values.items()}
    keys: dict[str, Any] = {**values, "passed": passed / judged if judged else None, "errors": run.get("errors", 0)}
    return Row(run["id"], cells, keys)


class RunsView(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        say = self.state.t
        self.prompt = w.Dropdown(description=say("runs.prompt"), options=[(say("common.any"), ANY)], style=WIDE)
        self.prompt.add_class("wb-runs-prompt")
        self.model = w.Dropdown(description=say("runs.model"), options=[(say("common.any"), ANY)], style=WIDE)
        self.model.add_class("wb-runs-model")
        self.origin = w.Dropdown(
            description=say("runs.from"),
            options=[(say("runs.anywhere"), ANY), *((origin_label({"origin": o}, say), o) for o in ORIGINS)],
            style=WIDE,
        )
        self.origin.add_class("wb-runs-origin")
        self.since = w.DatePicker(description=say("runs.since"), style=WIDE)
        self.since.add_class("wb-runs-since")
        self.refresh_button = button(say("common.refresh"), icon="refresh", tooltip=say("runs.refresh_tooltip"))
        self.count = w.HTML()
        self.table = DataTable(empty_text=say("runs.empty"), labels=table_labels(say))
        self.table.add_class("wb-runs-table")
        self.detail = w.HTML()
        self.detail.add_class("wb-runs-detail")
        self.open_button = button(say("runs.open"), icon="table", disabled=True)
        self.open_button.add_class("wb-runs-open")
        self.messages = MessageLine(say)
        self.trend_dataset = w.Dropdown(description=say("runs.trend_on"), style=WIDE, layout=w.Layout(width="auto"))
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
                w.HTML(f"<h4>{html.escape(say('runs.per_version'))}</h4>"),
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
        self.state.on("run_finished", lambda payload: self.refresh())
        self.state.on("store_changed", lambda payload: self.reset())

    # -- filters and the list -----------------------------------------------------------------------
    def reset(self) -> None:
        """Another store: the filters, the selected run and the messages were about the old one."""
        self._filling = True
        try:
            for widget in (self.prompt, self.model, self.origin):
                widget.value = ANY
            self.since.value = None
        finally:
            self._filling = False
        self.table.selected = None
        self.messages.clear()
        self.refresh()

    def refresh(self) -> None:
        """Re-read the store: the choices of the filters (what the store holds), then the list and the trend."""
        every = self.state.store.runs(limit=LIMIT)
        prompts = sorted(set(prompt_names(every)) | set(self.state.library.names()))
        models = sorted({m for run in every for m in run.get("models") or []})
        anything = (self.state.t("common.any"), ANY)
        self._filling = True  # new options reset a Dropdown to its first option: the filters chosen stay
        try:
            for widget, names in ((self.prompt, prompts), (self.model, models)):
                chosen = widget.value
                widget.options = [anything, *((name, name) for name in names)]
                widget.value = chosen if chosen in names else ANY
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
        say = self.state.t
        self.runs = self.state.store.runs(limit=LIMIT, **self.filters())
        self.table.set_columns(run_columns(say))
        self.table.set_rows([run_row(r, say) for r in self.runs])
        shown = {k: v for k, v in self.filters().items() if v}
        if "origin" in shown:
            shown["origin"] = origin_label({"origin": shown["origin"]}, say)
        said = ", ".join(say(f"runs.filter.{k}", value=v) for k, v in shown.items()) or say("runs.no_filter")
        self.count.value = f"<small>{html.escape(say('runs.count', n=len(self.runs), filters=said))}</small>"
        if self.table.selected not in self.table.row_ids:
            self.table.selected = None

    def _on_select(self, change: Any) -> None:
        run = next((r for r in self.runs if r["id"] == change["new"]), None)
        self.open_button.disabled = run is None
        self.detail.value = provenance_html(run, self.state.t) if run is not None else ""

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
        say = self.state.t
        prompt, model = self.filters()["prompt"], self.filters()["model"]
        self.trend_table.value = ""
        if prompt is None:
            self.trend_chart.value = f"<i>{html.escape(say('runs.choose_prompt'))}</i>"
            return
        if not self.trend_dataset.value:
            self.trend_chart.value = f"<i>{html.escape(say('runs.no_runs_of', prompt=prompt))}</i>"
            return
        report = trend(self.state.store, prompt, model, self.trend_dataset.value)
        if report.empty:
            text = say("runs.no_judged", prompt=prompt, dataset=self.trend_dataset.value)
            self.trend_chart.value = f"<i>{html.escape(text)}</i>"
            return
        per_run = trend_chart(report, say("charts.per_run_title", prompt=prompt, dataset=report.dataset))
        self.trend_chart.value = version_trend_chart(report, say) + (
            f"<details><summary>{html.escape(say('runs.every_run'))}</summary>{per_run}</details>"
        )
        self.trend_table.value = _versions_table(report, say) + _comparisons_html(report, say)


def _versions_table(report: Any, say: Messages) -> str:
    rows = []
    for point in report.versions:
        ci = "" if point["ci_low"] is None else f"{point['ci_low']:.0%}–{point['ci_high']:.0%}"
        rate = "" if point["pass_rate"] is None else f"{point['pass_rate']:.0%}"
        dataset = f"{point['dataset']} #{point['dataset_hash'][:6]}"
        cells = [f"v{point['version']}", point["model"], dataset, point["params"], point["runs"], point["rows"]]
        cells += [point["passed"], rate, ci]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    heads = [say(f"runs.th.{h}") for h in ("version", "model", "dataset", "parameters", "runs", "rows", "passed")]
    heads += [say("stats.pass_rate"), say("stats.ci95")]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    return f"<table class='wb-plain wb-trend-versions'><tr>{head}</tr>{''.join(rows)}</table>"


def _comparisons_html(report: Any, say: Messages) -> str:
    lines = []
    for c in report.comparisons:
        note = f" ({c['note']})" if c["note"] else ""
        pair = say(
            "runs.comparison",
            b=c["b"],
            a=c["a"],
            model=c["model"],
            shared=c["shared_rows"],
            b_only=c["b_only"],
            a_only=c["a_only"],
        )
        verdict = verdict_text(c["verdict"], say, kind="verdict_word")
        lines.append(
            f"<li>{html.escape(pair)} ({html.escape(c['params'])}); "
            f"{html.escape(say('stats.mcnemar_p', p=c['p_value']))} → <b>{html.escape(verdict)}</b>"
            f"{html.escape(note)}</li>"
        )
    return f"<ul class='wb-trend-comparisons'>{''.join(lines)}</ul>" if lines else ""
