"""Bad-case review: go through cases one by one, tag, set status, and recheck them against a version.

What a recheck covers is chosen, not implied: **the case shown** (the default) or **the cases in this list** (the
status filter, cases of the chosen version's prompt). The version defaults to the newest of the shown case's prompt
on the model the case was found on; a version you pick stays picked while you move through that prompt's cases. The
message names each case whose status changed. The queue's buttons are disabled when there is nothing to act on.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.badcases import STATUSES, BadCase
from workbench.errors import WorkbenchError
from workbench.identity import PromptRef
from workbench.ui.detail import inputs_table
from workbench.ui.state import WIDE, Messages, WorkbenchState, button, pre
from workbench.ui.styles import as_panel, style_widget

SHOWN = ["open", "regressed", "fixed", "wontfix", "all"]
CASE, LIST = "case", "list"


def category_table_html(report: Any) -> str:
    """Cases per category (a case's first tag) and status, with totals: a plain table, one header row."""
    if report is None or report.empty:
        return ""
    statuses = [s for s in STATUSES if s in report.columns]
    head = "".join(f"<th class='wb-number'>{html.escape(s)}</th>" for s in statuses)
    rows = []
    for category, counts in report.iterrows():
        cells = "".join(f"<td class='wb-number'>{int(counts[s])}</td>" for s in statuses)
        total = int(sum(counts[s] for s in statuses))
        rows.append(f"<tr><td>{html.escape(str(category))}</td>{cells}<td class='wb-number'>{total}</td></tr>")
    return (
        "<div class='wb-by-category'><b>Cases by category</b> <span class='wb-hint'>(a case's category is its first "
        "tag)</span><table class='wb-plain'><thead><tr><th>category</th>"
        f"{head}<th class='wb-number'>total</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


class BadCaseReview(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        self.status_filter = w.Dropdown(description="Show", options=SHOWN, style=WIDE)
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
        self.recheck_prompt.add_class("wb-recheck-prompt")
        self.recheck_model = w.Text(description="on model", value="local", style=WIDE)
        self.recheck_scope = w.ToggleButtons(
            options=[("the case shown", CASE)], value=CASE, style={"button_width": "auto"}
        )
        self.recheck_scope.add_class("wb-recheck-scope")
        self.recheck_button = button("Recheck", icon="refresh", button_style="info")
        self.recheck_button.add_class("wb-recheck")
        self.report = w.HTML()
        self.messages = Messages()
        self.messages.add_class("wb-review-messages")
        self.cases: list[BadCase] = []
        self.index = 0
        self._chosen_ref: str | None = None  # a version the user picked (kept while it fits the case shown)
        self._setting_ref = False
        self._wire()
        row = w.Layout(flex_flow="row wrap", align_items="center")
        super().__init__(
            [
                style_widget(),
                w.HBox([self.status_filter, self.refresh_button, self.position], layout=row),
                self.card,
                w.HBox(
                    [self.prev_button, self.next_button, self.fixed_button, self.wontfix_button, self.reopen_button],
                    layout=row,
                ),
                w.HBox([self.tag_text, self.tag_button], layout=row),
                w.HBox([self.recheck_prompt, self.recheck_model], layout=row),
                w.HBox([w.HTML("Recheck&nbsp;"), self.recheck_scope, self.recheck_button], layout=row),
                self.messages,
                self.report,
            ],
            **kwargs,
        )
        as_panel(self, "wb-review")
        self.refresh()

    def _wire(self) -> None:
        self.status_filter.observe(lambda change: self.refresh(), "value")
        self.recheck_prompt.observe(self._on_pick_ref, "value")
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
        self.state.on("store_changed", lambda store: self.refresh())

    def refresh(self) -> None:
        """Re-read the cases (also those captured by notebook code, the CLI or the server)."""
        status = None if self.status_filter.value == "all" else self.status_filter.value
        shown_id = self.current.id if self.current is not None else None
        self.cases = self.state.tracker.list(status=status)
        ids = [c.id for c in self.cases]
        self.index = ids.index(shown_id) if shown_id in ids else min(self.index, max(0, len(self.cases) - 1))
        self._show()
        self.report.value = category_table_html(self.state.tracker.report())

    @property
    def current(self) -> BadCase | None:
        return self.cases[self.index] if self.cases and self.index < len(self.cases) else None

    # -- the recheck's version, model and scope ----------------------------------------------------
    def _on_pick_ref(self, change: Any) -> None:
        if not self._setting_ref:
            self._chosen_ref = change["new"]

    def _default_recheck(self) -> None:
        """The version: the one the user picked while it is of the shown case's prompt, else that prompt's newest
        (every version stays choosable). The model: the case's own."""
        lib = self.state.library
        options = [f"{n}@v{v}" for n in lib.names() for v in reversed(lib.versions(n))]
        case = self.current
        chosen = self._chosen_ref
        if case is not None and chosen is not None and _prompt_of(chosen) != case.prompt:
            chosen = None
        newest = self.state.newest_ref(case.prompt) if case is not None else None
        value = next((ref for ref in (chosen, newest, self.recheck_prompt.value) if ref in options), None)
        self._setting_ref = True
        try:
            self.recheck_prompt.options = options
            self.recheck_prompt.value = value if value is not None else (options[0] if options else None)
        finally:
            self._setting_ref = False
        if case is not None:
            self.recheck_model.value = case.model
        self._update_scope()

    def _update_scope(self) -> None:
        in_list = self._cases_in_list()
        options = [("the case shown", CASE), (f"the {len(in_list)} cases in this list", LIST)]
        current = self.recheck_scope.value
        self.recheck_scope.options = options
        self.recheck_scope.value = current if current in (CASE, LIST) else CASE

    def _cases_in_list(self) -> list[BadCase]:
        """The listed cases the chosen version can recheck: those of its prompt."""
        ref = self.recheck_prompt.value
        return [c for c in self.cases if ref is not None and c.prompt == _prompt_of(ref)]

    # -- showing and moving -------------------------------------------------------------------------
    def _show(self) -> None:
        case = self.current
        self._default_recheck()
        self._enable_buttons(case)
        if case is None:
            self.position.value = ""
            self.card.value = "<i>No bad cases with this status.</i>"
            return
        self.position.value = f"case {self.index + 1} of {len(self.cases)}"
        self.card.value = _card_html(case)

    def _enable_buttons(self, case: BadCase | None) -> None:
        """Nothing to act on, nothing to press; a status the case already has is not offered again."""
        empty = case is None
        self.prev_button.disabled = self.next_button.disabled = len(self.cases) < 2
        self.fixed_button.disabled = empty or case.status == "fixed"
        self.wontfix_button.disabled = empty or case.status == "wontfix"
        self.reopen_button.disabled = empty or case.status == "open"
        self.tag_button.disabled = self.tag_text.disabled = empty
        self.recheck_button.disabled = empty

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

    # -- recheck --------------------------------------------------------------------------------------
    def recheck(self, button: Any = None) -> Any:
        """Recheck the case shown, or the cases in the list, with the chosen version on the chosen model."""
        self.messages.clear()
        ref = self.recheck_prompt.value
        if not ref:
            self.messages.error("Choose a prompt version to recheck with.")
            return None
        cases = self._scope_cases(ref)
        if not cases:
            self.messages.error(self._nothing_to_recheck(ref))
            return None
        try:
            template = self.state.library.get(ref)
            model = self.recheck_model.value.strip() or "local"
            outcome = self.state.tracker.recheck(template, [model], cases=[c.id for c in cases], progress=False)
        except WorkbenchError as exc:
            self.messages.error(exc)
            return None
        self.refresh()
        self.messages.info(_recheck_message(ref, model, outcome))
        return outcome

    def _scope_cases(self, ref: str) -> list[BadCase]:
        if self.recheck_scope.value == LIST:
            return self._cases_in_list()
        case = self.current
        return [case] if case is not None and case.prompt == _prompt_of(ref) else []

    def _nothing_to_recheck(self, ref: str) -> str:
        if self.current is None:
            return "No bad cases with this status: nothing to recheck. Show another status, or mark cases in Results."
        return (
            f"{ref} is a version of {_prompt_of(ref)!r}, but case #{self.current.id} belongs to "
            f"{self.current.prompt!r}: choose one of its versions."
        )


def _prompt_of(ref: str) -> str:
    return PromptRef.parse(ref).name


def _card_html(case: BadCase) -> str:
    """A case as separate blocks (heading, inputs, output, expected, note), so nothing runs together."""
    tags = ", ".join(case.tags) or "-"
    return (
        f"<div class='wb-block'><b>#{case.id}</b> [{html.escape(case.status)}] {html.escape(case.prompt)}"
        f"@v{case.version} · {html.escape(case.model)} · row {html.escape(str(case.row_id or '-'))}</div>"
        f"<div class='wb-block'>tags: {html.escape(tags)}</div>"
        f"<div class='wb-block'><b>Inputs</b>{inputs_table(case.inputs)}</div>"
        f"<div class='wb-block'><b>Output</b>{pre(case.output or '')}</div>"
        f"<div class='wb-block'><b>Expected</b>{pre(case.expected or '')}</div>"
        f"<div class='wb-block'><b>Note</b> {html.escape(case.note or '-')}</div>"
    )


def _recheck_message(ref: str, model: str, outcome: Any) -> str:
    """What the recheck did to each case: the ones that changed status by name, the rest counted."""
    changed = []
    unchanged: dict[str, int] = {}
    for case_id, result in sorted(outcome.outcomes.items()):
        before = outcome.cases[case_id].status if case_id in outcome.cases else "?"
        if result in ("fixed", "regressed"):
            changed.append(f"#{case_id} {before} → {result}")
        else:
            unchanged[result] = unchanged.get(result, 0) + 1
    rest = ", ".join(f"{count} {result}" for result, count in sorted(unchanged.items()))
    parts = [", ".join(changed) or "no case changed status", rest]
    return f"Recheck with {ref} on {model} (run {outcome.run_id}): " + "; ".join(p for p in parts if p) + "."
