import asyncio

import pytest

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
from workbench.models import (
    ChatMessage,
    GenerationParams,
    RetryPolicy,
    get_model,
    providers,
    register_provider,
)
from workbench.models.openai_compat import OpenAICompatibleModel, parse_openai_spec, redact_url
from workbench.testing.fake_openai import FakeOpenAIServer
from workbench.testing.models import MockModel

FAST_RETRY = RetryPolicy(retries=3, budget=5.0, initial_wait=0.01, max_wait=0.2)


def test_params_forbid_typos_and_validate():
    with pytest.raises(ValueError, match="max_token"):
        GenerationParams(max_token=5)
    with pytest.raises(ValueError):
        GenerationParams(temperature=-1)
    assert GenerationParams().merged(stop="\n").stop == ("\n",)


def test_unknown_provider_lists_known_ones():
    with pytest.raises(ConfigError, match="Known: .*local.*openai"):
        get_model("gpt4")
    with pytest.raises(ConfigError, match="names no model"):
        get_model("openai:")


def test_spec_parsing_and_url_redaction():
    assert parse_openai_spec("openai:qwen2.5@http://127.0.0.1:8000/v1") == ("qwen2.5", "http://127.0.0.1:8000/v1")
    assert parse_openai_spec("openai:gpt-4o-mini") == ("gpt-4o-mini", None)
    assert redact_url("https://user:secret@host:8443/v1") == "https://host:8443/v1"


def test_register_provider_is_a_peer_of_builtins():
    register_provider("shout", lambda spec, **kw: MockModel(spec, default="HELLO"))
    assert "shout" in providers()
    assert get_model("shout:x").generate("hi").text == "HELLO"


def test_retries_honour_retry_after_then_give_up():
    mock = MockModel(default="ok")
    mock.retry_policy = FAST_RETRY
    mock.enqueue(RateLimitError("slow down", retry_after=0.01), RetryableModelError("boom", status_code=500))
    result = mock.generate("x")
    assert result.text == "ok" and result.attempts == 3 and mock.calls == 3

    mock.enqueue(*[RetryableModelError("boom", spec="mock", status_code=503)] * 4)
    with pytest.raises(RetryableModelError, match="gave up after 4 attempts"):
        mock.generate("x")


def test_429s_are_retried_within_the_budget_and_5xx_up_to_the_count():
    """Rate limits keep being retried while the budget lasts (here far more than `retries`); a 5xx gives up
    after `retries` retries; a Retry-After longer than the budget stops at once."""
    mock = MockModel(default="ok")
    mock.retry_policy = RetryPolicy(retries=2, budget=5.0, initial_wait=0.001, max_wait=0.05)
    mock.enqueue(*[RateLimitError("slow down", retry_after=0.001)] * 10)
    assert mock.generate("x").attempts == 11
    mock.enqueue(*[RetryableModelError("boom", status_code=500)] * 3)
    with pytest.raises(RetryableModelError, match="gave up after 3 attempts"):
        mock.generate("x")
    mock.enqueue(RateLimitError("come back in an hour", retry_after=3600))
    mock.retry_policy = RetryPolicy(retries=2, budget=1.0, initial_wait=0.001, max_wait=3600)
    with pytest.raises(RateLimitError, match="gave up after 1 attempts"):
        mock.generate("x")


def test_backoff_has_jitter_and_a_ceiling():
    policy = RetryPolicy(initial_wait=0.5, max_wait=4.0)
    waits = [policy.backoff(n) for n in (1, 2, 3, 4, 5, 10) for _ in range(50)]
    assert max(waits) <= 4.05 and len({round(w, 6) for w in waits}) > 100  # capped, and spread (jittered)


def test_non_retryable_errors_are_not_retried():
    mock = MockModel()
    mock.enqueue(ModelError("bad request"))
    with pytest.raises(ModelError, match="bad request"):
        mock.generate("x")
    assert mock.calls == 1


