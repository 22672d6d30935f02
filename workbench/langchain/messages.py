"""LangChain messages in, a workbench prompt out; a workbench generation back as LangChain messages.

How messages become a prompt depends on the model (``Capabilities.chat_template``):

- a model with a chat template of its own (an ``openai:`` endpoint, whose server applies it) gets the turns as
  chat turns;
- a model without one — the bundled Gemma 3 270M is a *base* model: its GGUF has no template, and chat markup makes
  it answer empty or junk (DESIGN.md) — gets a completion prompt, which is what a base model continues well. A lone
  human message is sent as it is, so ``PromptTemplate | WorkbenchChat("local")`` sends exactly the text a workbench
  completion template would (``benchmarks/bench_chat_format.py`` measures the choice on 02_rag's questions). A
  conversation becomes a plain role-labelled transcript (``System: …``, ``User: …``, ``Assistant: …``) ending on
  ``Assistant:``, with the next turn's labels as stop sequences, so the model answers one turn and stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata

from workbench.errors import ConfigError
from workbench.models.types import ChatMessage, Generation, PromptInput
from workbench.secrets import redact

ROLES = {"system": "system", "human": "user", "ai": "assistant"}
LABELS = {"system": "System", "user": "User", "assistant": "Assistant", "tool": "Result"}
#: Where a transcript's answer ends: the model starting the next turn itself.
TRANSCRIPT_STOPS = ("\nUser:", "\nSystem:")


def _text(message: BaseMessage) -> str:
    """The message's text; content the models here cannot take (images, audio, files) is an error, not dropped."""
    if isinstance(message.content, str):
        return message.content
    calls = ("tool_use", "tool_call") if getattr(message, "tool_calls", None) else ()  # the calls, again as blocks
    skipped = ("text", None, *calls)
    other = [b.get("type") for b in message.content if isinstance(b, dict) and b.get("type") not in skipped]
    if other:
        raise ConfigError(
            f"A {message.type} message carries {', '.join(map(str, other))} content; workbench models take text only."
        )
    return message.text


def chat_turns(messages: Sequence[BaseMessage]) -> list[ChatMessage]:
    """The messages as chat turns (system / user / assistant, and the tool turns of a tool-calling conversation: an
    assistant turn with its ``tool_calls``, a ``tool`` turn per result)."""
    turns = []
    for message in messages:
        if message.type == "tool":
            call_id = getattr(message, "tool_call_id", None)
            turns.append(ChatMessage("tool", _text(message), tool_call_id=call_id))
            continue
        role = ROLES.get(message.type)
        if role is None:
            raise ConfigError(
                f"A {message.type!r} message cannot be sent to a workbench model: send system, human, AI and tool "
                "messages."
            )
        calls = tuple(
            {"id": c.get("id"), "name": c["name"], "arguments": dict(c.get("args") or {})}
            for c in getattr(message, "tool_calls", None) or ()
        )
        turns.append(ChatMessage(role, _text(message), tool_calls=calls))  # type: ignore[arg-type]
    return turns


def transcript(turns: Sequence[ChatMessage]) -> tuple[str, tuple[str, ...]]:
    """A completion prompt for a model without a chat template, and the stop sequences that end its turn."""
    if len(turns) == 1 and turns[0].role == "user":
        return turns[0].content, ()
    lines = [f"{LABELS[t.role]}: {t.content}" for t in turns]
    return "\n\n".join([*lines, "Assistant:"]), TRANSCRIPT_STOPS


def to_prompt(messages: Sequence[BaseMessage], *, chat: bool) -> tuple[PromptInput, tuple[str, ...]]:
    """(the prompt, extra stop sequences): chat turns when ``chat``, else a completion transcript."""
    turns = chat_turns(messages)
    if not turns:
        raise ConfigError("No messages to send: invoke the model with a prompt or at least one message.")
    if chat:
        return turns, ()
    return transcript(turns)


def usage(generation: Generation) -> UsageMetadata | None:
    if generation.prompt_tokens is None and generation.completion_tokens is None:
        return None
    tokens_in, tokens_out = generation.prompt_tokens or 0, generation.completion_tokens or 0
    return UsageMetadata(input_tokens=tokens_in, output_tokens=tokens_out, total_tokens=tokens_in + tokens_out)


def metadata(generation: Generation, spec: str) -> dict[str, Any]:
    """``response_metadata``: the model (a spec is redacted: a URL may carry a password), how it finished."""
    return {
        "model_name": redact(spec),
        "finish_reason": generation.finish_reason,
        "attempts": generation.attempts,
        "latency_ms": generation.latency_ms,
    }


def to_message(generation: Generation, spec: str) -> AIMessage:
    return AIMessage(
        content=generation.text, usage_metadata=usage(generation), response_metadata=metadata(generation, spec)
    )


def last_chunk(generation: Generation, spec: str) -> AIMessageChunk:
    """The closing chunk of a stream: no text, the usage and metadata (counted once, here)."""
    return AIMessageChunk(
        content="",
        usage_metadata=usage(generation),
        response_metadata=metadata(generation, spec),
        chunk_position="last",
    )
