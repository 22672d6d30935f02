"""The bodies OpenAI's API answers with (a completion, a chat completion, a file object), for the local stand-in
servers: written from OpenAI's API reference, so the official client reads them unchanged."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def usage_of(prompt: str, text: str) -> dict[str, int]:
    prompt_tokens, completion_tokens = len(prompt.split()), len(text.split())
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def prompt_of(body: dict[str, Any], chat: bool) -> str:
    return "\n".join(m.get("content") or "" for m in body["messages"]) if chat else str(body.get("prompt", ""))


def tool_calls_of(calls: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """``[{name, arguments}]`` as OpenAI's ``message.tool_calls`` (arguments as a JSON string, ids given)."""
    import json

    return [
        {
            "id": f"call_{prefix}_{i}",
            "type": "function",
            "function": {
                "name": c["name"],
                "arguments": c["arguments"]
                if isinstance(c.get("arguments"), str)
                else json.dumps(c.get("arguments") or {}),
            },
        }
        for i, c in enumerate(calls)
    ]


def tool_call_body(prompt: str, body: dict[str, Any], calls: list[dict[str, Any]], id_: str) -> dict[str, Any]:
    """A chat completion that asks for tool calls (``finish_reason: "tool_calls"``, no content)."""
    message = {"role": "assistant", "content": None, "tool_calls": tool_calls_of(calls, id_)}
    return {
        "id": id_,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        "usage": usage_of(prompt, " ".join(c["name"] for c in calls)),
    }


def completion_body(prompt: str, body: dict[str, Any], chat: bool, responder: Callable[[str], str], id_: str) -> dict:
    """The JSON a completion (or chat completion) answers with, as OpenAI's API reference shows it."""
    text = responder(prompt)
    if chat:
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    else:
        choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
    return {
        "id": id_,
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [choice],
        "usage": usage_of(prompt, text),
    }
