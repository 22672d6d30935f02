"""The agent loop of one cell: model → tool calls → tool results → model, until a final answer or ``max_steps``.

Two ways to ask a model for calls, chosen by its capabilities, never by its type:

- **a tools API** (``capabilities.tool_calling``: OpenAI-compatible endpoints, LangChain chat models via
  ``bind_tools``): the tools go with the request as OpenAI-style definitions, the calls come back as calls, the
  results go back as ``tool`` turns;
- **the JSON reply protocol** (:mod:`workbench.tools.protocol`) for models without one (the local base model): the
  tools are written into the prompt and the reply is one JSON object, constrained by a grammar when the model can
  (``structured_output``); with ``output.method: logprob`` the tool is chosen by log-probability first.

Results come from Python tools or the row's ``tool_results``; a step with a call neither can answer (a declared-only
tool without a result in the row, a served client's own tool) ends the loop with its calls — single-step evaluation
of which tool the model picks, or the calls a served client runs itself.
Every step is kept (:func:`run_agent` returns it in ``Generation.trajectory``): the model's output, its calls with
their arguments and results or errors, latency and tokens.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from workbench.models.types import ChatMessage, Generation, PromptInput, Request, messages_from
from workbench.tools import protocol
from workbench.tools.declarations import ToolSet
from workbench.tools.invoke import answerable, check_call, result_text, row_results, run_call


def format_calls(calls: Sequence[Mapping[str, Any]]) -> str:
    """``get_weather({"city": "Paris"})`` — the calls as one line (the output of a row that ended on its calls)."""
    return "; ".join(f"{c.get('name')}({_arguments_text(c.get('arguments'))})" for c in calls)


def _arguments_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments or {}, ensure_ascii=False)


@dataclass
class _Step:
    """One model call of the loop, as the trajectory keeps it."""

    generation: Generation
    calls: list[dict[str, Any]] = field(default_factory=list)
    answer: str | None = None
    error: str | None = None
    latency_ms: float = 0.0
    label_scores: dict[str, float] | None = None

    def record(self, number: int) -> dict[str, Any]:
        g = self.generation
        data: dict[str, Any] = {
            "step": number,
            "output": g.text,
            "calls": self.calls,
            "latency_ms": round(self.latency_ms, 3),
            "prompt_tokens": g.prompt_tokens,
            "completion_tokens": g.completion_tokens,
            "finish_reason": g.finish_reason,
        }
        if self.error:
            data["error"] = self.error
        if self.label_scores:
            data["label_scores"] = {k: round(v, 4) for k, v in self.label_scores.items()}
        return data


class _Driver:
    """How one kind of model is asked for a step and told the results."""

    def __init__(self, cell: Any, toolset: ToolSet, retrier: Any):
        self.cell, self.toolset, self.retrier = cell, toolset, retrier
        self.model = cell.model
        self.told = 0  # steps of an earlier request (a served conversation): call ids go on from them

    async def call(self, request: Request) -> Generation:
        return await self.model.acall(request, retrier=self.retrier)


class _ToolsAPI(_Driver):
    """A model with a tools API: definitions with the request, calls back, results as ``tool`` turns."""

    def __init__(self, cell: Any, toolset: ToolSet, retrier: Any):
        super().__init__(cell, toolset, retrier)
        self.messages: list[ChatMessage] = messages_from(cell.prompt)

    async def step(self, number: int) -> _Step:
        start = time.perf_counter()
        generation = await self.call(Request(list(self.messages), self.cell.params, tools=self.toolset.openai()))
        calls = [
            {"id": c.get("id") or f"call_{number}_{i}", "name": c.get("name"), "arguments": c.get("arguments")}
            for i, c in enumerate(generation.tool_calls)
        ]
        step = _Step(generation, calls, latency_ms=(time.perf_counter() - start) * 1000)
        step.answer = None if calls else generation.text
        return step

    def tell(self, step: _Step) -> None:
        self.messages.append(ChatMessage("assistant", step.generation.text or "", tool_calls=tuple(step.calls)))
        self.messages += [ChatMessage("tool", result_text(c), tool_call_id=c["id"]) for c in step.calls]


class _Protocol(_Driver):
    """A model without a tools API: the JSON reply protocol, under a grammar when the model can."""

    def __init__(self, cell: Any, toolset: ToolSet, retrier: Any):
        super().__init__(cell, toolset, retrier)
        caps = self.model.capabilities
        template = cell.template
        self.grammar = caps.structured_output and template.output.get("constrain", True) is not False
        self.tools, self.may_answer = protocol.allowed(toolset, cell.params.tool_choice)
        placed = "tools" in template.variables
        block = "" if placed else toolset.block() + "\n"
        self.prompt: PromptInput
        if isinstance(cell.prompt, str):
            self.prompt = block + cell.prompt
            self.prefix = block + (cell.prefix or "") if (block or cell.prefix) else None
            self.cue = protocol.cue(cell.prompt)
        else:
            messages = list(cell.prompt)
            if block:
                messages.insert(0, ChatMessage("system", block.strip()))
            self.prompt, self.prefix, self.cue = messages, None, ""
        self.by_logprob = (
            template.output.get("method") == "logprob"
            and caps.logprob_labels
            and isinstance(self.prompt, str)
            and len(self.tools) + int(self.may_answer) > 1
        )

    def _request(self, schema: dict[str, Any] | None, **extra: Any) -> Request:
        prompt = self.prompt
        if schema is not None and isinstance(prompt, str):
            # a grammar starts the reply at "{": the space a reply after "Call:" begins with goes into the prompt
            # (measured: without it the 270M model leaves its few-shot pattern far more often; bench_tools.py)
            prompt += protocol.lead(prompt)
        return Request(prompt, self.cell.params, prefix=self.prefix, json_schema=schema, **extra)

    async def step(self, number: int) -> _Step:
        start = time.perf_counter()
        tools, may_answer, label_scores, spent = self.tools, self.may_answer, None, []
        if self.by_logprob:
            assert isinstance(self.prompt, str)
            labels = protocol.choice_labels(self.prompt, tools, may_answer)
            scored = await self.call(self._request(None, labels=labels))
            spent.append(scored)
            label_scores = dict(scored.label_scores or {})
            best = max(label_scores, key=label_scores.__getitem__)
            tools, may_answer = (
                ([], True) if best == protocol.ANSWER_LABEL else ([t for t in tools if t.name == best], False)
            )
        schema = protocol.reply_schema(tools, may_answer) if self.grammar else None
        generation = await self.call(self._request(schema))
        spent.append(generation)
        merged = _merged(spent, generation)
        call, answer, problem = protocol.parse_reply(generation.text)
        calls = [{"id": f"call_{number}_0", **call}] if call is not None else []
        latency = (time.perf_counter() - start) * 1000
        return _Step(merged, calls, answer, problem, latency, label_scores)

    def tell(self, step: _Step) -> None:
        reply = protocol.reply_text(step.calls[0] if step.calls else None, step.answer)
        results = [result_text(c) for c in step.calls]
        if isinstance(self.prompt, str):
            self.prompt = protocol.continue_text(self.prompt, reply, results, self.cue)
        else:
            turns = [ChatMessage("assistant", reply)]
            turns += [
                ChatMessage("user", f"Result of {c['name']}: {r}") for c, r in zip(step.calls, results, strict=True)
            ]
            self.prompt = [*self.prompt, *turns]


def _merged(spent: list[Generation], last: Generation) -> Generation:
    """One step's generation when it took two calls (log-probability choice, then the arguments)."""
    if len(spent) == 1:
        return last
    return replace(
        last,
        prompt_tokens=_total(g.prompt_tokens for g in spent),
        completion_tokens=_total(g.completion_tokens for g in spent),
        attempts=sum(g.attempts for g in spent),
    )


