"""Template edits a person can read: each candidate is the original file with one part changed.

Why text edits: ``PromptTemplate.with_changes`` re-serialises the whole front matter, so a diff of a one-line change
would show every line of the file in a new layout. These helpers change only the body, one top-level front-matter
key, or the name line, and re-parse the result — a candidate is validated exactly as a file a person wrote.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import yaml

from workbench.prompts import PromptTemplate
from workbench.prompts.fileformat import split_front_matter
from workbench.prompts.spec import ROLE_LINE

_JINJA_OPENERS = ("{{", "{%", "{#")
_NAME_LINE = re.compile(r"^name[ \t]*:.*$", re.MULTILINE)
MAX_NAME = 100


def literal(text: str) -> str:
    """``text`` as literal Jinja: wrapped in ``{% raw %}`` only when it holds something Jinja would read."""
    if any(opener in text for opener in _JINJA_OPENERS):
        return "{% raw %}" + text.replace("{% endraw %}", "{ % endraw % }") + "{% endraw %}"
    return text


def _parts(template: PromptTemplate) -> tuple[str, str]:
    """(everything up to the body, the body) of the template's file text."""
    text = template.to_text()
    _, body, _ = split_front_matter(text, None)
    return text[: len(text) - len(body)], body


def _reparse(template: PromptTemplate, text: str) -> PromptTemplate:
    return PromptTemplate.from_string(text, path=template.path)


def with_body(template: PromptTemplate, body: str) -> PromptTemplate:
    """The template with a new body; the front matter exactly as it was."""
    head, _ = _parts(template)
    if not head:  # a template without front matter: serialise one, so the result is a complete file
        return template.with_changes(body=body)
    return _reparse(template, head + body)


def with_front_key(template: PromptTemplate, key: str, value: Any) -> PromptTemplate:
    """The template with one top-level front-matter key replaced (or added at the end), other lines untouched."""
    text = template.to_text()
    front, body, _ = split_front_matter(text, None)
    if not front:
        return template.with_changes(**{key: value})
    block = yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False, width=100, default_flow_style=None)
    lines = front.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(rf"^{re.escape(key)}[ \t]*:", line)), None)
    if start is None:
        new_front = front + ("" if front.endswith("\n") else "\n") + block
    else:
        end = start + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t", "-", "#")):
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1  # keep blank lines that separated the block from the next key
        new_front = "".join(lines[:start]) + block + "".join(lines[end:])
    opening = text[: text.index("\n") + 1]
    return _reparse(template, opening + new_front + "---\n" + body)


def renamed(template: PromptTemplate, name: str) -> PromptTemplate:
    """The same file under another name (a candidate's name in runs), detached from any library path."""
    text = template.to_text()
    if _NAME_LINE.search(split_front_matter(text, None)[0]):
        head, body = _parts(template)
        head = _NAME_LINE.sub(f"name: {name}", head, count=1)
        return PromptTemplate.from_string(head + body)
    return PromptTemplate.from_string(template.with_changes(name=name, path=None).to_text())


def candidate_name(original: PromptTemplate, edit: PromptTemplate) -> str:
    """``NAME.opt-HASH``: content-addressed, so two different candidates never share a (name, version) in the store
    (versions are immutable once a run used them) and the same candidate is the same prompt in every run."""
    digest = hashlib.sha256(edit.to_text().encode("utf-8")).hexdigest()[:8]
    return f"{original.name[: MAX_NAME - 13]}.opt-{digest}"


# -- demonstrations --------------------------------------------------------------------------------------------
def terminator(template: PromptTemplate) -> str:
    """What ends an answer in a demonstration: the template's first stop string that is not white space."""
    stops = template.model.parameters.get("stop") or ()
    stops = [stops] if isinstance(stops, str) else list(stops)
    return next((s for s in stops if s.strip()), "")


def continuation(prompt: str, word: str) -> str:
    """How an answer follows its prompt (a Latin word after a non-space gets a space, as the model writes it)."""
    word = word.strip()
    if word[:1].isascii() and word[:1].isalnum() and prompt[-1:] and not prompt[-1:].isspace():
        return " " + word
    return word


def with_demonstrations(template: PromptTemplate, demos: Sequence[tuple[dict[str, Any], str]]) -> PromptTemplate:
    """The template with worked examples before the task: each (row inputs, answer) rendered by the template itself
    and completed with its answer. Completion bodies get them as leading text (a fixed prefix the local model
    evaluates once); chat bodies as user/assistant turns before the last user turn."""
    if template.api == "chat":
        return _chat_demonstrations(template, demos)
    end = terminator(template)
    shown = []
    for inputs, answer in demos:
        text = str(template.render(inputs))
        shown.append(f"{text}{continuation(text, answer)}{end}\n\n")
    return with_body(template, literal("".join(shown)) + template.body.lstrip("\n"))


def _chat_demonstrations(template: PromptTemplate, demos: Sequence[tuple[dict[str, Any], str]]) -> PromptTemplate:
    body = template.body
    users = [m for m in ROLE_LINE.finditer(body) if m.group(1).lower() == "user"]
    at = users[-1].start() if users else 0
    turns = []
    for inputs, answer in demos:
        messages = template.render(inputs)
        question = next((m.content for m in reversed(list(messages)) if m.role == "user"), "")
        turns.append(f"user:\n{literal(question)}\n\nassistant:\n{literal(answer.strip())}\n\n")
    return with_body(template, body[:at] + "".join(turns) + body[at:])


# -- instructions ----------------------------------------------------------------------------------------------
def instruction_of(template: PromptTemplate) -> str:
    """The template's instruction: its system turn (chat), else nothing (completion bodies get one prepended)."""
    if template.api != "chat":
        return ""
    matches = list(ROLE_LINE.finditer(template.body))
    for i, match in enumerate(matches):
        if match.group(1).lower() == "system":
            end = matches[i + 1].start() if i + 1 < len(matches) else len(template.body)
            return template.body[match.end() : end].strip("\n")
    return ""


def with_instruction(template: PromptTemplate, instruction: str) -> PromptTemplate:
    """The template with ``instruction`` as its system turn (chat: replaced or added), or as a leading paragraph
    (completion)."""
    instruction = literal(instruction.strip())
    body = template.body
    if template.api != "chat":
        return with_body(template, f"{instruction}\n\n{body.lstrip(chr(10))}")
    matches = list(ROLE_LINE.finditer(body))
    for i, match in enumerate(matches):
        if match.group(1).lower() == "system":
            end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
            return with_body(template, body[: match.end()] + f"\n{instruction}\n\n" + body[end:])
    return with_body(template, f"system:\n{instruction}\n\n{body.lstrip(chr(10))}")