def _model(server: FakeOpenAIServer, **kw) -> OpenAICompatibleModel:
    model = OpenAICompatibleModel(server.spec(), **kw)
    model.retry_policy = FAST_RETRY
    return model


def test_openai_provider_completion_chat_stream_and_async(fake_server):
    model = _model(fake_server)
    assert model.generate("hello there").text == "echo: hello there"
    chat = model.generate([ChatMessage("system", "be brief"), ChatMessage("user", "hi")])
    assert chat.text.startswith("echo:") and chat.prompt_tokens and chat.latency_ms > 0
    assert "".join(model.stream([ChatMessage("user", "one two three")])) == "echo: one two three"
    assert "".join(model.stream("plain text")) == "echo: plain text"
    assert asyncio.run(model.agenerate("async call")).text == "echo: async call"
    assert model.list_models() == ["fake-model"]


def test_openai_provider_retries_429_and_500():
    faults = {1: ("429", 0.01), 2: "500"}
    with FakeOpenAIServer(faults=lambda prompt, attempt: faults.get(attempt)) as server:
        result = _model(server).generate("flaky")
    assert result.text == "echo: flaky" and result.attempts == 3
    assert [r["fault"] for r in server.requests] == ["429", "500", None]


def test_openai_provider_malformed_body_and_timeout():
    with FakeOpenAIServer(faults=lambda p, a: "malformed" if a == 1 else None) as server:
        assert _model(server).generate("m").attempts == 2
    with FakeOpenAIServer(faults=lambda p, a: "timeout", hang_seconds=2) as server:
        model = _model(server, timeout=0.2)
        model.retry_policy = RetryPolicy(retries=1, initial_wait=0.01)
        with pytest.raises(ModelTimeoutError, match="within 0.2s"):
            model.generate("t")


def test_openai_provider_clear_errors(fake_server, monkeypatch):
    with pytest.raises(ModelNotFoundError, match="does not serve a model named 'gpt-9'.*curl"):
        OpenAICompatibleModel(f"openai:gpt-9@{fake_server.base_url}").generate("x")
    with pytest.raises(EndpointUnreachableError, match="Is the server running"):
        OpenAICompatibleModel("openai:m@http://127.0.0.1:9/v1").generate("x")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(AuthenticationError, match="Set OPENAI_API_KEY"):
        OpenAICompatibleModel("openai:gpt-4o-mini@https://api.example.com/v1").generate("x")
    with FakeOpenAIServer(faults=lambda p, a: "401") as server, pytest.raises(AuthenticationError, match="refused"):
        _model(server, api_key="sk-wrong").generate("x")


def test_api_key_never_in_spec_or_errors(fake_server, monkeypatch):
    secret = "sk-test-" + "x" * 30
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    model = OpenAICompatibleModel(f"openai:gpt-9@{fake_server.base_url}")
    with pytest.raises(ModelNotFoundError) as info:
        model.generate("x")
    assert secret not in str(info.value) and secret not in repr(model) and secret not in model.spec


def test_langchain_chat_model_wrapper():
    pytest.importorskip("langchain_core")
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    lc = FakeListChatModel(responses=["bonjour", "salut"])
    model = get_model(lc)
    assert model.provider == "langchain"
    assert model.generate([ChatMessage("user", "hello in French")]).text == "bonjour"
    assert asyncio.run(model.agenerate("again")).text == "salut"


def test_llama_threads_come_from_the_environment_or_the_cores(monkeypatch):
    import os

    from workbench.models.local import default_threads

    monkeypatch.delenv("WORKBENCH_LLAMA_THREADS", raising=False)
    assert default_threads() == max(1, min(4, os.cpu_count() or 1))
    monkeypatch.setenv("WORKBENCH_LLAMA_THREADS", "3")
    assert default_threads() == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("WORKBENCH_LLAMA_THREADS", bad)
        with pytest.raises(ConfigError, match="WORKBENCH_LLAMA_THREADS"):
            default_threads()
