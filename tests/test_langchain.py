"""LangChain both ways: chat models that honour or refuse the run's parameters, any Runnable as the system under
test (its retrieved documents recorded), and the knowledge base as a LangChain retriever / vector store / embeddings."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from workbench.errors import ConfigError
from workbench.models import get_model
from workbench.models.langchain import LangChainModel, LangChainRunnable
from workbench.pipeline import run
from workbench.prompts import PromptTemplate

T = PromptTemplate.from_string(
    "---\nname: lc\nmodel: {parameters: {temperature: 0.3, max_tokens: 7}}\n"
    "assertions: [{type: contains}]\n---\nQ: {{ question }}"
)


class SettingsEcho(BaseChatModel):
    """A chat model whose answer reports the settings it was called with."""

    temperature: float = 1.0
    max_tokens: int | None = None

    @property
    def _llm_type(self) -> str:
        return "settings-echo"

    def _generate(
        self, messages: list[Any], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        text = f"t={self.temperature} max={self.max_tokens} stop={stop} q={messages[-1].content}"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def test_a_langchain_chat_model_receives_the_runs_parameters(store):
    result = run(
        T,
        [{"question": "why?", "expected": "t=0.3"}],
        [SettingsEcho()],
        store=store,
        progress=False,
        params={"stop": ["\n\n"]},
    )
    (record,) = result.records
    assert record.output == "t=0.3 max=7 stop=['\\n\\n'] q=Q: why?" and record.passed


def test_a_parameter_a_langchain_model_cannot_take_is_refused_not_ignored(store):
    model = get_model(FakeListChatModel(responses=["ok"]))
    assert isinstance(model, LangChainModel)
    result = run(T, [{"question": "q", "expected": "ok"}], [model], store=store, progress=False)
    assert result.records[0].error and "has no setting for" in result.records[0].error
    assert "temperature=0.3" in result.records[0].error and "ignore_params" in result.records[0].error
    lenient = get_model(FakeListChatModel(responses=["ok"]), ignore_params=("temperature", "max_tokens"))
    assert run(T, [{"question": "q", "expected": "ok"}], [lenient], store=store, progress=False).pass_rate == 1.0
    with pytest.raises(ConfigError, match="LangChain chat model or Runnable"):
        get_model(object())


def test_any_runnable_is_a_system_under_test_with_its_documents_recorded(tmp_path, store):
    from workbench.rag import KnowledgeBase
    from workbench.rag.langchain import retriever

    kb = KnowledgeBase("lc-kb", path=tmp_path / "chroma")
    kb.ingest_texts(
        [
            ("lora.md", "LoRA freezes the base weights and trains two small low-rank matrices."),
            ("temp.md", "Temperature 0 always picks the most likely token: greedy decoding."),
        ]
    )

    def answer(inputs: dict) -> str:  # a student's "LLM": quotes the first retrieved sentence
        return inputs["context"][0].page_content

    chain = {"context": retriever(kb, k=1), "question": RunnablePassthrough()} | RunnableLambda(answer)
    model = get_model(chain, input_key="question")
    assert isinstance(model, LangChainRunnable) and model.capabilities.takes_inputs
    rows = [
        {"question": "What does LoRA train?", "expected": "low-rank"},
        {"question": "What happens at temperature zero?", "expected": "greedy"},
    ]
    result = run(T, rows, [model], store=store, progress=False)
    assert result.pass_rate == 1.0 and [r.retrieved[0]["source"] for r in result.records] == ["lora.md", "temp.md"]
    stored = store.results(result.run_id)
    assert stored[0].retrieved[0]["id"] == "lora.md#0", "the documents are stored with the result"
    again = run(T, rows, [model], store=store, progress=False)
    assert again.stats["cached"] == 2 and again.records[0].retrieved == result.records[0].retrieved


def test_the_knowledge_base_as_vectorstore_and_the_embedder_as_embeddings(tmp_path):
    from workbench.rag import KnowledgeBase
    from workbench.rag.langchain import E5Embeddings, KnowledgeBaseVectorStore, vectorstore

    embeddings = E5Embeddings()
    query, documents = embeddings.embed_query("向量检索"), embeddings.embed_documents(["向量数据库", "做饭"])
    assert len(query) == 384 and len(documents) == 2
    similarity = [sum(a * b for a, b in zip(query, d, strict=True)) for d in documents]
    assert similarity[0] > similarity[1], "Chinese text embeds meaningfully"
    store = vectorstore(KnowledgeBase("lc-store", path=tmp_path / "chroma"))
    added = store.add_texts(
        ["Chroma keeps vectors on disk.", "分块大小影响检索。"],
        metadatas=[{"source": "chroma.md"}, {"source": "chunk_zh.md"}],
    )
    assert added == ["chroma.md", "chunk_zh.md"]
    (doc,) = store.similarity_search("怎样分块？", k=1)
    assert doc.metadata["source"] == "chunk_zh.md" and doc.id == "chunk_zh.md#0"
    (scored,) = store.similarity_search_with_score("vectors on disk", k=1)
    assert scored[0].metadata["source"] == "chroma.md" and 0 <= scored[1] < 1
    built = KnowledgeBaseVectorStore.from_texts(
        ["a note about LoRA"], embeddings, name="from-texts", path=tmp_path / "chroma2"
    )
    assert built.as_retriever(search_kwargs={"k": 1}).invoke("LoRA")[0].page_content == "a note about LoRA"


def test_a_langchain_chat_model_calls_tools_through_bind_tools(tmp_path):
    """A user's own LangChain chat model (ChatOpenAI against a local stand-in that answers with tool calls) runs a
    template with tools: the tools and tool_choice go through bind_tools, the tool results go back as ToolMessages,
    and the calls are scored and stored like any model's."""
    from langchain_openai import ChatOpenAI

    from workbench.testing.fake_openai import FakeOpenAIServer

    template = PromptTemplate.from_string(
        "---\nname: lc_tools\nmodel: {parameters: {temperature: 0, tool_choice: auto}}\n"
        "tools:\n  - {name: get_weather, parameters: {type: object, properties: {city: {type: string}}, "
        "required: [city]}}\n"
        "assertions: [{type: tool_calls}]\n---\nuser:\n{{ query }}"
    )

    def responder(body):
        last = body["messages"][-1]
        if last["role"] == "tool":
            return f"It is {last['content']} there."
        return [{"name": "get_weather", "arguments": {"city": "Oslo"}}]

    rows = [
        {
            "query": "Weather in Oslo?",
            "tool_results": {"get_weather": "cold"},
            "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
        }
    ]
    with FakeOpenAIServer(tool_responder=responder) as server:
        chat = ChatOpenAI(model="fake-model", base_url=server.base_url, api_key="unused", max_retries=0)
        assert get_model(chat).capabilities.tool_calling
        record = run(template, rows, [chat], store=str(tmp_path / "s.db"), progress=False).records[0]
        requests = list(server.requests)
    assert record.passed and record.output == "It is cold there." and record.error is None
    assert record.tool_calls == [{"name": "get_weather", "arguments": {"city": "Oslo"}}]
    assert requests[0]["tools"] == ["get_weather"] and requests[0]["tool_choice"] == "auto"
    assert requests[1]["messages"][-1] == {
        "role": "tool",
        "content": "cold",
        "tool_call_id": record.trajectory[0]["calls"][0]["id"],
    }


def test_a_chat_model_without_bind_tools_follows_the_json_protocol(tmp_path):
    chat = FakeListChatModel(responses=['{"name": "get_weather", "arguments": {"city": "Oslo"}}'])
    assert not get_model(chat).capabilities.tool_calling
    template = PromptTemplate.from_string(
        "---\nname: lc_plain\ntools:\n"
        "  - {name: get_weather, parameters: {type: object, properties: {city: {type: string}}}}\n"
        "assertions: [{type: tool_calls}]\n---\nuser:\n{{ query }}"
    )
    rows = [
        {"query": "Weather in Oslo?", "expected_tool_calls": '[{"name": "get_weather", "arguments": {"city": "Oslo"}}]'}
    ]
    record = run(template, rows, [chat], store=str(tmp_path / "s.db"), progress=False).records[0]
    assert record.passed and record.output == 'get_weather({"city": "Oslo"})'
