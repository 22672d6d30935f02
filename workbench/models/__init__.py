"""Models: one protocol, providers behind one registry.

``get_model("local")``, ``get_model("openai:gpt-4o-mini")``,
``get_model("openai:qwen2.5@http://127.0.0.1:8000/v1")``, ``get_model(langchain_chat_model_or_runnable)``.
Providers are peers: the built-in ones register here the same way a plugin does (``register_provider`` or the
``workbench.providers`` entry-point group). Provider modules are imported only when first used, so
``import workbench`` stays light.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from workbench.errors import ConfigError
from workbench.models.adapters import adapter_for, register_adapter
from workbench.models.base import Model, Stream
from workbench.models.retry import Retrier, RetryPolicy
from workbench.models.types import (
    Capabilities,
    ChatMessage,
    ChunkSink,
    Generation,
    GenerationParams,
    PromptInput,
    Request,
)
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

#: Environment variables that change which model a spec means (its endpoint, key or weights file).
ENVIRONMENT = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "WORKBENCH_LOCAL_MODEL")
_instances: dict[tuple[Any, ...], Model] = {}
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
        adapter = adapter_for(spec)
        if adapter is not None:
            return adapter.factory(spec, **kwargs)
        raise ConfigError(
            f"Cannot use {type(spec).__name__} {spec!r:.60} as a model: pass a spec string (local, "
            "openai:MODEL@URL), a Model, or a LangChain chat model or Runnable."
        )
    spec = spec.strip()
    factory = PROVIDERS.get(spec.split(":", 1)[0])
    environment = tuple(os.environ.get(name) for name in ENVIRONMENT)  # a changed endpoint or GGUF: a new model
    key = (spec, tuple(sorted((k, repr(v)) for k, v in kwargs.items())), environment)
    with _lock:
        model = _instances.get(key)
        if model is None:
            model = factory(spec, **kwargs)
            if model.shareable:
                _instances[key] = model
    return model


__all__ = [
    "PROVIDERS",
    "Capabilities",
    "ChatMessage",
    "ChunkSink",
    "Generation",
    "GenerationParams",
    "Model",
    "PromptInput",
    "Request",
    "Retrier",
    "RetryPolicy",
    "Stream",
    "get_model",
    "providers",
    "register_adapter",
    "register_provider",
]
