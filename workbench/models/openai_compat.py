"""Any OpenAI-compatible endpoint through the official ``openai`` client.

Spec syntax: ``openai:MODEL`` (reads ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``) or
``openai:MODEL@BASE_URL``, e.g. ``openai:qwen2.5@http://127.0.0.1:8000/v1``. This covers OpenAI,
vLLM, Ollama, the llama.cpp server, DeepSeek, Qwen/DashScope, GLM and our own ``workbench serve``.

The client's own retries are switched off (``max_retries=0``): the :class:`Model` base class
retries every provider the same way, honouring ``Retry-After``. The API key is read here and
kept only on the client object; it never appears in the spec, logs, the store or errors.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import (
    AuthenticationError,
    ConfigError,
    EndpointUnreachableError,
    ModelError,
    ModelNotFoundError,
    ModelTimeoutError,
    RateLimitError,
    RetryableModelError,
)
from workbench.models.base import (
    Generation,
    GenerationParams,
    Model,
    PromptInput,
    elapsed_ms,
    messages_from,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def redact_url(url: str) -> str:
    """A URL without any ``user:password@`` part, safe for logs and the store."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=host)
    return urlunsplit(parts)


def parse_openai_spec(spec: str) -> tuple[str, str | None]:
    """``openai:MODEL[@BASE_URL]`` -> (model, base_url or None)."""
    body = spec.split(":", 1)[1] if ":" in spec else ""
    model, _, base_url = body.partition("@")
    if not model:
        raise ConfigError(
            f"Model spec {spec!r} names no model. Write openai:MODEL or openai:MODEL@BASE_URL, "
            "e.g. openai:gpt-4o-mini or openai:qwen2.5@http://127.0.0.1:8000/v1"
        )
    return model, base_url or None


def _retry_after(response: Any) -> float | None:
    if response is None:
        return None
    headers = getattr(response, "headers", {}) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except ValueError:
            continue  # an HTTP date: rare for APIs; fall back to exponential backoff
    return None


