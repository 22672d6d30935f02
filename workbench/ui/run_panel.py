"""Run panel: dataset (and rows), prompt versions, models, parameters; run with progress; stop cleanly.

In JupyterLab the run is scheduled on the kernel's event loop, so the notebook stays responsive and the
progress bar moves while the model works; Stop cancels it and every finished row stays stored (running the
same configuration again resumes). Without a running loop (tests, scripts) it runs to completion.
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
from workbench.ui.state import WorkbenchState, error_html, info_html


class RunPanel(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        self.dataset = w.Dropdown(description="Dataset", options=self.state.dataset_files(),
                                  layout=w.Layout(width="60%"))  # fmt: skip
        self.limit = w.BoundedIntText(description="Rows (0=all)", min=0, max=100_000, value=8)
        self.prompts = w.SelectMultiple(description="Versions", rows=6, layout=w.Layout(width="60%"))
        self.models = w.Textarea(description="Models", value="local", placeholder="one spec per line",
                                 layout=w.Layout(width="60%", height="60px"))  # fmt: skip
        self.temperature = w.BoundedFloatText(description="Temperature", min=0, max=2, step=0.1, value=0.0)
        self.use_template_temperature = w.Checkbox(description="use the template's parameters", value=True)
        self.concurrency = w.BoundedIntText(description="Concurrency", min=0, max=256, value=0)
        self.run_button = w.Button(description="Run", icon="play", button_style="success")
        self.run_button.add_class("wb-run")
        self.stop_button = w.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.progress = w.IntProgress(min=0, max=1, value=0, description="0 / 0")
        self.status = w.HTML()
        self.status.add_class("wb-run-status")
        self.run_button.on_click(self.start)
        self.stop_button.on_click(self.stop)
        self.result: RunResult | None = None
        self._task: asyncio.Future[Any] | None = None
        self._cancel = threading.Event()
        self._started = 0.0
        self._errors = 0
        self.refresh_prompts()
        self.state.on("template_saved", lambda template: self.refresh_prompts(select=template.ref))
        super().__init__([
            self.dataset, self.limit, self.prompts, self.models,
            w.HBox([self.use_template_temperature, self.temperature, self.concurrency]),
            w.HBox([self.run_button, self.stop_button, self.progress]), self.status,
        ], **kwargs)  # fmt: skip

    def refresh_prompts(self, select: str | None = None) -> None:
        options = [f"{name}@v{v}" for name in self.state.library.names() for v in self.state.library.versions(name)]
        chosen = [select] if select in options else [o for o in self.prompts.value if o in options]
        self.prompts.options = options
        self.prompts.value = tuple(chosen or options[:1])

    def select(self, prompt_refs: list[str], dataset: str | None = None) -> None:
        self.prompts.value = tuple(prompt_refs)
        if dataset is not None:
            self.dataset.value = dataset

    # -- running ------------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        models = [line.strip() for line in self.models.value.splitlines() if line.strip()]
        if not models:
            raise WorkbenchError("Give at least one model spec (e.g. local, or openai:MODEL@http://HOST:PORT/v1).")
        if not self.prompts.value:
            raise WorkbenchError("Choose at least one prompt version.")
        if not self.dataset.value:
            raise WorkbenchError(f"No dataset chosen (none found in {self.state.datasets_dir}).")
        templates = [self.state.library.get(ref) for ref in self.prompts.value]
        return {
            "prompts": templates, "dataset": self.dataset.value, "models": models,
            "store": self.state.store, "limit": self.limit.value or None, "progress": False,
            "params": {} if self.use_template_temperature.value else {"temperature": self.temperature.value},
            "concurrency": self.concurrency.value or None, "on_result": self._on_result,
            "cancel_event": self._cancel,
        }  # fmt: skip

    def _on_result(self, record: Any, done: int, total: int) -> None:
        self.progress.max, self.progress.value = total, done
        self.progress.description = f"{done} / {total}"
        self._errors += bool(record.error)
        rate = done / max(1e-6, time.perf_counter() - self._started)
        self.status.value = f"{rate:.2f} rows/s · {self._errors} errors"

    def start(self, button: Any = None) -> None:
        try:
            options = self._options()
        except WorkbenchError as exc:
            self.status.value = error_html(exc)
            return
        self._cancel.clear()
        self._errors = 0
        self._started = time.perf_counter()
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.status.value = "starting…"
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
        rate = result.pass_rate
        self.status.value = info_html(
            f"Run {result.run_id}: {len(result.records)} rows, pass rate "
            f"{'n/a' if rate is None else f'{rate:.0%}'}, {len(result.errors)} errors "
            f"({result.stats['called']} model calls, {result.stats['cached']} cached)."
        )
        self.state.emit("run_finished", result)

    def _failed(self, exc: BaseException) -> None:
        self.run_button.disabled, self.stop_button.disabled = False, True
        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
            self.status.value = info_html(
                f"Stopped after {self.progress.value} of {self.progress.max} rows. Finished rows are stored; "
                "press Run again with the same choices to resume."
            )
        else:
            self.status.value = error_html(exc)

    def stop(self, button: Any = None) -> None:
        self._cancel.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
