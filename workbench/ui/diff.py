"""Coloured diffs for the UI: a word diff of two outputs, and a line diff of two template versions.

A version diff leaves out the ``version:`` line (it changes with every save, so it always came first and pushed the
real change down) and says the two version numbers in its header instead.
"""

from __future__ import annotations

import difflib
import html
import re
from typing import Any

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


def unified_diff_html(diff: str, *, note: str = "") -> str:
    """A unified diff with added lines green, removed red, hunk headers grey; ``note`` goes below it."""
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
    footer = f"<div style='color:#6e7781;font-style:italic'>{html.escape(note)}</div>" if note else ""
    return (
        "<div class='wb-template-diff' style='font-family:monospace;white-space:pre-wrap;font-size:12px;"
        "line-height:1.35;border:1px solid #ddd;padding:4px;max-height:40em;overflow:auto'>"
        f"{''.join(lines)}{footer}</div>"
    )


def version_diff_html(a: Any, b: Any, *, rendered: bool = False, say: Any = None) -> str:
    """What changed from template version ``a`` to ``b``: the file without its ``version:`` line (or the two
    renders with the examples), coloured; ``say``: the UI's messages (:class:`workbench.i18n.Messages`)."""
    from workbench.i18n import DEFAULT, Messages
    from workbench.prompts import diff_templates

    say = say or Messages(DEFAULT)
    from workbench.prompts.fileformat import with_version

    if rendered:
        return unified_diff_html(diff_templates(a, b, rendered=True))
    left = a.to_text()
    right = with_version(b.to_text(), a.version)  # the same version line on both sides: it drops out
    lines = difflib.unified_diff(
        left.splitlines(keepends=True), right.splitlines(keepends=True), fromfile=a.ref, tofile=b.ref
    )
    diff = "".join(lines)
    if not diff:
        return unified_diff_html("", note=say("editor.diff.same", a=a.version, b=b.version))
    return unified_diff_html(diff, note=say("editor.diff.version_line", a=a.version, b=b.version))