def _total(values: Any) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


TURNS = "__tool_turns"  # a served client's turns after its question: assistant tool calls and tool results


def driver_for(cell: Any, toolset: ToolSet, retrier: Any) -> _Driver:
    """The tools API when the model has one, else the JSON reply protocol; a conversation that already holds calls
    and their results (``__tool_turns``, sent by a served client) is told to the driver before the first step."""
    driver: _Driver = (
        _ToolsAPI(cell, toolset, retrier) if cell.model.capabilities.tool_calling else _Protocol(cell, toolset, retrier)
    )
    for step in earlier_steps(cell.inputs.get(TURNS) or (), cell.model.spec):
        driver.tell(step)
        driver.told += 1
    return driver


def earlier_steps(turns: Sequence[Mapping[str, Any]], spec: str) -> list[_Step]:
    """Each assistant turn that asked for tools, with the results the tool turns after it carry."""
    steps: list[_Step] = []
    results = {t.get("tool_call_id"): t.get("content") or "" for t in turns if t.get("role") == "tool"}
    for turn in turns:
        if turn.get("role") != "assistant" or not turn.get("tool_calls"):
            continue
        calls = [{**dict(c), "result": results.get(c.get("id"), "")} for c in turn["tool_calls"]]
        steps.append(_Step(Generation(text=turn.get("content") or "", model=spec), calls))
    return steps


