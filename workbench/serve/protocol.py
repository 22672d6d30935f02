"""The OpenAI-compatible request side of the server: reading bodies, choosing the prompt, filling its
variables, checking parameters — every bad request becomes a 4xx whose message says what to send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

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
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" ({exc.msg} at line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise RequestError(400, f"The request body is not valid JSON{where}.") from exc
    if not isinstance(body, dict):
        raise RequestError(400, "The request body must be a JSON object.")
    return body


class _Body(BaseModel):
    """The fields the server reads, typed as OpenAI's API types them; other fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: StrictStr | None = None
    stream: StrictBool | None = False
    temperature: StrictFloat | StrictInt | None = None
    max_tokens: StrictInt | None = None
    top_p: StrictFloat | StrictInt | None = None
    seed: StrictInt | None = None
    stop: StrictStr | list[StrictStr] | None = None
    variables: dict[str, Any] | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: StrictStr
    content: StrictStr | list[dict[str, Any]] | None = None


class ChatBody(_Body):
    messages: list[Message]
    tools: list[dict[str, Any]] | None = None  # OpenAI's function definitions (workbench.serve.tools)
    tool_choice: StrictStr | dict[str, Any] | None = None
    parallel_tool_calls: StrictBool | None = None


class CompletionBody(_Body):
    prompt: StrictStr | list[StrictStr] | None = None


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: StrictStr | None = None
    request_id: StrictStr | None = None
    rating: StrictStr | StrictInt | None = None
    note: StrictStr | None = None
    expected: StrictStr | StrictInt | StrictFloat | StrictBool | None = None


def parse_body(kind: type[BaseModel], body: dict[str, Any]) -> Any:
    """The body as ``kind``; a field of the wrong type is a 400 that names it and what it takes."""
    try:
        return kind.model_validate(body)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:5]:
            where = ".".join(str(part) for part in error["loc"]) or "body"
            problems.append(f"`{where}`: {_what(error)}")
        raise RequestError(400, "Invalid request: " + "; ".join(problems) + ".") from exc


def _what(error: dict[str, Any]) -> str:
    if error["type"] == "missing":
        return "is required"
    return str(error["msg"]).replace("Input should be", "must be")


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

    def entry(self, model_id: str, backend: str) -> dict[str, Any]:
        """One served name as OpenAI's retrieve-model answers it (``GET /v1/models/{id}``); unknown: a 404."""
        template = self.resolve(model_id)
        return {
            "id": model_id,
            "object": "model",
            "created": 0,
            "owned_by": "workbench",
            "version": template.version,
            "backend": backend,
            "description": template.description,
        }

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


def chat_variables(template: PromptTemplate, body: ChatBody) -> dict[str, Any]:
    variables = dict(body.variables or {})
    users = [m.content for m in body.messages if m.role == "user"]
    if not body.messages or not users or not isinstance(users[-1], str):
        raise RequestError(400, "Send `messages`: a list of {role, content} objects ending with a user message.")
    main = main_variable(template)
    if main and main not in variables:
        variables[main] = users[-1]
    if "history" in template.variables and "history" not in variables:
        turns = [m.model_dump(include={"role", "content"}) for m in body.messages[:-1]]
        variables["history"] = [t for t in turns if t["role"] in ("user", "assistant")]
    return variables


def completion_variables(template: PromptTemplate, body: CompletionBody) -> dict[str, Any]:
    variables = dict(body.variables or {})
    prompt = body.prompt
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    main = main_variable(template)
    if main and main not in variables:
        if not isinstance(prompt, str):
            raise RequestError(400, f"Send `prompt` as one string: it fills {main!r} of {template.ref}.")
        variables[main] = prompt
    return variables


def request_params(template: PromptTemplate, body: Mapping[str, Any], max_tokens_limit: int) -> GenerationParams:
    """The template's parameters with the request's over them; out of range is a 400 naming the field."""
    base = GenerationParams().merged(**template.model.parameters)
    keys = ("temperature", "max_tokens", "top_p", "seed", "stop", "tool_choice", "parallel_tool_calls")
    overrides = {k: body[k] for k in keys if body.get(k) is not None}
    try:
        params = base.merged(**overrides)
    except ValidationError as exc:
        detail = exc.errors()[0]
        where = ".".join(map(str, detail.get("loc", ()))) or "parameters"
        raise RequestError(400, f"Invalid {where}: {_what(detail)}.") from exc
    if params.max_tokens > max_tokens_limit:
        raise RequestError(400, f"max_tokens {params.max_tokens} is over this server's limit of {max_tokens_limit}.")
    return params
