"""Tool calls and agents: templates that declare tools, runs that loop, calls recorded step by step.

- :mod:`~workbench.tools.declarations`: a tool (name, description, JSON-Schema parameters, a Python function for a
  Python tool), a template's set of them and its ``agent:`` options;
- :mod:`~workbench.tools.registry`: ``@wb.tool`` registers a typed function (schema from its signature via pydantic);
- :mod:`~workbench.tools.loop`: the agent loop of one cell (a tools API, or the JSON reply protocol of
  :mod:`~workbench.tools.protocol` under a grammar for the local model);
- :mod:`~workbench.tools.invoke`: what a call returns (a Python tool, the row's ``tool_results``, or an error);
- :mod:`~workbench.tools.expected`: a row's ``expected_tool_calls`` and how calls are compared (the scorers in
  :mod:`workbench.scoring.tools` use it).
"""

from workbench.tools.declarations import AgentOptions, Tool, ToolSet
from workbench.tools.registry import register_tool, registered_tool, tool

__all__ = ["AgentOptions", "Tool", "ToolSet", "register_tool", "registered_tool", "tool"]
