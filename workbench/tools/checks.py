"""Checks a run with tools makes when it plans, before any model call: every model can be asked for calls, the run's
tool parameters name declared tools, the run is not a batch job (a loop needs each answer before its next call), and
the rows' ``tool_results`` are JSON objects keyed by declared tools."""

from __future__ import annotations

from typing import Any

from workbench.errors import ConfigError
from workbench.tools.declarations import ToolSet, tool_choice_problem
from workbench.tools.invoke import check_results_column


def check_run(template: Any, toolset: ToolSet, models: list[Any], data: Any, options: Any) -> None:
    where = f"template {template.ref} ({template.path or 'in memory'})"
    for model in models:
        if model.capabilities.takes_inputs:
            raise ConfigError(
                f"{model.spec} is a chain that takes the row's inputs, not a prompt: it cannot be given the tools "
                f"{where} declares. Run the template on a chat model or the local model instead."
            )
    if options.batch:
        raise ConfigError(
            f"{where} declares tools: its cells loop (each call needs the answer before it) and cannot be sent as a "
            "batch job. Run it without --batch (batch=False)."
        )
    choice = dict(options.params or {}).get("tool_choice")
    if choice is not None:
        problem = tool_choice_problem(choice, toolset.names)
        if problem:
            raise ConfigError(f"The run's params: {problem}.")
    check_results_column(data.rows, toolset, data.describe_row, where)  # rows without the column pass
    import jsonschema  # noqa: F401 - its first import takes seconds: pay it now, not on the event loop mid-run
