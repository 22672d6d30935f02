"""Bad-case review: go through cases one by one, tag, set status, and recheck them against a new version.

The recheck defaults to the newest version of the shown case's prompt, on the model the case was found on.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.badcases import STATUSES, BadCase
from workbench.errors import WorkbenchError
from workbench.ui.state import WIDE, Messages, WorkbenchState, button, pre


class BadCaseReview(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        self.status_filter = w.Dropdown(
            description="Show", options=["open", "regressed", "fixed", "wontfix", "all"], style=WIDE
        )
        self.refresh_button = button("Refresh", icon="refresh")
        self.position = w.HTML()
        self.card = w.HTML()
        self.card.add_class("wb-bad-case")
        self.prev_button = button("◀ Prev", tooltip="previous case")
        self.next_button = button("Next ▶", tooltip="next case")
        self.fixed_button = button("Fixed", button_style="success")
        self.wontfix_button = button("Won't fix")
        self.reopen_button = button("Reopen")
        self.tag_text = w.Text(description="Add tag", style=WIDE)
        self.tag_button = button("Tag")
        self.recheck_prompt = w.Dropdown(description="Recheck with", style=WIDE, layout=w.Layout(width="auto"))
        self.recheck_model = w.Text(description="on model", value="local", style=WIDE)
        self.recheck_prompt.add_class("wb-recheck-prompt")
        self.recheck_button = button("Recheck the cases", icon="refresh", button_style="info")
        self.recheck_button.add_class("wb-recheck")
        self.report = w.HTML()
        self.messages = Messages()
        self.messages.add_class("wb-review-messages")
        self.cases: list[BadCase] = []
        self.index = 0
        self.status_filter.observe(lambda change: self.refresh(), "value")
        self.refresh_button.on_click(lambda b: self.refresh())
        self.prev_button.on_click(lambda b: self.move(-1))
        self.next_button.on_click(lambda b: self.move(1))
        self.fixed_button.on_click(lambda b: self.set_status("fixed"))
        self.wontfix_button.on_click(lambda b: self.set_status("wontfix"))
        self.reopen_button.on_click(lambda b: self.set_status("open"))
        self.tag_button.on_click(self.add_tag)
        self.recheck_button.on_click(self.recheck)
        self.state.on("bad_case_marked", lambda case: self.refresh())
        self.state.on("template_saved", lambda template: self._default_recheck())
        row = w.Layout(flex_flow="row wrap", align_items="center")
        super().__init__(
            [
                w.HBox([self.status_filter, self.refresh_button, self.position], layout=row),
                self.card,
                w.HBox(
                    [self.prev_button, self.next_button, self.fixed_button, self.wontfix_button, self.reopen_button],
                    layout=row,
                ),
                w.HBox([self.tag_text, self.tag_button], layout=row),
                w.HBox([self.recheck_prompt, self.recheck_model, self.recheck_button], layout=row),
                self.messages,
                self.report,
            ],
            **kwargs,
        )
        self.refresh()

    def refresh(self) -> None:
        """Re-read the cases (also those captured by notebook code, the CLI or the server)."""
        status = None if self.status_filter.value == "all" else self.status_filter.value
        self.cases = self.state.tracker.list(status=status)
        self.index = min(self.index, max(0, len(self.cases) - 1))
        self._show()
        report = self.state.tracker.report()
        self.report.value = "" if report.empty else "<b>By category</b>" + report.to_html()

    @property
    def current(self) -> BadCase | None:
        return self.cases[self.index] if self.cases else None

    def _default_recheck(self) -> None:
        """The newest version of the shown case's prompt (every version stays choosable), on the case's model."""
        lib = self.state.library
        options = [f"{n}@v{v}" for n in lib.names() for v in reversed(lib.versions(n))]
        self.recheck_prompt.options = options
        case = self.current
        newest = self.state.newest_ref(case.prompt) if case is not None else None
        if newest in options:
            self.recheck_prompt.value = newest
        elif options and self.recheck_prompt.value is None:
            self.recheck_prompt.value = options[0]
        if case is not None:
            self.recheck_model.value = case.model

    def _show(self) -> None:
        case = self.current
        self._default_recheck()
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
            self.messages.clear()
            self.index = (self.index + step) % len(self.cases)
            self._show()

    def set_status(self, status: str) -> None:
        if self.current is None or status not in STATUSES:
            return
        case_id = self.current.id
        self.state.tracker.set_status(case_id, status)
        self.refresh()
        self.messages.info(f"#{case_id} → {status}")

    def add_tag(self, button: Any = None) -> None:
        self.messages.clear()
        if self.current is not None and self.tag_text.value.strip():
            self.state.tracker.tag(self.current.id, add=[self.tag_text.value])
            self.tag_text.value = ""
            self.refresh()

    def recheck(self, button: Any = None) -> Any:
        self.messages.clear()
        ref = self.recheck_prompt.value
        if not ref:
            self.messages.error("Choose a prompt version to recheck with.")
            return None
        try:
            template = self.state.library.get(ref)
            outcome = self.state.tracker.recheck(
                template, [self.recheck_model.value.strip() or "local"], progress=False
            )
        except WorkbenchError as exc:
            self.messages.error(exc)
            return None
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(outcome.counts().items()))
        self.refresh()
        self.messages.info(f"Recheck with {ref} (run {outcome.run_id}): {counts}")
        return outcome
