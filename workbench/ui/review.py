"""Bad-case review: go through cases one by one, tag, set status, recheck against a chosen version."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.badcases import STATUSES, BadCase
from workbench.errors import WorkbenchError
from workbench.ui.state import WorkbenchState, error_html, info_html, pre


class BadCaseReview(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        self.status_filter = w.Dropdown(description="Show", options=["open", "regressed", "fixed", "wontfix", "all"])
        self.position = w.HTML()
        self.card = w.HTML()
        self.card.add_class("wb-bad-case")
        self.prev_button = w.Button(description="◀ Prev", tooltip="previous case")
        self.next_button = w.Button(description="Next ▶", tooltip="next case")
        self.fixed_button = w.Button(description="Fixed", button_style="success")
        self.wontfix_button = w.Button(description="Won't fix")
        self.reopen_button = w.Button(description="Reopen")
        self.tag_text = w.Text(description="Add tag")
        self.tag_button = w.Button(description="Tag")
        self.recheck_prompt = w.Dropdown(description="Recheck with")
        self.recheck_model = w.Text(description="Model", value="local")
        self.recheck_button = w.Button(description="Recheck open cases", icon="refresh", button_style="info")
        self.report = w.HTML()
        self.message = w.HTML()
        self.cases: list[BadCase] = []
        self.index = 0
        self.status_filter.observe(lambda change: self.refresh(), "value")
        self.prev_button.on_click(lambda b: self.move(-1))
        self.next_button.on_click(lambda b: self.move(1))
        self.fixed_button.on_click(lambda b: self.set_status("fixed"))
        self.wontfix_button.on_click(lambda b: self.set_status("wontfix"))
        self.reopen_button.on_click(lambda b: self.set_status("open"))
        self.tag_button.on_click(self.add_tag)
        self.recheck_button.on_click(self.recheck)
        self.state.on("bad_case_marked", lambda case: self.refresh())
        self.state.on("template_saved", lambda template: self._refresh_prompts())
        super().__init__([
            w.HTML("<h3>Bad cases</h3>"), w.HBox([self.status_filter, self.position]), self.card,
            w.HBox([self.prev_button, self.next_button, self.fixed_button, self.wontfix_button, self.reopen_button]),
            w.HBox([self.tag_text, self.tag_button]),
            w.HBox([self.recheck_prompt, self.recheck_model, self.recheck_button]), self.message, self.report,
        ], **kwargs)  # fmt: skip
        self._refresh_prompts()
        self.refresh()

    def _refresh_prompts(self) -> None:
        lib = self.state.library
        options = [f"{n}@v{v}" for n in lib.names() for v in reversed(lib.versions(n))]
        self.recheck_prompt.options = options
        if options and self.recheck_prompt.value is None:
            self.recheck_prompt.value = options[0]

    def refresh(self) -> None:
        status = None if self.status_filter.value == "all" else self.status_filter.value
        self.cases = self.state.tracker.list(status=status)
        self.index = min(self.index, max(0, len(self.cases) - 1))
        self._show()
        report = self.state.tracker.report()
        self.report.value = "" if report.empty else "<b>By category</b>" + report.to_html()

    @property
    def current(self) -> BadCase | None:
        return self.cases[self.index] if self.cases else None

    def _show(self) -> None:
        case = self.current
        if case is None:
            self.position.value, self.card.value = "", "<i>No bad cases with this status.</i>"
            return
        self.position.value = f"case {self.index + 1} of {len(self.cases)}"
        self.card.value = (
            f"<b>#{case.id}</b> [{html.escape(case.status)}] {html.escape(case.prompt)}@v{case.version} · "
            f"{html.escape(case.model)} · tags: {html.escape(', '.join(case.tags) or '-')}"
            f"<b>Inputs</b>{pre(str(case.inputs))}<b>Output</b>{pre(case.output or '')}"
            f"<b>Expected</b>{pre(case.expected or '')}<b>Note</b> {html.escape(case.note)}"
        )

    def move(self, step: int) -> None:
        if self.cases:
            self.index = (self.index + step) % len(self.cases)
            self._show()

    def set_status(self, status: str) -> None:
        if self.current is None or status not in STATUSES:
            return
        self.state.tracker.set_status(self.current.id, status)
        self.message.value = info_html(f"#{self.current.id} → {status}")
        self.refresh()

    def add_tag(self, button: Any = None) -> None:
        if self.current is not None and self.tag_text.value.strip():
            self.state.tracker.tag(self.current.id, add=[self.tag_text.value])
            self.tag_text.value = ""
            self.refresh()

    def recheck(self, button: Any = None) -> Any:
        ref = self.recheck_prompt.value
        if not ref:
            self.message.value = error_html("Choose a prompt version to recheck with.")
            return None
        try:
            template = self.state.library.get(ref)
            outcome = self.state.tracker.recheck(template, [self.recheck_model.value.strip() or "local"],
                                                 progress=False)  # fmt: skip
        except WorkbenchError as exc:
            self.message.value = error_html(exc)
            return None
        counts = ", ".join(f"{k}: {v}" for k, v in outcome.counts().items())
        self.message.value = info_html(f"Recheck with {ref} (run {outcome.run_id}): {counts}")
        self.refresh()
        return outcome
