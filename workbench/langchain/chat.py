"""``WorkbenchChat``: any workbench model as a LangChain chat model.

``WorkbenchChat("local")`` (or ``model="hf:base"``, ``model="openai:NAME@URL"``, any spec ``get_model`` takes) is a
``BaseChatModel``: ``invoke``/``ainvoke``, ``stream``/``astream``, ``batch``, ``stop``, usage metadata and
``with_structured_output`` work as LangChain's standard tests expect (``tests/test_langchain_standard.py``). Every call
goes through the workbench model's one call path (:meth:`workbench.models.base.Model.acall`): its retries (here
``max_retries`` and ``timeout``), errors that say what to do, and redaction (a spec's password never reaches
``response_metadata``). Streaming is real where the model streams: the local model hands over each piece llama.cpp
generates, as it is generated. How messages become a prompt is :mod:`workbench.langchain.messages`'s concern.

``record=True`` writes each call to the store as a result of one run (:mod:`workbench.langchain.recording`); by
default nothing is written — LangChain code that only wants a model gets only a model.

In ``wb.run(..., [WorkbenchChat("local")])`` the run unwraps it to the workbench model (``__workbench_model__``), so
the cache key is the model's own identity (the local weights' sha256), exactly as for ``wb.run(..., ["local"])``. The
run's parameters come from the template and ``params=``; a WorkbenchChat that sets its own is refused there rather
than silently overridden.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Literal, NamedTuple

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from workbench.errors import ConfigError
from workbench.langchain.messages import TRANSCRIPT_STOPS, chat_turns, last_chunk, to_message, to_prompt
from workbench.models import Model, get_model
from workbench.models.base import Stream, SyncStream
from workbench.models.retry import Retrier
from workbench.models.types import Generation, GenerationParams, Request
from workbench.secrets import redact


class _Call(NamedTuple):
    """One call to make: the model, its request, and how its generation becomes an ``AIMessage``."""

    model: Model
    request: Request
    read: Callable[[Generation], AIMessage]


def tool_chunk(message: BaseMessage) -> AIMessageChunk:
    from workbench.langchain.chat_tools import as_chunk

    assert isinstance(message, AIMessage)
    return as_chunk(message)


#: Fields that are sampling or call settings: in a run, the template and the run's options own these.
CALL_SETTINGS = ("temperature", "max_tokens", "stop", "seed", "top_p", "timeout", "max_retries")
PER_CALL = ("temperature", "max_tokens", "seed", "top_p")


class WorkbenchChat(BaseChatModel):
    """A workbench model (the offline local model by default) behind LangChain's chat model interface."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    model: str = Field("local", description="A workbench model spec: local, hf:base, openai:NAME@URL, …")
    temperature: float = 0.0
    max_tokens: int = Field(256, ge=1)
    stop: list[str] | None = None
    seed: int | None = None
    top_p: float | None = None
    timeout: float | None = Field(None, description="Seconds per attempt; None: no limit")
    max_retries: int | None = Field(None, description="Retries of a failed call; None: the model's policy")
    streaming: bool = False
    prompt_format: Literal["auto", "chat", "transcript"] = Field(
        "auto", description="auto: chat turns for a model with a chat template, else a completion transcript"
    )
    api_key: SecretStr | None = Field(None, description="The key of an openai: endpoint (default: OPENAI_API_KEY)")
    record: bool = Field(False, description="Write each call to the store as a result of one run")
    store: str | None = Field(None, description="The store record=True writes to (default: WORKBENCH_STORE)")

    _model: Model | None = PrivateAttr(None)
    _log: Any = PrivateAttr(None)

    def __init__(self, model: str | Model | None = None, /, **kwargs: Any):
        """``WorkbenchChat("local")``, ``WorkbenchChat(model="openai:NAME@URL", temperature=0.7)`` or a Model."""
        given = kwargs.pop("model", None) if model is None else model
        instance = given if isinstance(given, Model) else None
        if instance is not None:
            kwargs["model"] = instance.spec
        elif given is not None:
            kwargs["model"] = given
        super().__init__(**kwargs)
        self._model = instance

    # -- what the model is ----------------------------------------------------------------------------
    @property
    def _llm_type(self) -> str:
        return "workbench"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": redact(self.model), **{name: getattr(self, name) for name in CALL_SETTINGS[:5]}}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="workbench",
            ls_model_name=redact(str(kwargs.get("model") or self.model)) or "",
            ls_model_type="chat",
            ls_temperature=kwargs.get("temperature", self.temperature),
            ls_max_tokens=kwargs.get("max_tokens", self.max_tokens),
        )
        stops = stop or self.stop
        if stops:
            params["ls_stop"] = list(stops)
        return params

    @property
    def workbench_model(self) -> Model:
        """The workbench model behind this chat model (shared per spec, loaded on first use)."""
        if self._model is None:
            self._model = self._resolve(self.model)
        return self._model

    def _resolve(self, spec: str) -> Model:
        """The model for a spec; an ``api_key`` goes to the providers that take one (``openai:``), never into a
        spec, a repr or the store."""
        if self.api_key is not None and spec.strip().startswith("openai:"):
            return get_model(spec, api_key=self.api_key.get_secret_value())
        return get_model(spec)

    def __workbench_model__(self) -> Model:
        """What ``wb.run`` calls instead of this wrapper (see the module docstring)."""
        explicit = [name for name in CALL_SETTINGS if name in self.model_fields_set]
        if explicit:
            values = ", ".join(f"{n}={getattr(self, n)!r}" for n in explicit)
            raise ConfigError(
                f"WorkbenchChat({self.model!r}) sets {values}, but in wb.run the template and the run's options "
                f"decide these. Pass the plain model ({self.model!r} or WorkbenchChat({self.model!r})) and put "
                "them in the template's model.parameters or in wb.run(..., params={...}) (timeout=, retries=)."
            )
        return self.workbench_model

    # -- one call -------------------------------------------------------------------------------------
    def _model_for(self, override: Any) -> Model:
        return self.workbench_model if override is None or override == self.model else self._resolve(str(override))

    def _uses_chat(self, model: Model) -> bool:
        if self.prompt_format == "auto":
            return model.capabilities.chat_template
        return self.prompt_format == "chat"

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> _Call:
        model = self._model_for(kwargs.pop("model", None))
        json_schema = kwargs.pop("json_schema", None)
        tools = kwargs.pop("tools", None)
        tool_options = {name: kwargs.pop(name) for name in ("tool_choice", "parallel_tool_calls") if name in kwargs}
        settings = {name: kwargs.pop(name, getattr(self, name)) for name in PER_CALL}
        if kwargs:
            raise ConfigError(
                f"WorkbenchChat got unknown call options {', '.join(sorted(kwargs))}. It takes: model, "
                f"json_schema (through with_structured_output), tools and tool_choice (through bind_tools), stop, "
                f"{', '.join(PER_CALL)}."
            )
        if tools:
            return self._tool_request(model, messages, stop, settings, tools, tool_options)
        prompt, turn_stops = to_prompt(messages, chat=self._uses_chat(model))
        params = self._params(settings, stop, turn_stops)
        request = model.request(prompt, params, json_schema=json_schema)
        return _Call(model, request, lambda generation: to_message(generation, model.spec))

    def _params(self, settings: dict[str, Any], stop: list[str] | None, extra_stops: tuple[str, ...], **more: Any):
        stops = tuple(dict.fromkeys([*(self.stop or ()), *(stop or ()), *extra_stops]))
        return GenerationParams(**{k: v for k, v in settings.items() if v is not None}, stop=stops, **more)

    def _tool_request(
        self,
        model: Model,
        messages: list[BaseMessage],
        stop: list[str] | None,
        settings: dict[str, Any],
        tools: list[dict[str, Any]],
        options: dict[str, Any],
    ) -> _Call:
        """Bound tools: through the model's tools API where it has one, else the JSON reply protocol (see
        :mod:`workbench.langchain.chat_tools`)."""
        from workbench.langchain.chat_tools import calls_of, protocol_prompt, reply_message, tool_set, with_calls
        from workbench.tools import protocol

        turns = chat_turns(messages)
        if model.capabilities.tool_calling:
            params = self._params(settings, stop, (), **options)
            prompt = turns if self._uses_chat(model) else to_prompt(messages, chat=False)[0]

            def read_api(generation: Generation) -> AIMessage:
                message = to_message(generation, model.spec)
                return with_calls(message, generation.text, calls_of(generation.tool_calls))

            return _Call(model, model.request(prompt, params, tools=tools), read_api)
        toolset = tool_set(tools)
        allowed, may_answer = protocol.allowed(toolset, options.get("tool_choice"))
        text = protocol_prompt(turns, toolset)
        schema = protocol.reply_schema(allowed, may_answer) if model.capabilities.structured_output else None
        if schema is not None:
            text += protocol.lead(text)  # a grammar starts the reply at "{"
        params = self._params(settings, stop, () if schema is not None else TRANSCRIPT_STOPS)

        def read_protocol(generation: Generation) -> AIMessage:
            content, calls = reply_message(generation.text, whole=schema is not None)
            return with_calls(to_message(generation, model.spec), content, calls)

        return _Call(model, model.request(text, params, json_schema=schema), read_protocol)

    def _retrier(self, model: Model) -> Retrier:
        policy = model.retry_policy
        if self.max_retries is not None:
            policy = replace(policy, retries=self.max_retries)
        return Retrier(policy, timeout=self.timeout, spec=model.spec)

    def _logged(self, model: Model, request: Request, generation: Generation | None, error: str | None) -> None:
        if not self.record:
            return
        if self._log is None or self._log.model is not model:
            from workbench.langchain.recording import CallLog

            self._log = CallLog(self.store, model)
        self._log.write(request, generation, error)

    @property
    def recorded_run(self) -> str | None:
        """The id of the run ``record=True`` writes to (``None`` before the first call)."""
        return None if self._log is None else self._log.run_id

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, request, read = self._request(messages, stop, kwargs)
        try:
            generation = model.call(request, retrier=self._retrier(model))
        except Exception as exc:
            self._logged(model, request, None, str(exc))
            raise
        self._logged(model, request, generation, None)
        return ChatResult(generations=[ChatGeneration(message=read(generation))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, request, read = self._request(messages, stop, kwargs)
        try:
            generation = await model.acall(request, retrier=self._retrier(model))
        except Exception as exc:
            self._logged(model, request, None, str(exc))
            raise
        self._logged(model, request, generation, None)
        return ChatResult(generations=[ChatGeneration(message=read(generation))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if kwargs.get("tools"):  # a reply with calls is read whole: one chunk
            message = self._generate(messages, stop, run_manager, **kwargs).generations[0].message
            yield ChatGenerationChunk(message=tool_chunk(message))
            return
        model, request, _ = self._request(messages, stop, kwargs)
        stream = SyncStream(lambda sink: model.acall(request, retrier=self._retrier(model), sink=sink))
        try:
            for piece in stream:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager is not None:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk
        except Exception as exc:
            self._logged(model, request, None, str(exc))
            raise
        finally:
            stream.close()  # the reader left early: stop generating
        assert stream.generation is not None
        self._logged(model, request, stream.generation, None)
        yield ChatGenerationChunk(message=last_chunk(stream.generation, model.spec))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        if kwargs.get("tools"):  # a reply with calls is read whole: one chunk
            result = await self._agenerate(messages, stop, run_manager, **kwargs)
            yield ChatGenerationChunk(message=tool_chunk(result.generations[0].message))
            return
        model, request, _ = self._request(messages, stop, kwargs)
        stream = Stream(lambda sink: model.acall(request, retrier=self._retrier(model), sink=sink))
        pieces = stream.__aiter__()
        try:
            async for piece in pieces:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if run_manager is not None:
                    await run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk
        except Exception as exc:
            self._logged(model, request, None, str(exc))
            raise
        finally:
            await pieces.aclose()  # type: ignore[attr-defined]
        assert stream.generation is not None
        self._logged(model, request, stream.generation, None)
        yield ChatGenerationChunk(message=last_chunk(stream.generation, model.spec))

    # -- tools and structured output ----------------------------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable:
        """The model with ``tools`` (``@tool`` functions, pydantic classes, functions, runnables, OpenAI dicts)
        offered on every call; ``tool_choice``: ``"auto"``, ``"any"``/``"required"``, ``"none"`` or a tool's name."""
        from workbench.langchain.chat_tools import openai_choice, openai_tools

        definitions = openai_tools(tools)
        options: dict[str, Any] = {"tools": definitions}
        choice = openai_choice(tool_choice, definitions)
        if choice is not None:
            options["tool_choice"] = choice
        if parallel_tool_calls is not None:
            options["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(**options, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: str = "json_schema",
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable:
        """Answers constrained to ``schema`` (pydantic class, TypedDict or JSON schema) by the model's grammar,
        parsed into that type (see :mod:`workbench.langchain.structured`)."""
        if kwargs:
            raise ConfigError(f"with_structured_output got unknown options {', '.join(sorted(kwargs))}.")
        from workbench.langchain.structured import structured

        return structured(self, schema, method=method, include_raw=include_raw, strict=strict)
