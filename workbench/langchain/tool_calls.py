"""Tool calls with a user's LangChain chat model: the turns of an agent loop as LangChain messages (an assistant turn
with ``tool_calls``, a ``ToolMessage`` per result), the request's tools bound with ``bind_tools`` (with the run's
``tool_choice`` / ``parallel_tool_calls``), and an ``AIMessage``'s calls back as ``{id, name, arguments}``."""

from __future__ import annotations

from typing import Any

from workbench.errors import ConfigError
from workbench.models.types import ChatMessage

#: Tool parameters go to ``bind_tools``, not to the model's fields.
TOOL_PARAMS = ("tool_choice", "parallel_tool_calls")


def tool_turn(message: ChatMessage) -> Any:
    """A ``tool`` turn as a ``ToolMessage``, an assistant turn that asked for tools as an ``AIMessage`` with its
    calls; ``None`` for any other turn."""
    from langchain_core.messages import AIMessage, ToolMessage

    if message.role == "tool":
        return ToolMessage(content=message.content, tool_call_id=message.tool_call_id or "")
    if message.tool_calls:
        calls = [
            {"name": c["name"], "args": dict(c.get("arguments") or {}), "id": c.get("id"), "type": "tool_call"}
            for c in message.tool_calls
        ]
        return AIMessage(content=message.content, tool_calls=calls)
    return None


def tool_calls_of(result: Any) -> tuple[dict[str, Any], ...]:
    """An AIMessage's ``tool_calls`` (and ``invalid_tool_calls``, whose arguments are kept as the text written) as
    ``{id, name, arguments}``."""
    calls = [
        {"id": c.get("id"), "name": c.get("name"), "arguments": dict(c.get("args") or {})}
        for c in getattr(result, "tool_calls", None) or ()
    ]
    calls += [
        {"id": c.get("id"), "name": c.get("name"), "arguments": c.get("args") or ""}
        for c in getattr(result, "invalid_tool_calls", None) or ()
    ]
    return tuple(calls)


def binds_tools(lc_model: Any) -> bool:
    """Whether the chat model implements ``bind_tools`` (the base class's raises NotImplementedError)."""
    try:
        from langchain_core.language_models import BaseChatModel
    except ImportError:  # pragma: no cover
        return False
    method = getattr(type(lc_model), "bind_tools", None)
    return isinstance(lc_model, BaseChatModel) and method is not None and method is not BaseChatModel.bind_tools


def with_tools(model: Any, request: Any, spec: str) -> Any:
    """The chat model with the request's tools bound (``bind_tools``, with the run's tool parameters)."""
    if not request.tools:
        return model
    options: dict[str, Any] = {}
    if request.params.tool_choice is not None:
        options["tool_choice"] = request.params.tool_choice
    if request.params.parallel_tool_calls is not None:
        options["parallel_tool_calls"] = request.params.parallel_tool_calls
    try:
        return model.bind_tools([dict(t) for t in request.tools], **options)
    except TypeError as exc:
        raise ConfigError(
            f"{spec}: bind_tools refused the run's tool parameters ({', '.join(options)}): {exc}. Remove "
            "tool_choice / parallel_tool_calls from the template or the run."
        ) from exc
