"""What a template file declares, as records: its inputs, its model defaults, its chat turns.

Built from the parsed front matter by :func:`template_fields`, which raises a :class:`TemplateError` naming the
file and line for anything malformed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import TemplateError
from workbench.models.base import ChatMessage

ROLE_LINE = re.compile(r"^[ \t]*(system|user|assistant)[ \t]*:[ \t]*$", re.MULTILINE | re.IGNORECASE)
KNOWN_KEYS = {
    "name",
    "version",
    "description",
    "tags",
    "model",
    "inputs",
    "output",
    "assertions",
    "sample",
    "authors",
    "retrieval",
    "dataset",
}


@dataclass(frozen=True)
class InputSpec:
    """A declared input variable: what it means and an example value for previews."""

    name: str
    description: str = ""
    example: Any = None
    default: Any = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.description:
            data["description"] = self.description
        if self.example is not None:
            data["example"] = self.example
        if self.default is not None:
            data["default"] = self.default
        return data


@dataclass(frozen=True)
class ModelDefaults:
    """The model and sampling parameters a template was written for (overridable per run)."""

    spec: str | None = None
    api: str = "auto"  # auto | completion | chat
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.spec:
            data["spec"] = self.spec
        if self.api != "auto":
            data["api"] = self.api
        if self.parameters:
            data["parameters"] = dict(self.parameters)
        return data


def template_fields(meta: dict[str, Any], *, name: str | None, path: Path | None) -> dict[str, Any]:
    """The :class:`PromptTemplate` fields a file's front matter declares (validated; errors name file and line)."""
    where = str(path) if path else None
    try:
        model_meta = meta.get("model") or {}
        if isinstance(model_meta, str):
            model_meta = {"spec": model_meta}
        if not isinstance(model_meta, dict):
            raise TypeError("`model:` must be a mapping (spec, api, parameters)")
        config = model_meta.get("configuration") or {}  # Prompty layout
        model = ModelDefaults(
            spec=model_meta.get("spec") or config.get("spec"),
            api=str(model_meta.get("api", "auto")),
            parameters=dict(model_meta.get("parameters") or {}),
        )
        samples = meta.get("sample") or {}
        inputs = {}
        for key, value in (meta.get("inputs") or {}).items():
            value = value if isinstance(value, dict) else {"example": value}
            inputs[str(key)] = InputSpec(
                name=str(key),
                description=str(value.get("description", "")),
                example=value.get("example", value.get("sample", samples.get(key))),
                default=value.get("default"),
            )
        assertions = meta.get("assertions") or ()
        if not isinstance(assertions, list | tuple):
            raise TypeError("`assertions:` must be a list of {type: ...} entries")
        version = int(meta.get("version", 1))
    except (TypeError, ValueError, AttributeError) as exc:
        raise TemplateError(f"Invalid front matter: {exc}", path=where, line=1) from exc
    return {
        "name": str(meta.get("name") or name or "untitled"),
        "version": version,
        "description": str(meta.get("description", "")),
        "tags": tuple(map(str, meta.get("tags") or ())),
        "model": model,
        "inputs": inputs,
        "output": dict(meta.get("output") or {}),
        "assertions": tuple(dict(a) for a in assertions),
        "retrieval": dict(meta.get("retrieval") or {}),
        "dataset": meta.get("dataset"),
        "extra": {k: v for k, v in meta.items() if k not in KNOWN_KEYS},
    }


def split_messages(text: str, *, where: str | None = None) -> list[ChatMessage]:
    """Split rendered chat text on ``role:`` lines into messages."""
    matches = list(ROLE_LINE.finditer(text))
    if not matches:
        return [ChatMessage("user", text.strip())]
    leading = text[: matches[0].start()].strip()
    if leading:
        raise TemplateError(
            "Chat body has text before its first `system:`/`user:` line. Put a role line first.",
            path=where,
        )
    messages = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        content = text[match.end() : end].strip("\n").strip()
        messages.append(ChatMessage(match.group(1).lower(), content))  # type: ignore[arg-type]
    return messages
