"""One pipeline behind runs, serving and rechecks: plan → execute → evaluate → record.

- :mod:`~workbench.pipeline.options`: :class:`RunOptions`, every option of a run, checked before any call.
- :mod:`~workbench.pipeline.plan`: validate every input and render every cell before any model call.
- :mod:`~workbench.pipeline.stages`: ``execute(cell) -> Generation`` and ``evaluate(cell, generation) -> Verdict``.
- :mod:`~workbench.pipeline.executor`: :class:`CellExecutor`, the life of one cell (cache, limiter, retries,
  execute or stream, evaluate, record) for the runner, the server and the recheck.
- :mod:`~workbench.pipeline.recorder`: create / resume / follow / write / finish runs in the store.
- :mod:`~workbench.pipeline.runner`: ``run`` / ``arun`` compose them.
"""

from workbench.pipeline.executor import CellExecutor
from workbench.pipeline.options import RunOptions
from workbench.pipeline.plan import Cell, RunPlan, plan_request, plan_run
from workbench.pipeline.recorder import Recorder
from workbench.pipeline.runner import arun, run
from workbench.pipeline.stages import Verdict, evaluate, execute

__all__ = [
    "Cell",
    "CellExecutor",
    "Recorder",
    "RunOptions",
    "RunPlan",
    "Verdict",
    "arun",
    "evaluate",
    "execute",
    "plan_request",
    "plan_run",
    "run",
]
