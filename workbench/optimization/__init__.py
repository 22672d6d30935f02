"""Prompt optimisation that cannot fool itself: train → dev → one held-out test.

- :mod:`~workbench.optimization.splits`: three fixed, stratified splits and the minimum held-out size;
- :mod:`~workbench.optimization.ledger`: which rows earlier optimisations spent as held-out (read from the store);
- :mod:`~workbench.optimization.edits`: candidates as readable edits of the template file;
- generators: :mod:`~workbench.optimization.demos` (few-shot demonstrations),
  :mod:`~workbench.optimization.labelwords` (label-word search by log-probability),
  :mod:`~workbench.optimization.proposer` (instruction rewrites, GEPA-style);
- :mod:`~workbench.optimization.budget`: the cost estimate; :mod:`~workbench.optimization.acceptance`: the rule;
- :mod:`~workbench.optimization.optimizer`: :func:`optimize` / :func:`prepare_optimization`, which run the phases as
  ordinary runs; :mod:`~workbench.optimization.report`: what it reports.

    import workbench as wb
    report = wb.optimize("sentiment_zeroshot_en", ["datasets/reviews_en_dev.csv", "datasets/reviews_en_test.csv"],
                         "local", budget=2000)
    report.accepted, report.version, report.heldout
"""

from workbench.optimization.optimizer import Optimization, OptimizationStopped, optimize, prepare_optimization
from workbench.optimization.report import OptimizationReport

__all__ = ["Optimization", "OptimizationReport", "OptimizationStopped", "optimize", "prepare_optimization"]
