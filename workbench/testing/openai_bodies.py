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
    return "\n".join(m["content"] for m in body["messages"]) if chat else str(body.get("prompt", ""))


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


def file_object(file_id: str, content: bytes, filename: str | None, purpose: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": len(content),
        "created_at": int(time.time()),
        "filename": filename or file_id,
        "purpose": purpose,
        "status": "processed",
    }
