"""The course: what the bilingual notebooks use beyond the public API (``import workbench as wb``).

- exercises: ``check(key, value, lang=...)`` prints ✓/✗ with a hint in the notebook's language; ``solution(key)``
  is the worked answer; ``finish(solutions, keys)`` is the notebook's exercise gate;
- gates a degenerate model cannot pass: ``require(name, result)``, ``check_labels``, ``check_rate``, ``GATES``;
- ``record_metrics(**values)`` for the nightly summary; ``project_root()``, ``figure()`` (CJK-ready matplotlib),
  ``free_port()``, ``answer_templates()`` (the RAG lesson's prompts), ``mcnemar_exact``.

The core never imports this package.
"""

from workbench.course.exercise import text
from workbench.course.gates import GATES, GateFailed, GateReport, check_labels, check_rate, require
from workbench.course.gates import check as check_gate
from workbench.course.metrics import record_metrics
from workbench.course.teaching import check, finish, solution
from workbench.paths import project_root
from workbench.plotting import figure
from workbench.rag.answers import answer_templates
from workbench.stats import mcnemar_exact
from workbench.testing.fake_openai import free_port

__all__ = [
    "GATES",
    "GateFailed",
    "GateReport",
    "answer_templates",
    "check",
    "check_gate",
    "check_labels",
    "check_rate",
    "figure",
    "finish",
    "free_port",
    "mcnemar_exact",
    "project_root",
    "record_metrics",
    "require",
    "solution",
    "text",
]
