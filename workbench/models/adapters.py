"""Objects from other libraries that can stand for a model, each recognised by an explicit adapter: a check
(is this object one of mine?) and a factory (wrap it). LangChain's chat models, LLMs and Runnables are the
built-in one; a check never imports its library — an object of a library that is not loaded cannot be one of
its objects.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Adapter:
    name: str
    accepts: Callable[[Any], bool]
    factory: Callable[..., Any]


def is_langchain_runnable(obj: Any) -> bool:
    runnables = sys.modules.get("langchain_core.runnables")
    return runnables is not None and isinstance(obj, runnables.Runnable)


def _from_langchain(obj: Any, **kwargs: Any) -> Any:
    from workbench.models.langchain import from_langchain

    return from_langchain(obj, **kwargs)


ADAPTERS: list[Adapter] = [Adapter("langchain", is_langchain_runnable, _from_langchain)]


def register_adapter(name: str, accepts: Callable[[Any], bool], factory: Callable[..., Any]) -> None:
    """Let ``get_model(obj)`` wrap objects that ``accepts(obj)`` says are another library's models."""
    ADAPTERS.append(Adapter(name, accepts, factory))


def adapter_for(obj: Any) -> Adapter | None:
    return next((a for a in ADAPTERS if a.accepts(obj)), None)
