"""Tool calls through the server, as OpenAI's chat API has them: a client's ``tools`` (with the served template's own),
``tool_choice`` and ``parallel_tool_calls`` reach the model; calls come back as ``message.tool_calls`` with
``finish_reason: "tool_calls"`` (plain, or streamed as OpenAI streams them); the client runs its tools and sends the
results as ``role: "tool"`` turns, which continue the conversation.

The server runs a template's Python tools itself (the agent loop); a step that asks for any other tool — the
client's, or a tool the template only declares — goes back to the client with its calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from workbench.models.types import openai_tool_call
from workbench.serve.protocol import RequestError
from workbench.store import ResultRecord
from workbench.tools.declarations import Tool, ToolSet, definition_problem, tool_choice_problem, tool_from_definition
from workbench.tools.loop import TURNS


def client_toolset(template: Any, body: Mapping[str, Any]) -> ToolSet | None:
    """The tools a request offers the model: the template's, then the client's (``None`` when there are none). A
    definition that is not an OpenAI-style function, or a name the template already uses, is a 400."""
    offered = body.get("tools") or []
    if not isinstance(offered, list):
        raise RequestError(
            400, "`tools` must be a list of {type: function, function: {name, description, parameters}}."
        )
    own = template.toolset
    tools: list[Tool] = list(own)
    for index, entry in enumerate(offered):
        problem = definition_problem(entry)
        if problem is not None or isinstance(entry, str):
            raise RequestError(400, f"`tools[{index}]`: {problem or 'must be a function definition, not a name'}.")
        tool = tool_from_definition(entry)
        if tool.name in {t.name for t in tools}:
            raise RequestError(400, f"`tools[{index}]`: {tool.name!r} is declared twice (the prompt declares it too).")
        tools.append(tool)
    if not tools:
        if body.get("tool_choice") not in (None, "none"):
            raise RequestError(400, "`tool_choice` needs `tools`: send the function definitions the model may call.")
        return None
    choice = body.get("tool_choice")
    problem = tool_choice_problem(choice, [t.name for t in tools]) if choice is not None else None
    if problem:
        raise RequestError(400, f"Invalid `tool_choice`: {problem}.")
    return ToolSet(tuple(tools), own.agent)


def tool_turns(messages: list[Any]) -> list[dict[str, Any]]:
    """The turns after the last user message: the assistant's calls (arguments parsed) and the client's results."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
    turns = []
    for message in messages[last_user + 1 :]:
        data = message.model_dump()
        if message.role == "tool":
            if not data.get("tool_call_id"):
                raise RequestError(400, "A `tool` message needs the `tool_call_id` of the call it answers.")
            turns.append({"role": "tool", "tool_call_id": data["tool_call_id"], "content": _text(data.get("content"))})
        elif message.role == "assistant":
            calls = [_call(c) for c in data.get("tool_calls") or []]
            turns.append({"role": "assistant", "content": _text(data.get("content")), "tool_calls": calls})
    return turns


def _text(content: Any) -> str:
    if isinstance(content, list):  # content parts
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return "" if content is None else str(content)


def _call(call: Any) -> dict[str, Any]:
    from workbench.models.openai_tools import parse_tool_call

    if not isinstance(call, Mapping) or not isinstance(call.get("function"), Mapping):
        raise RequestError(
            400, "Each of an assistant message's `tool_calls` needs {id, type, function: {name, arguments}}."
        )
    return parse_tool_call(call)


def prepare(template: Any, body: Mapping[str, Any], messages: list[Any], variables: dict[str, Any]) -> ToolSet | None:
    """The request's tools; the variables gain the conversation's tool turns and, for a prompt that places
    ``{{ tools }}``, the block of every tool offered."""
    toolset = client_toolset(template, body)
    if toolset is None:
        return None
    turns = tool_turns(messages)
    if turns:
        variables[TURNS] = turns
    if "tools" in template.variables:
        variables["tools"] = toolset.block()
    return toolset


def with_tools(cell: Any, toolset: ToolSet | None) -> Any:
    return cell if toolset is None else replace(cell, toolset=toolset)


def reply(record: ResultRecord) -> tuple[dict[str, Any], str]:
    """The assistant message of a served answer with tools, and its finish reason."""
    steps = record.trajectory or []
    last = steps[-1] if steps else {}
    if record.details.get("finish_reason") == "tool_calls" and last.get("calls"):
        calls = [openai_tool_call(c) for c in last["calls"]]
        return {"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls"
    finish = "length" if record.details.get("finish_reason") == "max_steps" else "stop"
    return {"role": "assistant", "content": record.output}, finish


def stream_events(record: ResultRecord, event: Any) -> Iterator[str]:
    """A served answer with tools as OpenAI streams one: the calls (an id and name, then the arguments), or the text;
    then the finish reason. ``event(delta, finish)`` makes one ``data:`` line."""
    message, finish = reply(record)
    yield event({"role": "assistant", "content": None if message.get("tool_calls") else ""}, None)
    for index, call in enumerate(message.get("tool_calls") or []):
        head = {"index": index, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"]}}
        yield event({"tool_calls": [{**head, "function": {**head["function"], "arguments": ""}}]}, None)
        yield event({"tool_calls": [{"index": index, "function": {"arguments": call["function"]["arguments"]}}]}, None)
    if message.get("content"):
        yield event({"content": message["content"]}, None)
    yield event({}, finish)


def sse_line(chunk: dict[str, Any]) -> str:
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
