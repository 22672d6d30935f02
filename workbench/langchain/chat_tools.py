"""``WorkbenchChat.bind_tools``: LangChain tools in, tool calls out, on any workbench model.

- A model with a tools API (``capabilities.tool_calling``: an ``openai:`` endpoint) gets the tools, ``tool_choice``
  and the conversation's tool turns as OpenAI's API has them, and its ``message.tool_calls`` come back as the
  ``AIMessage``'s ``tool_calls``.
- A model without one (the bundled 270M base model) follows the workbench's JSON reply protocol
  (:mod:`workbench.tools.protocol`, the same as a template with ``tools:``): the tools are written above the
  conversation, the model replies ``{"name": TOOL, "arguments": {...}}`` or ``{"answer": TEXT}``, and where it can
  constrain its decoding (llama.cpp's JSON-schema grammar) any other reply is impossible — the name is a bound tool
  allowed by ``tool_choice`` and the arguments fit its schema.

LangChain's ``tool_choice`` words map onto OpenAI's: ``"any"`` / ``True`` → ``"required"``, a tool's name → that
tool, ``"auto"`` / ``"none"`` as they are.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk

from workbench.errors import ConfigError
from workbench.models.types import ChatMessage
from workbench.tools import protocol
from workbench.tools.declarations import ToolSet, definition_problem, tool_from_definition

CHOICE_WORDS = {"any": "required", "required": "required", "auto": "auto", "none": "none"}


def openai_tools(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """LangChain tools (``@tool`` functions, pydantic classes, functions, runnables, dicts) as OpenAI function
    definitions, each checked as a template's ``tools:`` entry would be."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    definitions = []
    for index, tool in enumerate(tools):
        definition = convert_to_openai_tool(tool)
        problem = definition_problem(definition)
        if problem is not None:
            raise ConfigError(f"bind_tools: tool {index + 1} cannot be offered to a workbench model: {problem}.")
        definitions.append(definition)
    return definitions


def openai_choice(tool_choice: Any, definitions: Sequence[Mapping[str, Any]]) -> str | dict[str, Any] | None:
    """LangChain's ``tool_choice`` in OpenAI's words (``None``: the model decides)."""
    names = [d["function"]["name"] for d in definitions]
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True:
        return "required"
    if isinstance(tool_choice, Mapping):
        return dict(tool_choice)
    if tool_choice in CHOICE_WORDS:
        return CHOICE_WORDS[tool_choice]
    if tool_choice in names:
        return {"type": "function", "function": {"name": tool_choice}}
    raise ConfigError(
        f"bind_tools: tool_choice={tool_choice!r} is neither 'auto', 'any', 'required', 'none' nor one of the bound "
        f"tools ({', '.join(names)})."
    )


def tool_set(definitions: Sequence[Mapping[str, Any]]) -> ToolSet:
    """The tools for the reply protocol, each object's arguments closed (``additionalProperties: false`` unless the
    tool says otherwise): under a grammar a small model otherwise pads a call with keys nobody declared."""
    return ToolSet(tuple(tool_from_definition(_closed(d)) for d in definitions))


def _closed(definition: Mapping[str, Any]) -> dict[str, Any]:
    function = dict(definition["function"])
    parameters = dict(function.get("parameters") or {"type": "object", "properties": {}})
    if parameters.get("type") == "object":
        parameters.setdefault("additionalProperties", False)
    return {**definition, "function": {**function, "parameters": parameters}}


def protocol_prompt(turns: Sequence[ChatMessage], tools: ToolSet) -> str:
    """A completion prompt for a model without a tools API: the tools block, the conversation as a transcript in
    which the model's earlier calls are its JSON replies and each result a ``Result:`` line, ending on
    ``Assistant:`` for the next reply."""
    lines = [tools.block().rstrip("\n")]
    for turn in turns:
        if turn.role == "tool":
            lines.append(f"Result: {turn.content}")
        elif turn.role == "assistant" and turn.tool_calls:
            replies = [protocol.reply_text(call, None) for call in turn.tool_calls]
            lines.append("Assistant: " + "\n".join(replies))
        else:
            lines.append(f"{turn.role.capitalize()}: {turn.content}")
    return "\n\n".join([*lines, "Assistant:"])


def reply_message(text: str, *, whole: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """(the answer text, the tool calls) of one protocol reply; a reply that is neither stays text. ``whole``: the
    reply was generated under the grammar, so only the whole text counts (a reply cut off by ``max_tokens`` is not
    searched for an object inside it)."""
    if whole:
        try:
            json.loads(text)
        except ValueError:
            return text, []
    call, answer, _problem = protocol.parse_reply(text)
    if call is not None:
        arguments = call.get("arguments")
        return "", [_call(str(call["name"]), arguments if isinstance(arguments, Mapping) else {})]
    if answer is not None:
        return answer, []
    return text, []


def calls_of(generation_calls: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A tools API's calls (``{id, name, arguments}``) as LangChain tool calls."""
    return [
        _call(str(c.get("name")), c.get("arguments") if isinstance(c.get("arguments"), Mapping) else {}, c.get("id"))
        for c in generation_calls
    ]


def _call(name: str, arguments: Mapping[str, Any], call_id: Any = None) -> dict[str, Any]:
    return {
        "name": name,
        "args": dict(arguments),
        "id": str(call_id or f"call_{uuid.uuid4().hex[:12]}"),
        "type": "tool_call",
    }


def with_calls(message: AIMessage, content: str, calls: list[dict[str, Any]]) -> AIMessage:
    """``message`` (usage and metadata kept) with the reply's text and calls."""
    return AIMessage(
        content=content,
        tool_calls=calls,
        usage_metadata=message.usage_metadata,
        response_metadata=message.response_metadata,
    )


def as_chunk(message: AIMessage) -> AIMessageChunk:
    """A whole reply with calls as one stream chunk (the calls as ``tool_call_chunks``, their arguments JSON)."""
    chunks = [
        {"name": c["name"], "args": json.dumps(c["args"], ensure_ascii=False), "id": c["id"], "index": i}
        for i, c in enumerate(message.tool_calls)
    ]
    return AIMessageChunk(
        content=message.content,
        tool_call_chunks=chunks,
        usage_metadata=message.usage_metadata,
        response_metadata=message.response_metadata,
        chunk_position="last",
    )
