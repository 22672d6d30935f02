"""The detail of one matrix row: its inputs as a table, then per column everything the store kept about the cell.

Why each part: the output and its ✓/✗ say *what* happened; the parsed value and each scorer's reason say *why* it
was judged so (a right word the parser did not map, a label the scorer did not expect); the rendered prompt is what
the model really saw (a variable filled from the wrong column shows only there); latency, tokens, cache and
attempts explain a slow or surprising answer.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from workbench.i18n import DEFAULT, Messages
from workbench.store import ResultRecord
from workbench.ui.trajectory import trajectory_html

MARK = {True: ("#e6f4ea", "✓"), False: ("#fce8e6", "✗"), None: ("#f1f3f4", "–")}
ENGLISH = Messages(DEFAULT)


def verdict_cell(passed: Any, output: Any, extra: str = "", *, clamp: bool = False) -> str:
    """An output with its ✓/✗ on the verdict's pastel colour (the table cell and the detail use the same).
    ``clamp``: in the table, a long output is cut to three lines and shown whole on hover."""
    verdict = None if passed is None or passed != passed else bool(passed)
    color, mark = MARK[verdict]
    text = html.escape(str(output or ""))
    title = f" title='{html.escape(str(output or ''), quote=True)}'" if clamp and output else ""
    kind = "wb-verdict-cell wb-clamp" if clamp else "wb-verdict-cell"
    return (
        f"<div class='{kind}' style='background:{color};padding:2px 4px;white-space:pre-wrap'{title}>"
        f"<b>{mark}</b> {text}{extra}</div>"
    )


def text_cell(text: str) -> str:
    """A text cell of the table: a line or two, the whole text on hover."""
    escaped = html.escape(text, quote=True)
    return f"<div class='wb-cell-text' title='{escaped}'>{escaped}</div>"


def inputs_table(inputs: Mapping[str, Any]) -> str:
    """A row's columns as a two-column table (never a Python dict)."""
    rows = "".join(
        f"<tr><th>{html.escape(str(key))}</th><td style='white-space:pre-wrap'>{html.escape(_text(value))}</td></tr>"
        for key, value in inputs.items()
    )
    return f"<table class='wb-plain wb-inputs'>{rows}</table>"


def scores_html(record: ResultRecord, say: Messages = ENGLISH) -> str:
    """Each scorer's verdict and its reason, one per line."""
    if not record.scores:
        return f"<div class='wb-scores'>{say('detail.scores')} <i>{html.escape(say('detail.no_scores'))}</i></div>"
    items = []
    for score in record.scores:
        mark = "✓" if score.get("passed") else "✗"
        value = score.get("score")
        number = f" ({value:.2f})" if isinstance(value, int | float) and not isinstance(value, bool) else ""
        reason = score.get("reason") or ""
        items.append(
            f"<li>{mark} <b>{html.escape(str(score.get('name', '?')))}</b>{number}"
            f"{' — ' + html.escape(str(reason)) if reason else ''}</li>"
        )
    items = "".join(items)
    return (
        f"<div class='wb-scores'>{say('detail.scores')}<ul style='margin:2px 0 2px 18px;padding:0'>{items}</ul></div>"
    )


def facts_html(record: ResultRecord, say: Messages = ENGLISH) -> str:
    """Latency, tokens, cache and attempts on one line."""
    latency = "–" if record.latency_ms is None else f"{record.latency_ms:.0f} ms"
    tokens = say("detail.tokens", prompt=_count(record.prompt_tokens), completion=_count(record.completion_tokens))
    facts = [say("detail.latency", latency=latency), tokens]
    facts.append(say("detail.cached") if record.cached else say("detail.called"))
    if record.attempts and record.attempts > 1:
        facts.append(say("detail.attempts", n=record.attempts))
    if record.worker:
        facts.append(say("detail.worker", name=record.worker))
    return f"<div class='wb-facts wb-hint'>{html.escape(' · '.join(facts))}</div>"


def record_html(label: str, title: str, record: ResultRecord, say: Messages = ENGLISH) -> str:
    """One column's cell of the row: output, parsed value, scores with reasons, facts, rendered prompt, chunks."""
    shown = record.output if record.error is None else f"ERROR: {record.error}"
    parsed = "–" if record.parsed is None else _text(record.parsed)
    parts = [
        f"<div><b title='{html.escape(title)}'>{html.escape(label)}</b></div>",
        verdict_cell(record.passed, shown),
        f"<div class='wb-parsed'>{say('detail.parsed')} <code>{html.escape(parsed)}</code></div>",
        scores_html(record, say),
        facts_html(record, say),
        trajectory_html(record, say),  # a template with tools: every step, call and result
        _rendered_html(record.rendered, say),
        _retrieved_html(record.retrieved, say),
    ]
    return f"<div class='wb-detail-column'>{''.join(parts)}</div>"


def _rendered_html(rendered: str, say: Messages) -> str:
    text = rendered or ""
    return (
        f"<details class='wb-rendered'><summary>{html.escape(say('detail.rendered', n=len(text)))}</summary>"
        f"<pre style='white-space:pre-wrap;max-height:20em;overflow:auto;margin:2px 0;line-height:1.35'>"
        f"{html.escape(text)}</pre></details>"
    )


def _retrieved_html(retrieved: tuple[dict[str, Any], ...], say: Messages) -> str:
    if not retrieved:
        return ""
    items = "".join(
        f"<li>{html.escape(str(chunk.get('id', '?')))} "
        f"<span class='wb-hint'>{html.escape(_chunk_facts(chunk, say))}</span></li>"
        for chunk in retrieved
    )
    return (
        f"<div class='wb-retrieved'>{say('detail.retrieved')}<ul style='margin:2px 0 2px 18px;padding:0'>{items}</ul>"
        "</div>"
    )


def _chunk_facts(chunk: dict[str, Any], say: Messages) -> str:
    facts = [str(chunk[key]) for key in ("source",) if chunk.get(key)]
    if isinstance(chunk.get("distance"), int | float):
        facts.append(say("detail.distance", distance=chunk["distance"]))
    return ", ".join(facts)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)
