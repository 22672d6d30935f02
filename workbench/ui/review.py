"""Bad-case review: go through cases one by one, tag, set status, and recheck them against a version.

What a recheck covers is chosen, not implied: **the case shown** (the default) or **the cases in this list** (the
status filter, cases of the chosen version's prompt). The version defaults to the newest of the shown case's prompt
on the model the case was found on; a version you pick stays picked while you move through that prompt's cases. The
message names each case whose status changed. The queue's buttons are disabled when there is nothing to act on.
Opening another store starts the queue afresh (the last recheck's message was about the old store's cases).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.badcases import STATUSES, BadCase
from workbench.errors import WorkbenchError
from workbench.i18n import DEFAULT, Messages
from workbench.identity import PromptRef
from workbench.ui.detail import inputs_table
from workbench.ui.state import WIDE, WorkbenchState, button, pre
from workbench.ui.state import Messages as MessageLine
from workbench.ui.styles import as_panel, style_widget

SHOWN = ["open", "regressed", "fixed", "wontfix", "all"]
CASE, LIST = "case", "list"
ENGLISH = Messages(DEFAULT)


def status_word(status: str, say: Messages = ENGLISH) -> str:
    key = f"review.status.{status}"
    return say(key) if say.has(key) else status


def category_table_html(report: Any, say: Messages = ENGLISH) -> str:
    """Cases per category (a case's first tag) and status, with totals: a plain table, one header row."""
    if report is None or report.empty:
        return ""
    statuses = [s for s in STATUSES if s in report.columns]
    head = "".join(f"<th class='wb-number'>{html.escape(status_word(s, say))}</th>" for s in statuses)
    rows = []
    for category, counts in report.iterrows():
        cells = "".join(f"<td class='wb-number'>{int(counts[s])}</td>" for s in statuses)
        total = int(sum(counts[s] for s in statuses))
        name = say("review.untagged") if category == "untagged" else str(category)
        rows.append(f"<tr><td>{html.escape(name)}</td>{cells}<td class='wb-number'>{total}</td></tr>")
    return (
        f"<div class='wb-by-category'><b>{html.escape(say('review.by_category'))}</b> "
        f"<span class='wb-hint'>{html.escape(say('review.category_hint'))}</span><table class='wb-plain'><thead><tr>"
        f"<th>{html.escape(say('review.th.category'))}</th>{head}<th class='wb-number'>"
        f"{html.escape(say('review.th.total'))}</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


class BadCaseReview(w.VBox):
    def __init__(self, state: WorkbenchState | None = None, **kwargs: Any):
        self.state = state or WorkbenchState()
        say = self.state.t
        self.status_filter = w.Dropdown(
            description=say("review.show"), options=[(status_word(s, say), s) for s in SHOWN], style=WIDE
        )
        self.status_filter.add_class("wb-review-status")
        self.refresh_button = button(say("common.refresh"), icon="refresh")
        self.position = w.HTML()
        self.card = w.HTML()
        self.card.add_class("wb-bad-case")
        self.prev_button = button(say("review.prev"), tooltip=say("review.prev_tooltip"))
        self.next_button = button(say("review.next"), tooltip=say("review.next_tooltip"))
        self.fixed_button = button(say("review.fixed"), button_style="success")
        self.wontfix_button = button(say("review.wontfix"))
        self.reopen_button = button(say("review.reopen"))
        self.tag_text = w.Text(description=say("review.add_tag"), style=WIDE)
        self.tag_button = button(say("review.tag"))
        self.recheck_prompt = w.Dropdown(
            description=say("review.recheck_with"), style=WIDE, layout=w.Layout(width="auto")
        )
        self.recheck_prompt.add_class("wb-recheck-prompt")
        self.recheck_model = w.Text(description=say("review.on_model"), value="local", style=WIDE)
        self.recheck_scope = w.ToggleButtons(
            options=[(say("review.scope_case"), CASE)], value=CASE, style={"button_width": "auto"}
        )
        self.recheck_scope.add_class("wb-recheck-scope")
        self.recheck_button = button(say("review.recheck"), icon="refresh", button_style="info")
        self.recheck_button.add_class("wb-recheck")
        self.report = w.HTML()
        self.messages = MessageLine(say)
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
                w.HBox(
                    [
                        w.HTML(f"{html.escape(say('review.scope_label'))}&nbsp;"),
                        self.recheck_scope,
                        self.recheck_button,
                    ],
                    layout=row,
                ),
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
        self.state.on("store_changed", lambda store: self.reset())

    def reset(self) -> None:
        """Another store: its own queue from the start; nothing said about the old store's cases stays."""
        self.messages.clear()
        self.index = 0
        self._chosen_ref = None
        self.cases = []
        self.refresh()

    def refresh(self) -> None:
        """Re-read the cases (also those captured by notebook code, the CLI or the server)."""
        status = None if self.status_filter.value == "all" else self.status_filter.value
        shown_id = self.current.id if self.current is not None else None
        self.cases = self.state.tracker.list(status=status)
        ids = [c.id for c in self.cases]
        self.index = ids.index(shown_id) if shown_id in ids else min(self.index, max(0, len(self.cases) - 1))
        self._show()
        self.report.value = category_table_html(self.state.tracker.report(), self.state.t)

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
        say = self.state.t
        in_list = self._cases_in_list()
        options = [(say("review.scope_case"), CASE), (say("review.scope_list", n=len(in_list)), LIST)]
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
        say = self.state.t
        if case is None:
            self.position.value = ""
            empty = say("review.none") if self.state.tracker.list() else say("review.none_in_store")
            self.card.value = f"<i>{html.escape(empty)}</i>"
            return
        self.position.value = html.escape(say("review.position", i=self.index + 1, n=len(self.cases)))
        self.card.value = _card_html(case, say)

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
        self.messages.info(self.state.t("review.status_changed", id=case_id, status=status_word(status, self.state.t)))

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
        say = self.state.t
        ref = self.recheck_prompt.value
        if not ref:
            self.messages.error(say("review.choose_version"))
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
        self.messages.info(_recheck_message(ref, model, outcome, say))
        return outcome

    def _scope_cases(self, ref: str) -> list[BadCase]:
        if self.recheck_scope.value == LIST:
            return self._cases_in_list()
        case = self.current
        return [case] if case is not None and case.prompt == _prompt_of(ref) else []

    def _nothing_to_recheck(self, ref: str) -> str:
        say = self.state.t
        if self.current is None:
            return say("review.nothing")
        return say(
            "review.other_prompt", ref=ref, prompt=_prompt_of(ref), id=self.current.id, case_prompt=self.current.prompt
        )


def _prompt_of(ref: str) -> str:
    return PromptRef.parse(ref).name


def _card_html(case: BadCase, say: Messages = ENGLISH) -> str:
    """A case as separate blocks (heading, inputs, output, expected, note), so nothing runs together."""
    tags = ", ".join(case.tags) or "-"
    row = say("review.card.head", row=case.row_id or "-")
    return (
        f"<div class='wb-block'><b>#{case.id}</b> [{html.escape(status_word(case.status, say))}] "
        f"{html.escape(case.prompt)}@v{case.version} · {html.escape(case.model)} · {html.escape(row)}</div>"
        f"<div class='wb-block'>{html.escape(say('review.card.tags', tags=tags))}</div>"
        f"<div class='wb-block'><b>{say('review.card.inputs')}</b>{inputs_table(case.inputs)}</div>"
        f"<div class='wb-block'><b>{say('review.card.output')}</b>{pre(case.output or '')}</div>"
        f"<div class='wb-block'><b>{say('review.card.expected')}</b>{pre(case.expected or '')}</div>"
        f"<div class='wb-block'><b>{say('review.card.note')}</b> {html.escape(case.note or '-')}</div>"
    )


def _outcome_word(result: str, say: Messages) -> str:
    key = f"review.outcome.{result.replace(' ', '_')}"
    return say(key) if say.has(key) else result


def _recheck_message(ref: str, model: str, outcome: Any, say: Messages = ENGLISH) -> str:
    """What the recheck did to each case: the ones that changed status by name, the rest counted."""
    changed = []
    unchanged: dict[str, int] = {}
    for case_id, result in sorted(outcome.outcomes.items()):
        before = outcome.cases[case_id].status if case_id in outcome.cases else "?"
        if result in ("fixed", "regressed"):
            after = status_word(result, say)
            changed.append(say("review.changed", id=case_id, before=status_word(before, say), after=after))
        else:
            unchanged[result] = unchanged.get(result, 0) + 1
    rest = ", ".join(
        say("review.counted", n=count, outcome=_outcome_word(result, say))
        for result, count in sorted(unchanged.items())
    )
    parts = [", ".join(changed) or say("review.no_change"), rest]
    what = "; ".join(p for p in parts if p)
    return say("review.recheck_done", ref=ref, model=model, run_id=outcome.run_id, what=what)
