"""LangChain interop for prompt templates: to a LangChain prompt (jinja2 format) and back."""

from __future__ import annotations

import re
from typing import Any

from workbench.prompts.spec import split_messages
from workbench.prompts.template import PromptTemplate


def to_langchain(template: PromptTemplate) -> Any:
    """A LangChain ``ChatPromptTemplate`` (chat) or ``PromptTemplate`` (completion), jinja2 format."""
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.prompts import PromptTemplate as LCPromptTemplate

    if template.api == "chat":
        turns = split_messages(template.body, where=template.path and str(template.path))
        roles = {"system": "system", "user": "human", "assistant": "ai"}
        return ChatPromptTemplate.from_messages([(roles[m.role], m.content) for m in turns], template_format="jinja2")
    return LCPromptTemplate.from_template(template.body, template_format="jinja2")


def from_langchain(lc_prompt: Any, *, name: str, **meta: Any) -> PromptTemplate:
    """Build a template from a LangChain ``PromptTemplate`` or ``ChatPromptTemplate``."""
    if hasattr(lc_prompt, "messages"):
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        parts = []
        for message in lc_prompt.messages:
            prompt = getattr(message, "prompt", None)
            text = getattr(prompt, "template", None)
            fmt = getattr(prompt, "template_format", "f-string")
            if text is None:
                text, fmt = str(getattr(message, "content", "")), "jinja2"
            role = roles.get(getattr(message, "_msg_type", None) or _lc_role(message), "user")
            parts.append(f"{role}:\n{_to_jinja(text, fmt)}")
        body = "\n".join(parts)
    else:
        body = _to_jinja(lc_prompt.template, getattr(lc_prompt, "template_format", "f-string"))
    return PromptTemplate._from_meta({"name": name, **meta}, body, name=name, path=None, body_line=1)


def _lc_role(message: Any) -> str:
    kind = type(message).__name__.lower()
    for role in ("system", "human", "ai"):
        if kind.startswith(role):
            return role
    return "human"


def _to_jinja(template: str, fmt: str) -> str:
    if fmt == "jinja2":
        return template
    if fmt == "mustache":
        return template
    # f-string: {var} -> {{ var }}, {{ -> {, }} -> }
    out = re.sub(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})", r"{{ \1 }}", template)
    return out.replace("{{{{", "{").replace("}}}}", "}")
