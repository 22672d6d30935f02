"""What a tool call returns: a Python tool's result, the row's ``tool_results`` entry for a declared-only tool, or an
error the model is shown. Nothing here raises for the model's mistakes: an undeclared tool, arguments that break the
schema, a tool that raises or runs past its timeout — each is recorded with the call and sent back as the result,
so the run goes on and the scorers judge it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Mapping
from typing import Any

from workbench.errors import DatasetError
from workbench.tools.declarations import Tool, ToolSet

RESULTS_COLUMN = "tool_results"


def row_results(inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The row's ``tool_results`` (JSON: tool name → result), or ``None`` when the row has none. Assumes
    :func:`check_results_column` passed at planning."""
    value = inputs.get(RESULTS_COLUMN)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value)


def check_results_column(rows: Any, toolset: ToolSet, describe_row: Any, where: str) -> None:
    """Every non-empty ``tool_results`` cell is a JSON object keyed by declared tools; else a :class:`DatasetError`
    naming the row (before any model call)."""
    for index, row in enumerate(rows):
        value = row.get(RESULTS_COLUMN)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise DatasetError(
                    f"{describe_row(index)}: column {RESULTS_COLUMN!r} is not JSON ({exc.msg}). Write a JSON object "
                    'mapping a tool name to its result, e.g. {"get_weather": {"temp": 21}}.'
                ) from None
        if not isinstance(value, Mapping):
            raise DatasetError(
                f"{describe_row(index)}: column {RESULTS_COLUMN!r} must be a JSON object mapping a tool name to its "
                f"result, not {type(value).__name__}."
            )
        unknown = [name for name in value if toolset.get(str(name)) is None]
        if unknown:
            raise DatasetError(
                f"{describe_row(index)}: column {RESULTS_COLUMN!r} names tool {unknown[0]!r}, which {where} does not "
                f"declare (declared: {', '.join(toolset.names)})."
            )


def result_text(call: Mapping[str, Any]) -> str:
    """What the model is sent for a call: the result (text as is, anything else as JSON), or ``{"error": …}``."""
    if call.get("error") is not None:
        return json.dumps({"error": call["error"]}, ensure_ascii=False)
    result = call.get("result")
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)


def answerable(call: Mapping[str, Any], toolset: ToolSet, results: Mapping[str, Any] | None) -> bool:
    """Whether the loop can answer a call: a Python tool, a result in the row, or the model's own mistake (an
    undeclared tool, bad arguments: answered with the error)."""
    tool, problem = check_call(call, toolset)
    if tool is None or problem is not None:
        return True
    return tool.is_python or (results is not None and tool.name in results)


def check_call(call: Mapping[str, Any], toolset: ToolSet) -> tuple[Tool | None, str | None]:
    """(the declared tool, why the call is invalid): an undeclared name or arguments that break the schema."""
    tool = toolset.get(str(call.get("name")))
    if tool is None:
        return None, f"called {call.get('name')!r}, which is not a declared tool (declared: {', '.join(toolset.names)})"
    return tool, tool.argument_errors(call.get("arguments"))


async def run_call(call: dict[str, Any], toolset: ToolSet, results: Mapping[str, Any] | None) -> dict[str, Any]:
    """The call with what became of it: ``result`` (and ``source``: python or dataset), or ``error``; ``latency_ms``
    for a Python tool. A declared-only tool whose row has no result for it gets an error result."""
    tool, problem = check_call(call, toolset)
    if problem is not None:
        return {**call, "error": problem}
    assert tool is not None
    if tool.is_python:
        start = time.perf_counter()
        result, error = await _run_python(tool, dict(call.get("arguments") or {}), toolset.agent.tool_timeout)
        latency = round((time.perf_counter() - start) * 1000, 3)
        done = {**call, "source": "python", "latency_ms": latency}
        return {**done, "error": error} if error is not None else {**done, "result": result}
    if results is not None and tool.name in results:
        return {**call, "source": "dataset", "result": results[tool.name]}
    return {**call, "error": f"no result for {tool.name!r} in this row's {RESULTS_COLUMN} column"}


async def _run_python(tool: Tool, arguments: dict[str, Any], timeout: float) -> tuple[Any, str | None]:
    """Call a Python tool with validated arguments, within ``timeout`` seconds (a sync function runs in a thread)."""
    from pydantic import ValidationError

    if tool.arguments_model is not None:
        try:
            validated = tool.arguments_model.model_validate(arguments)
        except ValidationError as exc:
            return None, f"arguments of {tool.name} do not fit its signature: {_first_error(exc)}"
        arguments = {name: getattr(validated, name) for name in type(validated).model_fields}
    function = tool.function
    assert function is not None
    try:
        if inspect.iscoroutinefunction(function):
            result = await asyncio.wait_for(function(**arguments), timeout)
        else:
            result = await asyncio.wait_for(asyncio.to_thread(function, **arguments), timeout)
    except TimeoutError:
        return None, f"{tool.name} ran past its {timeout:g} s timeout (agent.tool_timeout)"
    except Exception as exc:
        return None, f"{tool.name} raised {type(exc).__name__}: {exc}"
    return _jsonable(result), None


def _first_error(exc: Any) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
    return f"{where}: {error.get('msg')}"


def _jsonable(value: Any) -> Any:
    """A result as JSON data (pydantic models dumped, anything else JSON can't hold as its text)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))
    return value
