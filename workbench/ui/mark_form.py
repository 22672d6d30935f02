"""The Results tab's "Mark as bad case" form: which column's result is wrong (B when it failed, else the failing
one), tags, a note and the expected answer, and what marking did.

Why it says when a case already existed: a bad case is one input of one prompt on one model, whichever version
shows it. Marking the same row for v2 and then for v3 updates one case (it now points at v3's result); answering
"Bad case #2" twice hid that the second click moved the case. The message names the case, the column it was found
in, and what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from workbench.badcases import BadCase, fingerprint
from workbench.store import ResultRecord
from workbench.ui.state import WIDE, Messages, WorkbenchState, button


class MarkForm(w.VBox):
    """``records_of(row_id)`` gives the selected row's record per column (the view owns the run)."""

    def __init__(self, state: WorkbenchState, records_of: Callable[[str | None], dict[str, ResultRecord]]):
        self.state = state
        say = state.t
        self._records_of = records_of
        self.selected_row: str | None = None
        self.quiet = False
        self.column = w.Dropdown(description=say("results.mark_column"), style=WIDE, layout=w.Layout(width="auto"))
        self.column.add_class("wb-mark-column")
        self.tags = w.Text(description=say("results.tags"), placeholder=say("results.tags_placeholder"), style=WIDE)
        self.tags.add_class("wb-mark-tags")
        self.note = w.Text(description=say("results.note"), style=WIDE)
        self.expected = w.Text(description=say("results.expected"), style=WIDE)
        self.button = button(say("results.mark"), icon="flag", button_style="warning")
        self.button.add_class("wb-mark-bad")
        self.messages = Messages(say)
        self.messages.add_class("wb-results-messages")
        self.column.observe(self.fill_expected, "value")
        self.button.on_click(lambda b: self.mark_bad())
        super().__init__([self.column, self.tags, self.note, self.expected, self.button])

    def reset(self) -> None:
        """Another store or run: nothing typed for the previous one stays."""
        self.tags.value = self.note.value = self.expected.value = ""
        self.messages.clear()

    def default_column(self, b: str | None) -> None:
        """The column whose result is wrong: B when it failed, else the only failing one, else B."""
        by_column = self._records_of(self.selected_row)
        failing = [c for c, r in by_column.items() if r.passed is False]
        choice = b if b in failing or not failing else failing[-1]
        if choice in by_column:
            self.column.value = choice
        self.fill_expected()

    def fill_expected(self, change: Any = None) -> None:
        if self.quiet:
            return
        record = self._records_of(self.selected_row).get(self.column.value)
        self.expected.value = "" if record is None else str(record.inputs.get("expected") or "")

    def mark_bad(self) -> BadCase | None:
        say = self.state.t
        self.messages.clear()
        if self.selected_row is None:
            self.messages.error(say("results.click_first"))
            return None
        record = self._records_of(self.selected_row).get(self.column.value)
        if record is None:
            self.messages.error(say("results.no_result_in", row=self.selected_row, column=self.column.value))
            return None
        existing = self._existing_case(record)
        tags = [t.strip() for t in self.tags.value.split(",") if t.strip()]
        case = self.state.tracker.mark_bad(
            record.id, tags=tags, note=self.note.value, expected=self.expected.value or None
        )
        self.tags.value = self.note.value = ""  # the next case must not inherit this one's note
        status = say(f"review.status.{case.status}")
        fields = {"id": case.id, "status": status, "column": record.column, "row": record.row_id}
        fields["tags"] = ", ".join(case.tags) or "-"
        if existing is None:
            self.messages.info(say("results.marked", **fields))
        else:
            old = f"{existing.prompt}@v{existing.version}/{existing.model}"
            self.messages.info(say("results.case_updated", old=old, **fields))
        self.state.emit("bad_case_marked", case)
        return case

    def _existing_case(self, record: ResultRecord) -> BadCase | None:
        """The case this record's input already is for its prompt and model (the tracker deduplicates by inputs)."""
        key = fingerprint(record.inputs)
        cases = self.state.tracker.list(prompt=record.prompt)
        return next((c for c in cases if c.model == record.model and c.fingerprint == key), None)
