"""Prompt Workbench: prompt templates, batch runs on local and API models, scores, bad cases.

``import workbench`` is light: the names below are imported on first use, so neither llama.cpp, chromadb,
pandas nor the openai client load until something needs them.

    import workbench as wb
    result = wb.run("sentiment_cloze_en", "datasets/sentiment_en.csv", ["local"])
    result.summary()

The public API (what a notebook needs; README "The Python API" lists it with a line each):

- prompts and data: ``load_prompt``, ``PromptLibrary``, ``PromptTemplate``, ``load_dataset``;
- runs: ``run`` / ``arun`` with ``RunOptions``, giving a ``RunResult`` (summary, matrix, compare, stability);
  ``compare_runs``, ``stability``; ``optimize`` (a new version only if it wins on held-out rows);
  models: ``get_model``, ``Model``, ``register_provider``;
- the store: ``open_store``; bad cases: ``BadCaseTracker``; judges: ``calibrate_judge``, ``compare_calibrations``;
- scoring: ``register_scorer``, ``register_parser``; tools: ``tool`` (``@wb.tool`` registers a Python tool);
  RAG: ``KnowledgeBase``, ``evaluate_retrieval``;
- deploy: ``create_app``, ``ServerThread``; fine-tuning: ``build_sft_set``, ``validate_sft_set``,
  ``export_openai_jsonl``, ``check_openai_jsonl``, ``submit_openai_job``, ``lora_finetune``;
- the Jupyter UI: ``Workbench``; errors: ``WorkbenchError``.

The course notebooks use ``workbench.course`` besides these.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_prompt": "workbench.prompts",
    "PromptLibrary": "workbench.prompts",
    "PromptTemplate": "workbench.prompts",
    "load_dataset": "workbench.datasets",
    "run": "workbench.pipeline",
    "arun": "workbench.pipeline",
    "RunOptions": "workbench.pipeline",
    "RunResult": "workbench.results",
    "optimize": "workbench.optimization",
    "compare_runs": "workbench.compare",
    "stability": "workbench.compare",
    "get_model": "workbench.models",
    "Model": "workbench.models",
    "register_provider": "workbench.models",
    "open_store": "workbench.store",
    "BadCaseTracker": "workbench.badcases",
    "calibrate_judge": "workbench.judge",
    "compare_calibrations": "workbench.judge",
    "register_scorer": "workbench.scoring",
    "register_parser": "workbench.parsers",
    "tool": "workbench.tools",
    "KnowledgeBase": "workbench.rag",
    "evaluate_retrieval": "workbench.rag",
    "create_app": "workbench.serve",
    "ServerThread": "workbench.serve",
    "build_sft_set": "workbench.finetune",
    "validate_sft_set": "workbench.finetune",
    "export_openai_jsonl": "workbench.finetune",
    "check_openai_jsonl": "workbench.finetune",
    "submit_openai_job": "workbench.finetune",
    "lora_finetune": "workbench.finetune",
    "Workbench": "workbench.ui",
    "WorkbenchError": "workbench.errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    try:
        imported = importlib.import_module(module)
    except ImportError as exc:  # an optional part without its extra: say which to install (not a bare import error)
        from workbench.registry import reraise_missing_extra

        reraise_missing_extra(exc, f"workbench.{name}")
        raise
    value = getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from workbench.badcases import BadCaseTracker
    from workbench.compare import compare_runs, stability
    from workbench.datasets import load_dataset
    from workbench.errors import WorkbenchError
    from workbench.finetune import (
        build_sft_set,
        check_openai_jsonl,
        export_openai_jsonl,
        lora_finetune,
        submit_openai_job,
        validate_sft_set,
    )
    from workbench.judge import calibrate_judge, compare_calibrations
    from workbench.models import Model, get_model, register_provider
    from workbench.optimization import optimize
    from workbench.parsers import register_parser
    from workbench.pipeline import RunOptions, arun, run
    from workbench.prompts import PromptLibrary, PromptTemplate, load_prompt
    from workbench.rag import KnowledgeBase, evaluate_retrieval
    from workbench.results import RunResult
    from workbench.scoring import register_scorer
    from workbench.serve import ServerThread, create_app
    from workbench.store import open_store
    from workbench.tools import tool
