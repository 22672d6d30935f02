"""Moved to :mod:`workbench.langchain.models` (everything LangChain-facing lives in ``workbench.langchain``); this
path keeps working."""

from workbench.langchain.models import (
    OUTPUT_KEYS,
    PARAM_FIELDS,
    LangChainModel,
    LangChainRunnable,
    from_langchain,
)

__all__ = ["OUTPUT_KEYS", "PARAM_FIELDS", "LangChainModel", "LangChainRunnable", "from_langchain"]
