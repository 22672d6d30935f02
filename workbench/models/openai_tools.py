"""Tool calls in OpenAI's chat API: the request's tool arguments, and the calls of an answer — whole, or streamed in
pieces (an id and a name once, the arguments' JSON text in fragments)."""

from __future__ import annotations

import json
from typing import Any

from workbench.models.types import GenerationParams


def tool_arguments(params: GenerationParams, tools: Any) -> dict[str, Any]:
    """``tools`` (OpenAI-style definitions) and the run's ``tool_choice`` / ``parallel_tool_calls`` when set; nothing
    without tools."""
    if not tools:
        return {}
    args: dict[str, Any] = {"tools": [dict(t) for t in tools]}
    if params.tool_choice is not None:
        args["tool_choice"] = params.tool_choice
    if params.parallel_tool_calls is not None:
        args["parallel_tool_calls"] = params.parallel_tool_calls
    return args


def parse_tool_call(call: Any) -> dict[str, Any]:
    """OpenAI's ``tool_calls[i]`` (``{id, type, function: {name, arguments}}``, arguments a JSON string) as
    ``{id, name, arguments}`` with the arguments parsed; arguments that are not JSON are kept as the text the model
    wrote (the tool scorers report them)."""
    function = call.get("function") or {}
    text = function.get("arguments")
    try:
        arguments = json.loads(text) if isinstance(text, str) else (text or {})
    except ValueError:
        arguments = text
    return {"id": call.get("id"), "name": function.get("name"), "arguments": arguments}


def message_calls(message: Any) -> tuple[dict[str, Any], ...]:
    """The calls of a chat answer's ``message``."""
    return tuple(parse_tool_call(c) for c in message.get("tool_calls") or ())


def gather_call_pieces(calls: dict[int, dict[str, Any]], chunk_delta: Any) -> None:
    """Join the tool-call pieces of a streamed chunk's ``delta`` into ``calls`` (by their index): the id and name come
    once, the arguments' text in pieces."""
    for delta in getattr(chunk_delta, "tool_calls", None) or ():
        entry = calls.setdefault(delta.index, {"id": None, "function": {"name": None, "arguments": ""}})
        entry["id"] = delta.id or entry["id"]
        function = delta.function
        if function is not None:
            entry["function"]["name"] = function.name or entry["function"]["name"]
            entry["function"]["arguments"] += function.arguments or ""


def streamed_calls(calls: dict[int, dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The calls gathered from a stream, in their order."""
    return tuple(parse_tool_call(calls[i]) for i in sorted(calls))
