"""One pipeline behind runs, serving and rechecks: plan → execute → evaluate → record.

- :mod:`~workbench.pipeline.plan`: validate every input and render every cell before any model call.
- :mod:`~workbench.pipeline.stages`: ``execute(cell) -> Generation`` and ``evaluate(cell, generation) -> Verdict``.
- :mod:`~workbench.pipeline.recorder`: create / resume / write / finish runs in the store.
- :mod:`~workbench.pipeline.runner`: ``run`` / ``arun`` compose them with concurrency, retries and a final sweep.
"""

from workbench.pipeline.plan import Cell, RunPlan, plan_request, plan_run
from workbench.pipeline.recorder import Recorder
from workbench.pipeline.runner import arun, run
from workbench.pipeline.stages import Verdict, evaluate, execute

__all__ = ["Cell", "Recorder", "RunPlan", "Verdict", "arun", "evaluate", "execute", "plan_request", "plan_run", "run"]
