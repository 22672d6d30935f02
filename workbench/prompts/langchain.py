"""Moved to :mod:`workbench.langchain.prompts` (everything LangChain-facing lives in ``workbench.langchain``); this
path keeps working."""

from workbench.langchain.prompts import from_langchain, to_langchain

__all__ = ["from_langchain", "to_langchain"]
