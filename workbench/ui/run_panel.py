"""Run panel: a template's versions, its dataset (by default its own), models and parameters; run with progress;
stop cleanly.

In JupyterLab the run is scheduled on the kernel's event loop, so the notebook stays responsive and the progress
bar moves while the model works; Stop cancels it and every finished row stays stored (running the same choices
again resumes). Without a running loop (tests, scripts) it runs to completion.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import ipywidgets as w

from workbench.errors import WorkbenchError
from workbench.pipeline import arun, run
from workbench.results import RunResult
from workbench.ui.state import WIDE, Messages, WorkbenchState, button


class RunPanel(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        wide = w.Layout(width="min(640px, 100%)")
        self.template = w.Dropdown(description="Template", options=self.state.library.names(), style=WIDE, layout=wide)
        self.prompts = w.SelectMultiple(description="Versions", rows=4, style=WIDE, layout=wide)
        self.dataset = w.Dropdown(description="Dataset", options=self.state.dataset_options(), style=WIDE, layout=wide)
        self.limit = w.BoundedIntText(description="Rows (0 = all)", min=0, max=100_000, value=8, style=WIDE)
        self.models = w.Textarea(
            description="Models",
            value="local",
            placeholder="one spec per line",
            style=WIDE,
            layout=w.Layout(width="min(640px, 100%)", height="56px"),
        )
        self.use_template_params = w.Checkbox(description="use the template's parameters", value=True, style=WIDE)
        self.temperature = w.BoundedFloatText(description="Temperature", min=0, max=2, step=0.1, value=0.0, style=WIDE)
        self.repeats = w.BoundedIntText(description="Repeats", min=1, max=50, value=1, style=WIDE)
        self.concurrency = w.BoundedIntText(
            description="Concurrency (0 = the model's)", min=0, max=256, value=0, style=WIDE
        )
        for widget, name in (
            (self.template, "template"),
            (self.prompts, "versions"),
            (self.dataset, "dataset"),
            (self.limit, "limit"),
            (self.models, "models"),
        ):
            widget.add_class(f"wb-run-{name}")
        self.run_button = button("Run", icon="play", button_style="success")
        self.run_button.add_class("wb-run")
        self.stop_button = button("Stop", icon="stop", button_style="danger", disabled=True)
        self.progress = w.IntProgress(min=0, max=1, value=0)
        self.progress_label = w.HTML()
        self.progress_label.add_class("wb-run-progress")
        self.messages = Messages()
        self.messages.add_class("wb-run-status")
        self.result: RunResult | None = None
        self._task: asyncio.Future[Any] | None = None
        self._cancel = threading.Event()
        self._started = 0.0
        self._answered = 0
        self._errors = 0
        self.template.observe(self._on_template, "value")
        self.run_button.on_click(self.start)
        self.stop_button.on_click(self.stop)
        self.state.on("template_saved", lambda template: self.refresh(select=template.ref))
        row = w.Layout(flex_flow="row wrap", align_items="center")
        super().__init__(
            [
                self.template,
                self.prompts,
                self.dataset,
                self.limit,
                self.models,
                w.HBox([self.use_template_params, self.temperature, self.repeats, self.concurrency], layout=row),
                w.HBox([self.run_button, self.stop_button, self.progress, self.progress_label], layout=row),
                self.messages,
            ],
            **kwargs,
        )
        self._on_template()

    # -- choices ---------------------------------------------------------------------------------
    def _on_template(self, change: Any = None) -> None:
        """A template's versions (the newest chosen) and its own dataset; the previous run's message goes."""
        name = self.template.value
        if not name:
            return
        versions = self.state.library.versions(name)
        self.prompts.options = [f"{name}@v{v}" for v in reversed(versions)]
        self.prompts.value = (f"{name}@v{versions[-1]}",)
        own = self.state.dataset_of(self.state.library.get(name))
        self.dataset.options = self.state.dataset_options()
        if own:
            self.dataset.value = own
        spec = self.state.library.get(name).model.spec
        self.models.value = spec or "local"
        self.messages.clear()

    def refresh(self, select: str | None = None) -> None:
        """Re-read the library (a version saved elsewhere); ``select`` a ref like ``name@v3``."""
        names = self.state.library.names()
        name = select.split("@")[0] if select else self.template.value
        self.template.options = names
        if name in names:
            if self.template.value == name:
                self._on_template()
            else:
                self.template.value = name
        if select and select in self.prompts.options:
            self.prompts.value = (select,)

    def select(self, prompt_refs: list[str], dataset: str | None = None) -> None:
        name = prompt_refs[0].split("@")[0]
        if self.template.value != name:
            self.template.value = name
        self.prompts.value = tuple(prompt_refs)
        if dataset is not None:
            self.dataset.value = dataset

    def _options(self) -> dict[str, Any]:
        models = [line.strip() for line in self.models.value.splitlines() if line.strip()]
        if not models:
            raise WorkbenchError("Give at least one model spec (e.g. local, or openai:MODEL@http://HOST:PORT/v1).")
        if not self.prompts.value:
            raise WorkbenchError("Choose at least one prompt version.")
        if not self.dataset.value:
            raise WorkbenchError(f"No dataset chosen (none found in {self.state.datasets_dir}).")
        params = {} if self.use_template_params.value else {"temperature": self.temperature.value}
        return {
            "prompts": [self.state.library.get(ref) for ref in self.prompts.value],
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
        }

    # -- running ---------------------------------------------------------------------------------
    def _on_result(self, record: Any, done: int, total: int) -> None:
        self._answered += 1  # only cells answered now call back (resumed ones are already stored)
        self._errors += bool(record.error)
        self.progress.max, self.progress.value = total, done
        rate = self._answered / max(1e-6, time.perf_counter() - self._started)
        self.progress_label.value = f"{done} / {total} · {rate:.2f} rows/s · {self._errors} errors"

    def start(self, button: Any = None) -> None:
        self.messages.clear()
        try:
            options = self._options()
        except WorkbenchError as exc:
            self.messages.error(exc)
            return
        self._cancel.clear()
        self._answered = self._errors = 0
        self._started = time.perf_counter()
        self.progress.max, self.progress.value = 1, 0
        self.progress_label.value = "checking the inputs and the endpoints…"
        self.run_button.disabled, self.stop_button.disabled = True, False
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
        self.result = result
        self.state.last_run_id = result.run_id
        self.run_button.disabled, self.stop_button.disabled = False, True
        total = len(result.records)
        self.progress.max, self.progress.value = max(1, total), total
        rate = result.pass_rate
        self.progress_label.value = f"{total} / {total} · done"
        self.messages.info(
            f"Run {result.run_id}: {total} cells, pass rate {'n/a' if rate is None else f'{rate:.0%}'}, "
            f"{len(result.errors)} errors ({result.stats['called']} model calls, {result.stats['cached']} cached, "
            f"{result.stats['resumed']} resumed)."
        )
        self.state.emit("run_finished", result)

    def _failed(self, exc: BaseException) -> None:
        self.run_button.disabled, self.stop_button.disabled = False, True
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
            self.progress_label.value = f"{self.progress.value} / {self.progress.max} · stopped"
            self.messages.info(
                f"Stopped after {self.progress.value} of {self.progress.max} cells. Finished cells are "
                "stored; press Run again with the same choices to resume."
            )
            self.state.emit("run_stopped", None)
        else:
            self.progress_label.value = ""
            self.messages.error(exc)

    def stop(self, button: Any = None) -> None:
        self._cancel.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
