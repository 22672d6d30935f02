"""Objects from other libraries that can stand for a model, each recognised by an explicit adapter: a check
(is this object one of mine?) and a factory (wrap it). LangChain's chat models, LLMs and Runnables are the
built-in one; a check never imports its library — an object of a library that is not loaded cannot be one of
its objects.

An object that is a front end *over* a workbench model (``workbench.langchain.WorkbenchChat``) says so with a
``__workbench_model__()`` method and is unwrapped before any other adapter looks at it: a run then calls the
workbench model itself, so its cache identity stays the model's own (the local weights' hash), not a wrapper's.
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
    from workbench.langchain.models import from_langchain

    return from_langchain(obj, **kwargs)


def wraps_a_workbench_model(obj: Any) -> bool:
    return callable(getattr(type(obj), "__workbench_model__", None))


def _unwrap(obj: Any, **kwargs: Any) -> Any:
    return obj.__workbench_model__(**kwargs)


ADAPTERS: list[Adapter] = [
    Adapter("workbench", wraps_a_workbench_model, _unwrap),
    Adapter("langchain", is_langchain_runnable, _from_langchain),
]


def register_adapter(name: str, accepts: Callable[[Any], bool], factory: Callable[..., Any]) -> None:
    """Let ``get_model(obj)`` wrap objects that ``accepts(obj)`` says are another library's models."""
    ADAPTERS.append(Adapter(name, accepts, factory))


def adapter_for(obj: Any) -> Adapter | None:
    return next((a for a in ADAPTERS if a.accepts(obj)), None)
