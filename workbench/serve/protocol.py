"""The OpenAI-compatible request side of the server: reading bodies, choosing the prompt, filling its
variables, checking parameters — every bad request becomes a 4xx whose message says what to send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError, WorkbenchError
from workbench.identity import PromptRef
from workbench.models import GenerationParams
from workbench.prompts import PromptLibrary, PromptTemplate


class RequestError(WorkbenchError):
    """A request the server refuses, with the HTTP status and an OpenAI-style error code."""

    def __init__(self, status: int, message: str, code: str = "invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.code = code


def error_body(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": code, "code": code}}


async def json_body(request: Any) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"The request body is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(body, dict):
        raise RequestError(400, "The request body must be a JSON object.")
    return body


@dataclass
class ServedPrompts:
    """The prompts a server offers: every version of each, selected by ``name`` (current) or ``name@vN``."""

    templates: dict[str, PromptTemplate]  # name -> the version served as plain `name`
    library: PromptLibrary | None = None

    def resolve(self, model_field: str | None) -> PromptTemplate:
        if not model_field:
            if len(self.templates) == 1:
                return next(iter(self.templates.values()))
            raise RequestError(400, f"Say which prompt to use in `model`: one of {', '.join(self.names())}.")
        name = model_field.split("@", 1)[0]
        if name not in self.templates:
            served = ", ".join(self.names())
            message = f"This server does not serve {model_field!r}. It serves: {served} (GET /v1/models)."
            raise RequestError(404, message, "model_not_found")
        current = self.templates[name]
        if "@" not in model_field:
            return current
        try:
            ref = PromptRef.parse(model_field)
            if ref.version == current.version:
                return current
            if not self._in_library(name):
                raise ConfigError(f"only v{current.version} is served")
            return self.library.get(name, ref.version)  # type: ignore[union-attr]
        except ConfigError as exc:
            raise RequestError(404, f"{model_field!r}: {exc}", "model_not_found") from exc

    def names(self) -> list[str]:
        return sorted(self.templates)

    def _in_library(self, name: str) -> bool:
        return self.library is not None and self.library.path_of(name).exists()

    def listing(self, backend: str) -> list[dict[str, Any]]:
        out = []
        for name in self.names():
            current = self.templates[name]
            versions = self.library.versions(name) if self._in_library(name) else [current.version]
            out.append(
                {
                    "id": name,
                    "object": "model",
                    "owned_by": "workbench",
                    "version": current.version,
                    "backend": backend,
                    "description": current.description,
                }
            )
            out += [
                {"id": f"{name}@v{v}", "object": "model", "owned_by": "workbench", "version": v, "backend": backend}
                for v in versions
            ]
        return out


def main_variable(template: PromptTemplate) -> str | None:
    """The variable a chat message or completion prompt fills: the template's last required variable."""
    required = template.required_variables
    return required[-1] if required else None


def chat_variables(template: PromptTemplate, body: Mapping[str, Any]) -> dict[str, Any]:
    variables = dict(body.get("variables") or {})
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "Send `messages`: a list of {role, content} objects with at least one user message.")
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users or not isinstance(users[-1], str):
        raise RequestError(400, "`messages` has no user message with text content.")
    main = main_variable(template)
    if main and main not in variables:
        variables[main] = users[-1]
    if "history" in template.variables and "history" not in variables:
        turns = [m for m in messages[:-1] if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
        variables["history"] = turns
    return variables


def completion_variables(template: PromptTemplate, body: Mapping[str, Any]) -> dict[str, Any]:
    variables = dict(body.get("variables") or {})
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    main = main_variable(template)
    if main and main not in variables:
        if not isinstance(prompt, str):
            raise RequestError(400, f"Send `prompt` as one string: it fills {main!r} of {template.ref}.")
        variables[main] = prompt
    return variables


def request_params(template: PromptTemplate, body: Mapping[str, Any], max_tokens_limit: int) -> GenerationParams:
    base = GenerationParams().merged(**template.model.parameters)
    overrides = {k: body[k] for k in ("temperature", "max_tokens", "top_p", "seed", "stop") if body.get(k) is not None}
    try:
        params = base.merged(**overrides)
    except ValueError as exc:
        detail = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc), "loc": ()}
        where = ".".join(map(str, detail.get("loc", ()))) or "parameters"
        raise RequestError(400, f"Invalid {where}: {detail['msg']}.") from exc
    if params.max_tokens > max_tokens_limit:
        raise RequestError(400, f"max_tokens {params.max_tokens} is over this server's limit of {max_tokens_limit}.")
    return params