async def run_agent(cell: Any, *, retrier: Any = None) -> Generation:
    """Run a cell whose template declares tools; the final answer with every call and step (see the module)."""
    toolset: ToolSet = cell.toolset
    results = row_results(cell.inputs)
    can_loop = toolset.has_python or results is not None
    driver = driver_for(cell, toolset, retrier)
    start = time.perf_counter()
    steps: list[_Step] = []
    finish = "stop"
    while True:
        step = await driver.step(driver.told + len(steps) + 1)
        step.calls = [_checked(c, toolset) for c in step.calls]
        steps.append(step)
        if not step.calls:
            break
        if not can_loop or not all(answerable(c, toolset, results) for c in step.calls):
            finish = "tool_calls"  # nothing here can answer the calls: they are the result (single-step evaluation,
            break  # or a served client's own tools, which the client runs)
        if len(steps) >= toolset.agent.max_steps:
            finish = "max_steps"
            break
        tool_start = time.perf_counter()
        step.calls = list(await asyncio.gather(*(run_call(c, toolset, results) for c in step.calls)))
        step.latency_ms += (time.perf_counter() - tool_start) * 1000
        driver.tell(step)
    return _generation(cell, steps, finish, (time.perf_counter() - start) * 1000, toolset)


def _checked(call: dict[str, Any], toolset: ToolSet) -> dict[str, Any]:
    """The call with ``error`` when it is the model's mistake (an undeclared tool, arguments that break the schema)."""
    problem = check_call(call, toolset)[1]
    return {**call, "error": problem} if problem else call


def _generation(cell: Any, steps: list[_Step], finish: str, latency_ms: float, toolset: ToolSet) -> Generation:
    calls = []
    for step in steps:
        for call in step.calls:
            entry = {"name": call.get("name"), "arguments": call.get("arguments")}
            problem = check_call(call, toolset)[1]  # the model's own mistake: an undeclared tool, bad arguments
            calls.append({**entry, "error": problem} if problem else entry)
    last = steps[-1]
    if last.error and not last.calls:
        finish = "invalid_reply"
    if last.answer is not None and not last.calls:
        text = last.answer
    elif calls:
        text = format_calls([c for s in steps for c in s.calls])
    else:
        text = last.generation.text
    first_scores = next((s.label_scores for s in steps if s.label_scores), None)
    return Generation(
        text=text,
        model=cell.model.spec,
        prompt_tokens=_total(s.generation.prompt_tokens for s in steps),
        completion_tokens=_total(s.generation.completion_tokens for s in steps),
        latency_ms=round(latency_ms, 3),
        finish_reason=finish,
        attempts=sum(s.generation.attempts for s in steps),
        label_scores=first_scores,
        tool_calls=tuple(calls),
        trajectory=tuple(s.record(i + 1) for i, s in enumerate(steps)),
    )