class OpenAICompatibleModel(Model):
    """A model served behind an OpenAI-compatible HTTP API."""

    provider = "openai"
    can_stream = True

    def __init__(
        self,
        spec: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        concurrency: int = 8,
        timeout: float = 60.0,
        mode: str = "auto",
    ):
        super().__init__(spec)
        self.model_name, spec_url = parse_openai_spec(spec)
        self.base_url = base_url or spec_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.max_concurrency = concurrency
        self.timeout = timeout
        self.mode = mode  # "auto": text prompts use /completions, chat prompts /chat/completions
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY")
        self._sync_client: Any = None
        self._async_clients: dict[int, Any] = {}

    @property
    def is_local_endpoint(self) -> bool:
        return (urlsplit(self.base_url).hostname or "") in LOCAL_HOSTS

    @property
    def display_url(self) -> str:
        return redact_url(self.base_url)

    def _key(self) -> str:
        if self._api_key:
            return self._api_key
        if self.is_local_endpoint:
            return "not-needed"  # local servers accept any key
        raise AuthenticationError(
            f"No API key for {self.display_url}. Set OPENAI_API_KEY in the environment (never in a "
            "notebook cell that gets saved), or pass api_key= to get_model().",
            spec=self.spec,
        )

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "api_key": self._key(),
            "base_url": self.base_url,
            "max_retries": 0,
            "timeout": self.timeout,
        }

    @property
    def client(self) -> Any:
        if self._sync_client is None:
            import openai

            self._sync_client = openai.OpenAI(**self._client_kwargs())
        return self._sync_client

    def _async_client(self) -> Any:
        import asyncio

        import openai

        loop_id = id(asyncio.get_running_loop())
        client = self._async_clients.get(loop_id)
        if client is None:
            client = openai.AsyncOpenAI(**self._client_kwargs())
            self._async_clients = {loop_id: client}  # one loop at a time; drop stale clients
        return client

    async def aclose(self) -> None:
        import asyncio

        client = self._async_clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.close()

    def _use_chat(self, prompt: PromptInput) -> bool:
        if self.mode == "chat":
            return True
        if self.mode == "completion":
            return False
        return not isinstance(prompt, str)

    def _request(self, prompt: PromptInput, params: GenerationParams) -> tuple[str, dict[str, Any]]:
        args: dict[str, Any] = {
            "model": self.model_name,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
        }
        if params.stop:
            args["stop"] = list(params.stop)
        if params.seed is not None:
            args["seed"] = params.seed
        if params.top_p is not None:
            args["top_p"] = params.top_p
        if self._use_chat(prompt):
            args["messages"] = [m.to_dict() for m in messages_from(prompt)]
            return "chat", args
        args["prompt"] = prompt
        return "completion", args

    def _to_generation(self, kind: str, response: Any, start: float) -> Generation:
        try:
            choice = response.choices[0]
            text = choice.message.content if kind == "chat" else choice.text
        except (AttributeError, IndexError, TypeError) as exc:
            raise RetryableModelError(
                f"Malformed response from {self.display_url}: no choices/text in the body.",
                spec=self.spec,
            ) from exc
        usage = getattr(response, "usage", None)
        return Generation(
            text=text or "",
            model=self.spec,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
            latency_ms=elapsed_ms(start),
            finish_reason=getattr(choice, "finish_reason", None),
            raw=response.model_dump() if hasattr(response, "model_dump") else {},
        )

    def _translate(self, exc: Exception) -> ModelError:
        """Map the openai client's exceptions onto ours, with the fix in the message."""
        import openai

        url = self.display_url
        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            return ModelTimeoutError(f"No answer from {url} within {self.timeout:g}s.", spec=self.spec)
        if isinstance(exc, openai.APIConnectionError):
            return EndpointUnreachableError(
                f"Cannot reach {url}. Is the server running? Check the base URL in the spec "
                "(openai:MODEL@http://HOST:PORT/v1) or OPENAI_BASE_URL.",
                spec=self.spec,
            )
        if isinstance(exc, openai.RateLimitError):
            return RateLimitError(
                f"Rate limited by {url} (HTTP 429).",
                spec=self.spec,
                status_code=429,
                retry_after=_retry_after(exc.response),
            )
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return AuthenticationError(
                f"{url} refused the API key (HTTP {exc.status_code}). Check OPENAI_API_KEY for this endpoint.",
                spec=self.spec,
                status_code=exc.status_code,
            )
        if isinstance(exc, openai.NotFoundError):
            return ModelNotFoundError(
                f"{url} does not serve a model named {self.model_name!r} (HTTP 404). "
                f"List the names it knows with: curl {url}/models",
                spec=self.spec,
                status_code=404,
            )
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status >= 500 or status == 408:
                return RetryableModelError(
                    f"Server error from {url} (HTTP {status}).",
                    spec=self.spec,
                    status_code=status,
                    retry_after=_retry_after(exc.response),
                )
            return ModelError(
                f"{url} rejected the request (HTTP {status}): {exc.message}", spec=self.spec, status_code=status
            )
        if isinstance(exc, openai.APIResponseValidationError | ValueError):
            return RetryableModelError(f"Malformed response from {url}: {exc}", spec=self.spec)
        return ModelError(f"Call to {url} failed: {type(exc).__name__}: {exc}", spec=self.spec)

    def _generate(self, prompt: PromptInput, params: GenerationParams) -> Generation:
        kind, args = self._request(prompt, params)
        start = time.perf_counter()
        try:
            client = self.client
            api = client.chat.completions if kind == "chat" else client.completions
            response = api.create(**args)
        except Exception as exc:
            raise self._translate(exc) from exc
        return self._to_generation(kind, response, start)

    async def _agenerate(self, prompt: PromptInput, params: GenerationParams) -> Generation:
        kind, args = self._request(prompt, params)
        start = time.perf_counter()
        try:
            client = self._async_client()
            api = client.chat.completions if kind == "chat" else client.completions
            response = await api.create(**args)
        except Exception as exc:
            raise self._translate(exc) from exc
        return self._to_generation(kind, response, start)

    def _stream(self, prompt: PromptInput, params: GenerationParams) -> Iterator[str]:
        kind, args = self._request(prompt, params)
        try:
            client = self.client
            api = client.chat.completions if kind == "chat" else client.completions
            for chunk in api.create(**args, stream=True):
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                text = (choice.delta.content if kind == "chat" else choice.text) or ""
                if text:
                    yield text
        except Exception as exc:
            raise self._translate(exc) from exc

    def list_models(self) -> list[str]:
        """Names the endpoint serves (GET /models)."""
        try:
            return [m.id for m in self.client.models.list()]
        except Exception as exc:
            raise self._translate(exc) from exc
