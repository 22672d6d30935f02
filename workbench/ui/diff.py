"""Coloured diffs for the UI: a word diff of two outputs, and a line diff of two template versions."""

from __future__ import annotations

import difflib
import html
import re

_TOKENS = re.compile(r"[\u3400-\u9fff]|[A-Za-z0-9_']+|\s+|[^\sA-Za-z0-9_\u3400-\u9fff]")
ADDED = "background:#e6ffec;color:#116329"
REMOVED = "background:#ffebe9;color:#82071e;text-decoration:line-through"


def tokens(text: str) -> list[str]:
    """Words for Latin text, single characters for Chinese (which has no spaces to split on)."""
    return _TOKENS.findall(text or "")


def word_diff(a: str | None, b: str | None) -> str:
    """B against A, inline: removed words struck through in red, added words in green."""
    left, right = tokens(a or ""), tokens(b or "")
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(html.escape("".join(left[i1:i2])))
            continue
        if i2 > i1:
            parts.append(f"<span style='{REMOVED}'>{html.escape(''.join(left[i1:i2]))}</span>")
        if j2 > j1:
            parts.append(f"<span style='{ADDED}'>{html.escape(''.join(right[j1:j2]))}</span>")
    return f"<span class='wb-word-diff' style='white-space:pre-wrap'>{''.join(parts)}</span>"


def unified_diff_html(diff: str) -> str:
    """A unified diff (``diff_templates``) with added lines green, removed red, hunk headers grey."""
    lines = []
    for line in diff.splitlines():
        style = ""
        if line.startswith("+") and not line.startswith("+++"):
            style = ADDED
        elif line.startswith("-") and not line.startswith("---"):
            style = REMOVED.replace(";text-decoration:line-through", "")
        elif line.startswith("@@"):
            style = "color:#6e7781"
        lines.append(f"<div style='{style}'>{html.escape(line) or '&nbsp;'}</div>")
    return (
        "<div class='wb-template-diff' style='font-family:monospace;white-space:pre-wrap;font-size:12px;"
        f"border:1px solid #ddd;padding:4px;max-height:24em;overflow:auto'>{''.join(lines)}</div>"
    )
