"""Prompt Workbench: prompt templates, batch runs on local and API models, scores, bad cases.

``import workbench`` is light: the public names below are imported on first use, so neither
llama.cpp, chromadb, pandas nor the openai client load until something needs them.

    import workbench as wb
    result = wb.run("sentiment_cloze_en", "datasets/sentiment_en.csv", ["local"])
    result.summary()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "PromptTemplate": "workbench.prompts",
    "PromptLibrary": "workbench.prompts",
    "load_prompt": "workbench.prompts",
    "Dataset": "workbench.datasets",
    "load_dataset": "workbench.datasets",
    "get_model": "workbench.models",
    "register_provider": "workbench.models",
    "Model": "workbench.models",
    "Capabilities": "workbench.models",
    "GenerationParams": "workbench.models",
    "ChatMessage": "workbench.models",
    "RetryPolicy": "workbench.models",
    "run": "workbench.pipeline",
    "arun": "workbench.pipeline",
    "RunResult": "workbench.results",
    "Column": "workbench.identity",
    "CellKey": "workbench.identity",
    "Store": "workbench.store",
    "BadCaseTracker": "workbench.badcases",
    "make_scorer": "workbench.scoring",
    "register_scorer": "workbench.scoring",
    "register_parser": "workbench.parsers",
    "Score": "workbench.scoring",
    "summarize": "workbench.reports",
    "export_results": "workbench.reports",
    "compare_runs": "workbench.compare",
    "stability": "workbench.compare",
    "WorkbenchError": "workbench.errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from workbench.badcases import BadCaseTracker
    from workbench.compare import compare_runs, stability
    from workbench.datasets import Dataset, load_dataset
    from workbench.errors import WorkbenchError
    from workbench.identity import CellKey, Column
    from workbench.models import (
        Capabilities,
        ChatMessage,
        GenerationParams,
        Model,
        RetryPolicy,
        get_model,
        register_provider,
    )
    from workbench.parsers import register_parser
    from workbench.pipeline import arun, run
    from workbench.prompts import PromptLibrary, PromptTemplate, load_prompt
    from workbench.reports import export_results, summarize
    from workbench.results import RunResult
    from workbench.scoring import Score, make_scorer, register_scorer
    from workbench.store import Store
