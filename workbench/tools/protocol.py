"""Tool calls for models without a tools API (the local 270M base model in completion mode): the tools are written
into the prompt (:meth:`ToolSet.block`), the model replies with one JSON object — ``{"name": TOOL, "arguments":
{...}}`` to call a tool, ``{"answer": TEXT}`` to answer — and, when the model can constrain its decoding to a JSON
Schema (llama.cpp compiles it into a grammar), :func:`reply_schema` makes any other reply impossible: the name is
one of the declared tools and the arguments fit that tool's schema.

Choosing the tool by log-probability (``output.method: logprob``, as ``exam_cloze`` scores options):
:func:`choice_labels` gives each tool the text ``{"name": "TOOL"`` as a label word, the model scores every one as a
continuation of the prompt, and the arguments are then generated under the chosen tool's schema alone.

A multi-step transcript in completion mode: the reply, then ``Result: …`` and the prompt's last line again (its cue,
e.g. ``Call:``), so the model continues the pattern its few-shot examples set.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.tools.declarations import Tool, ToolSet, chosen_tool

ANSWER = "answer"
ANSWER_LABEL = "(answer)"  # the label of "no tool" in log-probability choice (not a valid tool name)


def call_schema(tool: Tool, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The reply that calls ``tool``, and the ``$defs`` its parameters need (renamed under ``prefix``)."""
    parameters = dict(tool.parameters)
    defs = {f"{prefix}{k}": v for k, v in dict(parameters.pop("$defs", {}) or {}).items()}
    parameters = _renamed_refs(parameters, prefix)
    defs = {k: _renamed_refs(v, prefix) for k, v in defs.items()}
    schema = {
        "type": "object",
        "properties": {"name": {"const": tool.name}, "arguments": parameters},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }
    return schema, defs


def _renamed_refs(schema: Any, prefix: str) -> Any:
    if isinstance(schema, dict):
        return {
            k: (
                f"#/$defs/{prefix}{v.removeprefix('#/$defs/')}"
                if k == "$ref" and isinstance(v, str)
                else _renamed_refs(v, prefix)
            )
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_renamed_refs(v, prefix) for v in schema]
    return schema


ANSWER_SCHEMA = {
    "type": "object",
    "properties": {ANSWER: {"type": "string"}},
    "required": [ANSWER],
    "additionalProperties": False,
}


def allowed(toolset: ToolSet, tool_choice: Any) -> tuple[list[Tool], bool]:
    """(the tools a reply may call, whether it may answer) under OpenAI's ``tool_choice``."""
    forced = chosen_tool(tool_choice)
    if forced is not None:
        return [t for t in toolset if t.name == forced], False
    if tool_choice == "none":
        return [], True
    return list(toolset), tool_choice != "required"


def reply_schema(tools: Sequence[Tool], may_answer: bool) -> dict[str, Any]:
    """The JSON Schema of a reply: a call of one of ``tools`` (arguments fitting its schema) or an answer."""
    branches: list[dict[str, Any]] = []
    defs: dict[str, Any] = {}
    for index, tool in enumerate(tools):
        branch, tool_defs = call_schema(tool, f"t{index}_")
        branches.append(branch)
        defs.update(tool_defs)
    if may_answer:
        branches.append(dict(ANSWER_SCHEMA))
    schema: dict[str, Any] = branches[0] if len(branches) == 1 else {"anyOf": branches}
    if defs:
        schema = {**schema, "$defs": defs}
    return schema


def lead(prompt: str) -> str:
    """A reply after ``Call:`` starts with a space, as written text does; after a space, a newline or full-width
    punctuation (``调用：``), with nothing."""
    return " " if prompt and not prompt[-1].isspace() and prompt[-1].isascii() else ""


def choice_labels(prompt: str, tools: Sequence[Tool], may_answer: bool) -> dict[str, list[str]]:
    """Label words for choosing the tool by log-probability: how each choice's reply would begin."""
    space = lead(prompt)
    labels = {t.name: [f'{space}{{"name": {json.dumps(t.name)}'] for t in tools}
    if may_answer:
        labels[ANSWER_LABEL] = [f'{space}{{"{ANSWER}"']
    return labels


def parse_reply(text: str) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(the call, the answer, why the reply is neither) of one JSON reply. A reply that is not JSON, or JSON of
    another shape, is the model's mistake: reported, never raised."""
    stripped = text.strip()
    try:
        value = json.loads(stripped)
    except ValueError:
        value = _first_object(stripped)
        if value is None:
            return None, None, f"the reply is not a JSON tool call or answer: {stripped[:80]!r}"
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        arguments = value.get("arguments", {})
        return {"name": value["name"], "arguments": arguments}, None, None
    if isinstance(value, Mapping) and ANSWER in value:
        answer = value[ANSWER]
        return None, answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False), None
    return None, None, f"the reply is JSON but neither a call {{name, arguments}} nor an answer: {stripped[:80]!r}"


def _first_object(text: str) -> Any:
    """The first JSON object in free text (an unconstrained model writes more than the object)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            return decoder.raw_decode(text[start:])[0]
        except ValueError:
            start = text.find("{", start + 1)
    return None


def reply_text(call: Mapping[str, Any] | None, answer: str | None) -> str:
    """The reply as it is written back into a transcript (normalised JSON)."""
    if call is not None:
        return json.dumps({"name": call["name"], "arguments": call.get("arguments", {})}, ensure_ascii=False)
    return json.dumps({ANSWER: answer or ""}, ensure_ascii=False)


def cue(prompt: str) -> str:
    """The prompt's last line (``Call:``), repeated after each tool result so the next reply follows the pattern."""
    return prompt.rsplit("\n", 1)[-1] if "\n" in prompt else ""


def continue_text(transcript: str, reply: str, results: Sequence[str], cue_text: str) -> str:
    """The completion transcript after a call: the reply, its result, and the cue for the next reply."""
    lines = "".join(f"\nResult: {r}" for r in results)
    return f"{transcript}{lead(transcript)}{reply}{lines}\n{cue_text}"
