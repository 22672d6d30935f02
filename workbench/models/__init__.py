"""Models: one protocol, providers behind one registry.

``get_model("local")``, ``get_model("openai:gpt-4o-mini")``,
``get_model("openai:qwen2.5@http://127.0.0.1:8000/v1")``, ``get_model(langchain_chat_model_or_runnable)``.
Providers are peers: the built-in ones register here the same way a plugin does (``register_provider`` or the
``workbench.providers`` entry-point group). Provider modules are imported only when first used, so
``import workbench`` stays light.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from workbench.errors import ConfigError
from workbench.models.base import (
    Capabilities,
    ChatMessage,
    Generation,
    GenerationParams,
    Model,
    PromptInput,
)
from workbench.models.retry import Retrier, RetryPolicy
from workbench.registry import Registry

ProviderFactory = Callable[..., Model]

PROVIDERS: Registry[ProviderFactory] = Registry(
    "model provider",
    group="workbench.providers",
    examples="Examples: local, openai:gpt-4o-mini, openai:qwen2.5@http://127.0.0.1:8000/v1",
)
PROVIDERS.register("local", "workbench.models.local:LocalModel")
PROVIDERS.register("openai", "workbench.models.openai_compat:OpenAICompatibleModel")
PROVIDERS.register("hf", "workbench.models.hf:HFModel")  # the [finetune] extra: transformers (+ a LoRA adapter)
PROVIDERS.register("mock", "workbench.models.testing:MockModel")
PROVIDERS.register("echo", "workbench.models.testing:EchoModel")

_instances: dict[tuple[str, tuple[tuple[str, Any], ...]], Model] = {}
_lock = threading.Lock()


def register_provider(name: str, factory: ProviderFactory | str) -> None:
    """Register a provider: ``factory(spec, **kwargs)`` returns a :class:`Model`."""
    PROVIDERS.register(name, factory)


def providers() -> list[str]:
    return PROVIDERS.names()


def get_model(spec: str | Model | Any = "local", **kwargs: Any) -> Model:
    """The model for a spec. Instances are shared per (spec, options) so a model loads once."""
    if isinstance(spec, Model):
        return spec
    if not isinstance(spec, str):
        if hasattr(spec, "invoke"):  # a LangChain chat model, LLM or any Runnable
            from workbench.models.langchain import from_langchain

            return from_langchain(spec, **kwargs)
        raise ConfigError(
            f"Cannot use {spec!r} as a model: pass a spec string, a Model, or a LangChain model or Runnable."
        )
    spec = spec.strip()
    factory = PROVIDERS.get(spec.split(":", 1)[0])
    key = (spec, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    with _lock:
        model = _instances.get(key)
        if model is None:
            model = factory(spec, **kwargs)
            if getattr(model, "shareable", True):
                _instances[key] = model
    return model


__all__ = [
    "PROVIDERS",
    "Capabilities",
    "ChatMessage",
    "Generation",
    "GenerationParams",
    "Model",
    "PromptInput",
    "Retrier",
    "RetryPolicy",
    "get_model",
    "providers",
    "register_provider",
]
