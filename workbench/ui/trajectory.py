"""How a row with tool calls looks in the Results tab: its trajectory in the row detail (each step: what the model
wrote, its calls with arguments, each result or error, then the final answer and how the loop ended), two versions'
calls side by side with what differs marked, and the tool a matrix cell called. The data comes from
:mod:`workbench.tools.view`; every word from the catalogue (:mod:`workbench.i18n`, part ``tools``), in the
Workbench's language (``say``: its :class:`~workbench.i18n.Messages`)."""

from __future__ import annotations

import html
from typing import Any

from workbench.i18n import messages
from workbench.store import ResultRecord
from workbench.tools import view

SAME, DIFFERENT = "#e6f4ea", "#fce8e6"


def trajectory_html(record: ResultRecord, say: Any = None) -> str:
    """The row detail's trajectory block ("" for a template without tools)."""
    steps = view.steps(record)
    if record.trajectory is None or not steps:
        return ""
    say = say or messages()
    items = [_step_html(step, say) for step in steps]
    finish = record.details.get("finish_reason") or "stop"
    reason = say(f"tools.finish.{finish}") if say.has(f"tools.finish.{finish}") else finish
    ending = f"<div class='wb-hint'>{html.escape(say('tools.ended', reason=reason))}</div>"
    final = ""
    if finish == "stop" and record.output:
        final = f"<div><b>{html.escape(say('tools.final'))}:</b> {html.escape(record.output)}</div>"
    title = html.escape(say("tools.trajectory", n=len(steps)))
    return (
        f"<details class='wb-trajectory' open><summary><b>{title}</b></summary>"
        f"<ol style='margin:2px 0 2px 18px;padding:0'>{''.join(items)}</ol>{final}{ending}</details>"
    )


def _step_html(step: view.StepView, say: Any) -> str:
    latency = "–" if step.latency_ms is None else f"{step.latency_ms:.0f}"
    facts = html.escape(say("tools.step_facts", latency=latency, tokens=step.tokens))
    lines = [f"<b>{html.escape(say('tools.step', n=step.number))}</b> <span class='wb-hint'>{facts}</span>"]
    if step.output and not step.calls:
        lines.append(f"{html.escape(say('tools.model_wrote'))}: <code>{html.escape(step.output)}</code>")
    if step.error:
        lines.append(
            f"<span style='color:#b00020'>{html.escape(say('tools.reply_error'))}: {html.escape(step.error)}</span>"
        )
    for call in step.calls:
        lines.append(f"{html.escape(say('tools.call'))}: <code class='wb-tool-call'>{html.escape(call['text'])}</code>")
        if call["error"]:
            lines.append(
                f"<span style='color:#b00020'>{html.escape(say('tools.error'))}: {html.escape(call['error'])}</span>"
            )
        elif call["result"] is not None:
            source = call.get("source")
            label = say("tools.result_from", source=say(f"tools.source.{source}")) if source else say("tools.result")
            lines.append(f"{html.escape(label)}: <code>{html.escape(call['result'])}</code>")
        else:
            lines.append(f"<span class='wb-hint'>{html.escape(say('tools.not_run'))}</span>")
    return f"<li class='wb-step'>{'<br>'.join(lines)}</li>"


def calls_side_by_side_html(a: ResultRecord, b: ResultRecord, say: Any = None) -> str:
    """A's and B's calls in two columns, a row per position, green when the same and red with what differs."""
    if a.tool_calls is None and b.tool_calls is None:
        return ""
    say = say or messages()
    rows = []
    for pair in view.side_by_side(a.tool_calls, b.tool_calls):
        color = SAME if pair.same else DIFFERENT
        note = say("tools.same") if pair.same else "; ".join(_difference(d, say) for d in pair.differences)
        cells = [_call_cell(pair.a, say), _call_cell(pair.b, say)]
        rows.append(f"<tr style='background:{color}'>{''.join(cells)}<td class='wb-hint'>{html.escape(note)}</td></tr>")
    head = f"<tr><th>A</th><th>B</th><th>{html.escape(say('tools.differs'))}?</th></tr>"
    return (
        f"<div class='wb-block wb-tool-compare'><b>{html.escape(say('tools.compare'))}</b>"
        f"<table class='wb-plain'>{head}{''.join(rows)}</table></div>"
    )


def _call_cell(text: str | None, say: Any) -> str:
    shown = say("tools.no_call") if text in (None, view.NO_CALL) else text
    return f"<td><code>{html.escape(str(shown))}</code></td>"


def _difference(text: str, say: Any) -> str:
    if text.startswith("only in "):
        return say("tools.only_in", side=text.removeprefix("only in "))
    return text


def tool_note(record: ResultRecord | None, say: Any = None) -> str:
    """A matrix cell's note: the tools a row called, when its output is the loop's answer (a row that ended on its
    calls already shows them as its output)."""
    if record is None or record.tool_calls is None or record.details.get("finish_reason") == "tool_calls":
        return ""
    say = say or messages()
    called = view.tools_called(record) or ""
    if called == view.NO_CALL:
        called = say("tools.no_call")
    return f"<br><small class='wb-tool-note'>🔧 {html.escape(say('tools.called', tools=called))}</small>"
