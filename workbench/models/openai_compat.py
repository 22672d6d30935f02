"""Any OpenAI-compatible endpoint through the official ``openai`` client.

Spec syntax: ``openai:MODEL`` (reads ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``) or ``openai:MODEL@BASE_URL``, e.g.
``openai:qwen2.5@http://127.0.0.1:8000/v1``: OpenAI, vLLM, Ollama, llama.cpp, DeepSeek, Qwen, GLM, ``workbench serve``.

The client's own retries are switched off (``max_retries=0``): retries are the workbench's (see
:mod:`workbench.models.retry`). Before a run, :meth:`OpenAICompatibleModel.preflight` asks the endpoint for its
model list, so an endpoint that is down (or refuses the key) fails fast and clearly; a connection that drops
*during* a run is a retryable error, not "unreachable". The API key is read here and kept only on the client
object; it never appears in the spec, logs, the store or errors.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from workbench.errors import (
    AuthenticationError,
    ConfigError,
    EndpointConnectionError,
    EndpointUnreachableError,
    ModelError,
    ModelNotFoundError,
    ModelTimeoutError,
    RateLimitError,
    RetryableModelError,
)
from workbench.models.base import Model, elapsed_ms
from workbench.models.openai_tools import gather_call_pieces, message_calls, streamed_calls, tool_arguments
from workbench.models.types import (
    Capabilities,
    ChunkSink,
    Generation,
    GenerationParams,
    PromptInput,
    Request,
    StreamClosed,
    messages_from,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
PREFLIGHT_TIMEOUT = 10.0

# US dollars per million tokens (input, output) by model name; extend with register_price().
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "deepseek-chat": (0.27, 1.10),
    "qwen-plus": (0.40, 1.20),
}


def register_price(model_name: str, input_per_million: float, output_per_million: float) -> None:
    """Teach the cost estimate a model's price (US dollars per million input / output tokens)."""
    PRICES[model_name] = (input_per_million, output_per_million)


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
        self._async_clients: dict[int, Any] = {}
        self._reached = False  # the endpoint has answered (or passed preflight): dropped connections are transient
        self._capabilities: Capabilities | None = None

    @property
    def capabilities(self) -> Capabilities:  # type: ignore[override]
        price = PRICES.get(self.model_name)  # read each time: register_price() may teach it later
        if self._capabilities is None or self._capabilities.price != price:
            self._capabilities = Capabilities(streaming=True, batch=True, tool_calling=True, price=price)
        return self._capabilities

    def identity(self) -> dict[str, Any]:
        return {"provider": "openai", "base_url": self.display_url, "model": self.model_name}

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

    def _async_client(self) -> Any:
        import openai

        loop_id = id(asyncio.get_running_loop())
        client = self._async_clients.get(loop_id)
        if client is None:
            client = openai.AsyncOpenAI(**self._client_kwargs())
            self._async_clients = {loop_id: client}  # one loop at a time; drop stale clients
        return client

    async def aclose(self) -> None:
        client = self._async_clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.close()

    def _use_chat(self, prompt: PromptInput) -> bool:
        if self.mode == "chat":
            return True
        if self.mode == "completion":
            return False
        return not isinstance(prompt, str)

    def _request(self, prompt: PromptInput, params: GenerationParams, tools: Any = None) -> tuple[str, dict[str, Any]]:
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
        if tools or self._use_chat(prompt):  # tools exist only in the chat API: a text prompt goes as a user turn
            args.update(tool_arguments(params, tools), messages=[m.to_dict() for m in messages_from(prompt)])
            return "chat", args
        args["prompt"] = prompt
        return "completion", args

    def _to_generation(self, kind: str, body: Any, start: float) -> Generation:
        """The generation in a response body (the JSON of ``/completions`` or ``/chat/completions``)."""
        self._reached = True
        try:
            choice = body["choices"][0]
            text = choice["message"]["content"] if kind == "chat" else choice["text"]
            usage = body.get("usage") or {}
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise RetryableModelError(
                f"Malformed response from {self.display_url}: no choices/text in the body.",
                spec=self.spec,
            ) from exc
        return Generation(
            text=text or "",
            model=self.spec,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            latency_ms=elapsed_ms(start),
            finish_reason=choice.get("finish_reason"),
            tool_calls=message_calls(choice["message"]) if kind == "chat" else (),
        )

    def _translate(self, exc: Exception) -> ModelError:
        """Map the openai client's exceptions onto ours, with the fix in the message."""
        import openai

        url = self.display_url
        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, openai.APIStatusError):
            self._reached = True  # an HTTP answer, even an error, means the endpoint is up
        if isinstance(exc, openai.APITimeoutError):
            return ModelTimeoutError(f"No answer from {url} within {self.timeout:g}s.", spec=self.spec)
        if isinstance(exc, openai.APIConnectionError):
            if not self._reached:
                return self._unreachable()
            cause = exc.__cause__ or exc.__context__
            detail = f" ({type(cause).__name__})" if cause is not None else ""
            return EndpointConnectionError(f"Lost the connection to {url}{detail}.", spec=self.spec)
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

    async def _acall(self, request: Request, sink: ChunkSink | None) -> Generation:
        kind, args = self._request(request.prompt, request.params, request.tools)
        start = time.perf_counter()
        try:
            client = self._async_client()
            if sink is None:
                return self._to_generation(kind, await self._post(client, kind, args), start)
            api = client.chat.completions if kind == "chat" else client.completions
            stream = await api.create(**args, stream=True, stream_options={"include_usage": True})
            return await self._collect(kind, stream, sink, start)
        except StreamClosed:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc

    async def _post(self, client: Any, kind: str, args: dict[str, Any]) -> Any:
        """The request through the official client's own ``post`` (its auth, connection pool and error types),
        taking the body as JSON: a run needs the text, finish reason and usage, not the typed response object the
        client would build (and the parameters are already plain JSON, so nothing needs transforming)."""
        path = "/chat/completions" if kind == "chat" else "/completions"
        return await client.post(path, body=args, cast_to=object)  # the JSON body (a str if it is not JSON)

    async def _collect(self, kind: str, stream: Any, sink: ChunkSink, start: float) -> Generation:
        """Send each piece of a streamed answer to ``sink``; the whole answer with its usage at the end."""
        self._reached = True
        pieces, finish, usage, calls = [], None, None, {}  # calls: streamed tool calls, by their index
        try:
            async for chunk in stream:
                usage = getattr(chunk, "usage", None) or usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                finish = getattr(choice, "finish_reason", None) or finish
                text = (choice.delta.content if kind == "chat" else choice.text) or ""
                gather_call_pieces(calls, choice.delta if kind == "chat" else None)
                if text:
                    pieces.append(text)
                    sink(text)
        finally:
            await stream.close()
        return Generation(
            text="".join(pieces),
            model=self.spec,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
            latency_ms=elapsed_ms(start),
            finish_reason=finish,
            tool_calls=streamed_calls(calls),
        )

    def _unreachable(self) -> EndpointUnreachableError:
        return EndpointUnreachableError(
            f"Cannot reach {self.display_url}. Is the server running? Check the base URL in the spec "
            "(openai:MODEL@http://HOST:PORT/v1) or OPENAI_BASE_URL.",
            spec=self.spec,
        )

    async def preflight(self) -> None:
        """One cheap request before any cell: the endpoint must answer and accept the key.

        GET /models: refused or unresolvable → :class:`EndpointUnreachableError`; 401/403 →
        :class:`AuthenticationError`; a model list that lacks this model → :class:`ModelNotFoundError`. Servers
        without a model list (404) pass: the first real call then tells.
        """
        import openai

        self._key()  # a missing key is an error now, not at the first cell
        # the run's own client (its connection pool is then warm), with a short timeout for this one request
        client = self._async_client().with_options(timeout=PREFLIGHT_TIMEOUT)
        try:
            for attempt in range(3):  # a reset is not "down": try three times, 0.3 s apart
                try:
                    page = await client.models.list()
                    break
                except openai.APIConnectionError:
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.3)
            names = [m.id for m in page.data]
        except openai.APIConnectionError as exc:
            raise self._unreachable() from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise self._translate(exc) from exc
        except (openai.APIStatusError, openai.APIResponseValidationError, ValueError, TypeError, AttributeError):
            self._reached = True  # it answered, just without a usable model list: the first call will tell
            return
        self._reached = True
        if names and self.model_name not in names:
            shown = ", ".join(names[:12]) + (" …" if len(names) > 12 else "")
            raise ModelNotFoundError(
                f"{self.display_url} does not list a model named {self.model_name!r}. It lists: {shown}. "
                "Fix the name in the spec (openai:NAME@URL), or skip this check if the server serves names it does "
                "not list: --no-preflight on the command line, preflight=False in Python.",
                spec=self.spec,
            )

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embeddings of ``texts`` from the endpoint's ``/embeddings`` (in input order)."""
        from workbench.models import bridge

        async def call() -> list[list[float]]:
            try:
                response = await self._async_client().embeddings.create(model=self.model_name, input=texts)
            except Exception as exc:
                raise self._translate(exc) from exc
            return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]

        return bridge.run(call())

    def list_models(self) -> list[str]:
        """Names the endpoint serves (GET /models)."""
        from workbench.models import bridge

        async def names() -> list[str]:
            try:
                return [m.id async for m in self._async_client().models.list()]
            except Exception as exc:
                raise self._translate(exc) from exc

        return bridge.run(names())
