"""The real embedded model: llama.cpp + the Gemma 3 270M GGUF from PyPI. Runs in `make test`."""

import subprocess
import sys
import time

import pytest

from workbench.badcases import BadCaseTracker
from workbench.models import ChatMessage, get_model
from workbench.models.local import LocalModel, default_model_path, format_gemma_chat
from workbench.models.openai_compat import OpenAICompatibleModel
from workbench.pipeline import run
from workbench.testing.fake_openai import free_port

pytestmark = pytest.mark.local_model


@pytest.fixture(scope="module")
def local():
    return get_model("local")


def test_local_model_generates_deterministically(local):
    first = local.generate("The capital of France is", max_tokens=8)
    second = local.generate("The capital of France is", max_tokens=8)
    assert first.text.strip() and first.text == second.text
    assert first.prompt_tokens > 0 and first.completion_tokens > 0 and first.latency_ms > 0
    assert get_model("local") is local, "the model loads once per process"


def test_local_model_streams_the_same_text(local):
    text = local.generate("Once upon a time", max_tokens=12).text
    assert "".join(local.stream("Once upon a time", max_tokens=12)) == text


def test_local_chat_uses_gemma_turns(local):
    prompt = format_gemma_chat([ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")])
    assert prompt == "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"
    result = local.generate([ChatMessage("user", "Name a colour.")], max_tokens=8)
    assert "<end_of_turn>" not in result.text


def test_local_context_overflow_is_a_clear_error(local):
    from workbench.errors import ModelError

    with pytest.raises(ModelError, match="context window"):
        local.generate("word " * 3000, max_tokens=8)


def test_label_logprobs_follow_the_prompt(local):
    shots = "我今天收到了录用通知。我感觉很开心。\n我的钱包被偷了。我感觉很难过。\n"
    good = local.label_logprobs(shots + "我中了彩票。我感觉很", ["开心", "难过"])
    bad = local.label_logprobs(shots + "我的狗走丢了。我感觉很", ["开心", "难过"])
    assert good["开心"] > good["难过"]
    assert bad["难过"] - bad["开心"] > good["难过"] - good["开心"]
    word, scores = local.classify(
        shots + "我中了彩票。我感觉很", {"positive": ("开心", "高兴"), "negative": ("难过", "累")}
    )
    assert word in ("开心", "高兴") and scores["positive"] > scores["negative"]


def test_cloze_sentiment_runs_on_the_local_model(repo, store):
    result = run(
        "sentiment_cloze_zh", repo / "datasets/sentiment_zh.csv", ["local"], store=store, progress=False, limit=6
    )
    assert len(result.records) == 6 and result.errors == []
    assert all(r.output for r in result.records)
    assert result.pass_rate is not None and result.pass_rate >= 0.5  # 23/24 measured; 6 rows leave slack
    again = run(
        "sentiment_cloze_zh", repo / "datasets/sentiment_zh.csv", ["local"], store=store, progress=False, limit=6
    )
    assert again.stats["cached"] == 6 and again.stats["called"] == 0


def test_bad_case_loop_on_the_local_model(repo, store, tmp_path):
    from workbench.prompts import PromptLibrary

    lib = PromptLibrary(tmp_path / "lib")
    v1 = lib.save(PromptLibrary(repo / "prompt_library").get("sentiment_cloze_en"))
    weak = lib.save(v1.with_changes(body="Text: {{ text }}\nOverall, it was"))  # zero-shot: fails more
    data = repo / "datasets/sentiment_en.csv"
    first = run(weak, data, ["local"], store=store, progress=False, limit=8, capture_bad_cases=True)
    tracker = BadCaseTracker(store)
    captured = tracker.list(status="open")
    assert len(captured) == sum(1 for r in first.records if r.passed is False) and captured
    tracker.tag(captured[0].id, add=["wrong label"])
    report = tracker.recheck(v1, ["local"], progress=False)
    assert set(report.outcomes.values()) <= {"fixed", "still failing"}
    exported = tracker.export(tmp_path / "regression.csv")
    again = run(v1, exported, ["local"], store=store, progress=False)
    assert len(again.records) == len(captured)


def test_openai_provider_against_llama_cpp_server(tmp_path):
    """The real thing for the HTTP path: llama.cpp's OpenAI-compatible server running the same Gemma."""
    pytest.importorskip("starlette_context", reason="the [serve] extra provides llama_cpp.server's deps")
    port = free_port()
    log = (tmp_path / "server.log").open("w")  # a pipe nobody reads would fill up and block the server
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(default_model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "1024",
            "--model_alias",
            "gemma-270m",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        model = OpenAICompatibleModel(f"openai:gemma-270m@http://127.0.0.1:{port}/v1", timeout=60)
        deadline = time.time() + 60
        while True:
            try:
                assert model.list_models() == ["gemma-270m"]
                break
            except Exception:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        result = model.generate("The capital of France is", max_tokens=8)
        assert result.text.strip() and result.completion_tokens
        streamed = "".join(model.stream("The capital of France is", max_tokens=8))
        assert streamed.strip()
        run_result = run(
            "sentiment_cloze_en",
            __import__("pathlib").Path(__file__).parent.parent / "datasets/sentiment_en.csv",
            [model],
            store=str(tmp_path / "s.db"),
            progress=False,
            limit=3,
        )
        assert run_result.errors == [] and all(r.output for r in run_result.records)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_local_model_override_path_must_exist(monkeypatch):
    from workbench.errors import ConfigError

    default_model_path.cache_clear()
    monkeypatch.setenv("WORKBENCH_LOCAL_MODEL", "/nonexistent/model.gguf")
    try:
        with pytest.raises(ConfigError, match="not a file"):
            _ = LocalModel("local:custom").model_path
    finally:
        monkeypatch.delenv("WORKBENCH_LOCAL_MODEL")
        default_model_path.cache_clear()
