"""Models: one protocol, providers behind one registry.

``get_model("local")``, ``get_model("openai:gpt-4o-mini")``,
``get_model("openai:qwen2.5@http://127.0.0.1:8000/v1")`` or ``get_model(langchain_chat_model)``.
Providers are peers: the built-in ones register here the same way a plugin does
(``register_provider`` or the ``workbench.providers`` entry-point group). Provider modules
are imported only when first used, so ``import workbench`` stays light.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from workbench.errors import ConfigError
from workbench.models.base import (
    ChatMessage,
    Generation,
    GenerationParams,
    Model,
    PromptInput,
    RetryPolicy,
)

ProviderFactory = Callable[..., Model]

_BUILTIN: dict[str, str] = {
    "local": "workbench.models.local:LocalModel",
    "openai": "workbench.models.openai_compat:OpenAICompatibleModel",
    "mock": "workbench.models.testing:MockModel",
    "echo": "workbench.models.testing:EchoModel",
    "hf": "workbench.finetune:HFModel",  # the [finetune] extra: transformers (+ a LoRA adapter)
}
_registry: dict[str, ProviderFactory | str] = dict(_BUILTIN)
_instances: dict[tuple[str, tuple[tuple[str, Any], ...]], Model] = {}
_lock = threading.Lock()
_entry_points_loaded = False


def register_provider(name: str, factory: ProviderFactory | str) -> None:
    """Register a provider: ``factory(spec, **kwargs)`` returns a :class:`Model`."""
    _registry[name] = factory


def providers() -> list[str]:
    _load_entry_points()
    return sorted(_registry)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group="workbench.providers"):
        _registry.setdefault(ep.name, ep.value)


def _resolve(factory: ProviderFactory | str) -> ProviderFactory:
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        return getattr(importlib.import_module(module), attr)
    return factory


def get_model(spec: str | Model | Any = "local", **kwargs: Any) -> Model:
    """The model for a spec. Instances are shared per (spec, options) so a model loads once."""
    if isinstance(spec, Model):
        return spec
    if not isinstance(spec, str):
        if hasattr(spec, "invoke"):
            from workbench.models.langchain import LangChainModel

            return LangChainModel(spec, **kwargs)
        raise ConfigError(f"Cannot use {spec!r} as a model: pass a spec string, a Model or a LangChain model.")
    spec = spec.strip()
    name = spec.split(":", 1)[0]
    if name not in _registry:
        _load_entry_points()
    if name not in _registry:
        raise ConfigError(
            f"No model provider {name!r} (from spec {spec!r}). Known: {', '.join(providers())}. "
            "Examples: local, openai:gpt-4o-mini, openai:qwen2.5@http://127.0.0.1:8000/v1"
        )
    key = (spec, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    with _lock:
        model = _instances.get(key)
        if model is None:
            model = _resolve(_registry[name])(spec, **kwargs)
            if name not in ("mock",):  # mocks hold per-test state
                _instances[key] = model
    return model


__all__ = [
    "ChatMessage",
    "Generation",
    "GenerationParams",
    "Model",
    "PromptInput",
    "RetryPolicy",
    "get_model",
    "providers",
    "register_provider",
]
