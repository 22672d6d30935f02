"""Run panel: a template's versions, its dataset (by default its own), models and parameters; run with progress;
stop cleanly.

In JupyterLab the run is scheduled on the kernel's event loop, so the notebook stays responsive and the progress
bar moves while the model works; Stop cancels it and every finished row stays stored (running the same choices
again resumes — so nothing but the user changes those choices: Refresh and a save in the Template tab only add
what is new). Opening a template in the Template tab is such a choice: the Run tab follows it (not while a run is
going). Opening another store clears what this tab said about the last run (it was another store's). Without a
running loop (tests, scripts) it runs to completion.
"""

from __future__ import annotations

import asyncio
import html
import threading
import time
from typing import Any

import ipywidgets as w

from workbench.datasets import load_dataset
from workbench.errors import WorkbenchError
from workbench.identity import PromptRef
from workbench.pipeline import arun, run
from workbench.results import RunResult
from workbench.store import now
from workbench.ui.state import WIDE, Messages, UIError, WorkbenchState, button
from workbench.ui.styles import as_panel, style_widget


class RunPanel(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        say = self.state.t
        wide = w.Layout(width="min(640px, 100%)")
        self.template = w.Dropdown(
            description=say("run.template"), options=self.state.library.names(), style=WIDE, layout=wide
        )
        self.prompts = w.SelectMultiple(description=say("run.versions"), rows=4, style=WIDE, layout=wide)
        self.versions_hint = w.HTML(f"<div class='wb-hint'>{html.escape(say('run.versions_hint'))}</div>")
        self.dataset = w.Dropdown(
            description=say("run.dataset"), options=self.state.dataset_options(), style=WIDE, layout=wide
        )
        self.limit = w.BoundedIntText(description=say("run.limit"), min=0, max=100_000, value=0, style=WIDE)
        self.dataset_size = w.HTML()
        self.dataset_size.add_class("wb-dataset-size")
        self.models = w.Textarea(
            description=say("run.models"),
            value="local",
            placeholder=say("run.models_placeholder"),
            style=WIDE,
            layout=w.Layout(width="min(640px, 100%)", height="56px"),
        )
        self.use_template_params = w.Checkbox(description=say("run.use_template_params"), value=True, style=WIDE)
        self.temperature = w.BoundedFloatText(
            description=say("run.temperature"), min=0, max=2, step=0.1, value=0.0, style=WIDE, disabled=True
        )
        self.repeats = w.BoundedIntText(description=say("run.repeats"), min=1, max=50, value=1, style=WIDE)
        self.concurrency = w.BoundedIntText(description=say("run.concurrency"), min=0, max=256, value=0, style=WIDE)
        for widget, name in (
            (self.template, "template"),
            (self.prompts, "versions"),
            (self.dataset, "dataset"),
            (self.limit, "limit"),
            (self.models, "models"),
            (self.temperature, "temperature"),
        ):
            widget.add_class(f"wb-run-{name}")
        self.run_button = button(say("run.run"), icon="play", button_style="success")
        self.run_button.add_class("wb-run")
        self.stop_button = button(say("run.stop"), icon="stop", button_style="danger", disabled=True)
        self.stop_button.add_class("wb-stop")
        self.progress = w.IntProgress(min=0, max=1, value=0)
        self.progress_label = w.HTML()
        self.progress_label.add_class("wb-run-progress")
        self.messages = Messages(say)
        self.messages.add_class("wb-run-status")
        self.result: RunResult | None = None
        self.run_id: str | None = None  # the run being executed (known from its first stored cell)
        self._task: asyncio.Future[Any] | None = None
        self._cancel = threading.Event()
        self._started = 0.0
        self._started_at = ""  # when Run was pressed, as the store writes times
        self._started_refs: list[str] = []
        self._answered = 0
        self._errors = 0
        self._default_versions: tuple[str, ...] = ()  # what the panel chose itself (the user has not picked)
        self._refreshing = False
        self.template.observe(self._on_template, "value")
        self.dataset.observe(self._show_dataset_size, "value")
        self.use_template_params.observe(self._sync_temperature, "value")
        self.run_button.on_click(self.start)
        self.stop_button.on_click(self.stop)
        self.state.on("template_saved", lambda template: self.refresh())
        self.state.on("template_opened", self._follow_template)
        self.state.on("store_changed", lambda store: self.reset())
        row = w.Layout(flex_flow="row wrap", align_items="center")
        super().__init__(
            [
                style_widget(),
                self.template,
                self.prompts,
                self.versions_hint,
                self.dataset,
                w.HBox([self.limit, self.dataset_size], layout=row),
                self.models,
                w.HBox([self.use_template_params, self.temperature, self.repeats, self.concurrency], layout=row),
                w.HBox([self.run_button, self.stop_button, self.progress, self.progress_label], layout=row),
                self.messages,
            ],
            **kwargs,
        )
        as_panel(self, "wb-run-panel")
        self._on_template()

    # -- choices ---------------------------------------------------------------------------------
    def _on_template(self, change: Any = None) -> None:
        """A template's versions (the newest chosen) and its own dataset; the previous run's message goes."""
        name = self.template.value
        if not name or self._refreshing:
            return
        self._set_versions(name)
        own = self.state.dataset_of(self.state.library.get(name))
        chosen = self.dataset.value
        options = self.state.dataset_options()
        self.dataset.options = options
        self.dataset.value = own or (chosen if chosen in [value for _, value in options] else self.dataset.value)
        spec = self.state.library.get(name).model.spec
        self.models.value = spec or "local"
        self.messages.clear()
        self._show_dataset_size()

    def _follow_template(self, name: str | None) -> None:
        """The Template tab opened ``name``: run that template (not while a run of another one is going)."""
        if self.state.running or not name or name == self.template.value:
            return
        self.refresh()
        if name in self.template.options:
            self.template.value = name

    def reset(self) -> None:
        """Another store is open: what this tab said about its last run belonged to the old one."""
        if self.state.running:
            return
        self.messages.clear()
        self.result, self.run_id = None, None
        self.progress.max, self.progress.value = 1, 0
        self.progress_label.value = ""

    def _set_versions(self, name: str) -> None:
        versions = self.state.library.versions(name)
        self.prompts.options = [f"{name}@v{v}" for v in reversed(versions)]
        self._default_versions = (f"{name}@v{versions[-1]}",)
        self.prompts.value = self._default_versions

    def _sync_temperature(self, change: Any = None) -> None:
        """The temperature field only applies when the template's own parameters are not used."""
        self.temperature.disabled = bool(self.use_template_params.value)

    def _show_dataset_size(self, change: Any = None) -> None:
        if not self.dataset.value:
            self.dataset_size.value = ""
            return
        say = self.state.t
        try:
            size = len(load_dataset(self.dataset.value))
        except WorkbenchError as exc:
            self.dataset_size.value = f"<span class='wb-hint'>{html.escape(say('run.cannot_read', error=exc))}</span>"
            return
        self.dataset_size.value = f"<span class='wb-hint'>{html.escape(say('run.of_rows', n=size))}</span>"

    def refresh(self, select: str | None = None) -> None:
        """Re-read the library and the datasets folder; what the user chose stays chosen (a second Run with the same
        choices resumes a stopped run). The versions follow a newly saved version only while the panel still shows
        its own default (the newest); ``select`` a ref like ``name@v3`` to choose it."""
        names = self.state.library.names()
        shown = self.template.value
        current = select.split("@")[0] if select else shown
        self._refreshing = True  # new options reset a Dropdown to its first option: that is not the user's pick
        try:
            self.template.options = names
            if shown in names:
                self.template.value = shown
        finally:
            self._refreshing = False
        if current not in names:
            self._on_template()  # the template shown was removed: the first one, with its defaults
            return
        if shown != current:
            self.template.value = current  # a different template: its own defaults
        else:
            self._refresh_versions(current)
            self._refresh_datasets()
        if select and select in self.prompts.options:
            self.prompts.value = (select,)

    def _refresh_versions(self, name: str) -> None:
        chosen, was_default = tuple(self.prompts.value), tuple(self.prompts.value) == self._default_versions
        versions = self.state.library.versions(name)
        options = [f"{name}@v{v}" for v in reversed(versions)]
        self.prompts.options = options
        self._default_versions = (options[0],)
        kept = tuple(ref for ref in chosen if ref in options)
        self.prompts.value = self._default_versions if was_default or not kept else kept

    def _refresh_datasets(self) -> None:
        chosen = self.dataset.value
        options = self.state.dataset_options()
        self.dataset.options = options
        if chosen in [value for _, value in options]:
            self.dataset.value = chosen

    def select(self, prompt_refs: list[str], dataset: str | None = None) -> None:
        name = prompt_refs[0].split("@")[0]
        if self.template.value != name:
            self.template.value = name
        self.prompts.value = tuple(prompt_refs)
        if dataset is not None:
            self.dataset.value = dataset

    def _options(self) -> dict[str, Any]:
        say = self.state.t
        models = [line.strip() for line in self.models.value.splitlines() if line.strip()]
        if not models:
            raise UIError(say("run.need_model"))
        if not self.prompts.value:
            raise UIError(say("run.need_version"))
        if not self.dataset.value:
            raise UIError(say("run.no_dataset", folder=self.state.datasets_dir))
        params = {} if self.use_template_params.value else {"temperature": self.temperature.value}
        refs = sorted(self.prompts.value, key=lambda ref: PromptRef.parse(ref).version)  # columns oldest → newest
        return {
            "prompts": [self.state.library.get(ref) for ref in refs],
            "dataset": self.dataset.value,
            "models": models,
            "store": self.state.store,
            "limit": self.limit.value or None,
            "progress": False,
            "params": params,
            "repeats": self.repeats.value,
            "concurrency": self.concurrency.value or None,
            "on_result": self._on_result,
            "cancel_event": self._cancel,
            "origin": "ui",
        }

    # -- running ---------------------------------------------------------------------------------
    def _on_result(self, record: Any, done: int, total: int) -> None:
        self.run_id = record.run_id
        self._answered += 1  # only cells answered now call back (resumed ones are already stored)
        self._errors += bool(record.error)
        self.progress.max, self.progress.value = total, done
        rate = self._answered / max(1e-6, time.perf_counter() - self._started)
        self.progress_label.value = self.state.t("run.progress", done=done, total=total, rate=rate, errors=self._errors)

    def start(self, button: Any = None) -> None:
        self.messages.clear()
        try:
            options = self._options()
        except WorkbenchError as exc:
            self.messages.error(exc)
            return
        self._cancel.clear()
        self._answered = self._errors = 0
        self.run_id = None
        self._started = time.perf_counter()
        self._started_at = now()
        self._started_refs = [p.ref for p in options["prompts"]]
        self.progress.max, self.progress.value = 1, 0
        self.progress_label.value = self.state.t("run.checking")
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.state.running = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:  # no kernel loop (tests, scripts): run to completion here
            try:
                self._finished(run(options.pop("prompts"), options.pop("dataset"), options.pop("models"), **options))
            except (WorkbenchError, asyncio.CancelledError) as exc:
                self._failed(exc)
            return
        coro = arun(options.pop("prompts"), options.pop("dataset"), options.pop("models"), **options)
        self._task = asyncio.ensure_future(coro)
        self._task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        if task.cancelled():
            self._failed(asyncio.CancelledError())
        elif task.exception() is not None:
            self._failed(task.exception())
        else:
            self._finished(task.result())

    def _finished(self, result: RunResult) -> None:
        say = self.state.t
        self.result = result
        self.run_id = result.run_id
        self.state.last_run_id = result.run_id
        self.state.running = False
        self.run_button.disabled, self.stop_button.disabled = False, True
        total = len(result.records)
        self.progress.max, self.progress.value = max(1, total), total
        rate = result.pass_rate
        self.progress_label.value = say("run.progress_done", total=total)
        self.messages.info(
            say(
                "run.finished",
                run_id=result.run_id,
                total=total,
                rate=say("common.na") if rate is None else f"{rate:.0%}",
                errors=len(result.errors),
                called=result.stats["called"],
                cached=result.stats["cached"],
                resumed=result.stats["resumed"],
            )
        )
        self.state.emit("run_finished", result)

    def _failed(self, exc: BaseException) -> None:
        self.state.running = False
        self.run_button.disabled, self.stop_button.disabled = False, True
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
            self._stopped()
        else:
            self.progress_label.value = ""
            self.messages.error(exc)

    def _stopped(self) -> None:
        run = self._stopped_run()
        self.run_id = run["id"] if run else self.run_id
        stored = self.state.store.result_count(self.run_id) if self.run_id else 0
        total = run["n_cells"] if run else self.progress.max
        self.progress.max, self.progress.value = max(1, total), stored
        say = self.state.t
        self.progress_label.value = say("run.progress_stopped", stored=stored, total=total)
        if self.run_id:
            self.messages.info(say("run.stopped_run", stored=stored, total=total, run_id=self.run_id))
        else:
            self.messages.info(say("run.stopped", stored=stored, total=total))
        self.state.emit("run_stopped", self.run_id)

    def _stopped_run(self) -> dict[str, Any] | None:
        """The run this panel started and Stop ended. Its id usually came with the first stored cell, but cells
        stored in the last moments before Stop report nothing: then it is this panel's newest run with these
        prompts and models, started after Run was pressed."""
        candidates = self.state.store.runs(limit=20, origin="ui", since=self._started_at)
        if self.run_id is not None:
            return next((r for r in candidates if r["id"] == self.run_id), None)
        return next((r for r in candidates if r["prompts"] == self._started_refs), None)

    def stop(self, button: Any = None) -> None:
        self._cancel.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
