"""The ``.prompty`` file format: YAML front matter between ``---`` lines, then the Jinja2 body.

Front matter is read with YAML 1.2 booleans (only true/false), so labels like ``yes``/``no``/``on``/``off``
stay strings. Every error names the file and line. Saving writes what the user typed: only the ``version:``
line is touched (see :func:`with_version`), never a re-serialised layout.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from workbench.errors import TemplateError

TEMPLATE_SUFFIX = ".prompty"
_VERSION_LINE = re.compile(r"^(version[ \t]*:[ \t]*)([^\n#]*?)([ \t]*(#.*)?)$", re.MULTILINE)
_NAME_LINE = re.compile(r"^name[ \t]*:.*$", re.MULTILINE)


def split_front_matter(text: str, where: str | None) -> tuple[str, str, int]:
    """(front matter, body, file line where the body starts). No front matter: ("", text, 1)."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return "", text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    raise TemplateError("Front matter starts with `---` but has no closing `---` line.", path=where, line=1)


class FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so labels like yes/no/on/off stay strings."""


FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
FrontMatterLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_front_matter(front: str, where: str | None) -> dict[str, Any]:
    if not front.strip():
        return {}
    try:
        meta = yaml.load(front, Loader=FrontMatterLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = _culprit_line(front, mark.line + 2) if mark is not None else 1  # +2: 0-based, the opening ---
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(
            f"Broken YAML front matter: {problem}. Check indentation and quoting.", path=where, line=line
        ) from exc
    if not isinstance(meta, dict):
        raise TemplateError("Front matter must be a YAML mapping (key: value lines).", path=where, line=2)
    return meta


def _culprit_line(front: str, reported: int) -> int:
    """The file line to blame for a YAML error YAML noticed on ``reported``.

    Why: YAML sees a mis-indented line only when it reads the line after it (``output:`` /
    ``   parser: label`` / ``  labels:`` fails on ``labels:``), so the marker would land one line late. When
    the line before has an indentation no other line uses, that line is the mistake; otherwise YAML's line
    stands (e.g. a line indented deeper than the one before is reported on itself).
    """
    lines = front.splitlines()
    index = reported - 2  # 0-based line of the front matter
    if not 0 < index < len(lines):
        return reported
    previous = next((i for i in range(index - 1, -1, -1) if lines[i].strip()), None)
    if previous is None:
        return reported
    indents = [_indent(line) for i, line in enumerate(lines) if line.strip() and i != previous]
    odd = _indent(lines[previous])
    if odd not in indents and odd != _indent(lines[index]):
        return previous + 2
    return reported


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def dump_front_matter(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def with_version(text: str, version: int) -> str:
    """The file text with its front matter's ``version:`` set to ``version`` — the only edit a save makes."""
    stripped = text.lstrip("\ufeff")
    if not stripped.splitlines() or stripped.splitlines()[0].strip() != "---":
        return f"---\nversion: {version}\n---\n{text}"
    front, _, _ = split_front_matter(text, None)
    start = len(text) - len(stripped) + stripped.index("\n") + 1  # just after the opening --- line
    match = _VERSION_LINE.search(front)
    if match:
        current = match.group(2).strip()
        if current == str(version):
            return text
        new_front = front[: match.start(2)] + str(version) + front[match.end(2) :]
    else:
        name = _NAME_LINE.search(front)
        at = name.end() + 1 if name else 0
        new_front = front[:at] + f"version: {version}\n" + front[at:]
    return text[:start] + new_front + text[start + len(front) :]
