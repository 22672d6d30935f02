"""LangChain both ways: chat models that honour or refuse the run's parameters, any Runnable as the system under
test (its retrieved documents recorded), and the knowledge base as a LangChain retriever / vector store / embeddings."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.embeddings import FakeEmbeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from workbench.errors import ConfigError, DatasetError
from workbench.langchain import LangChainModel, LangChainRunnable
from workbench.models import get_model
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
    from workbench.langchain import retriever
    from workbench.rag import KnowledgeBase

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
    assert stored[0].retrieved[0]["id"] == "lora.md#0", "the chunks are stored with the result, as a template's are"
    assert stored[0].retrieved[0]["source"] == "lora.md" and 0 <= stored[0].retrieved[0]["distance"] < 1
    again = run(T, rows, [model], store=store, progress=False)
    assert again.stats["cached"] == 2 and again.records[0].retrieved == result.records[0].retrieved


def test_the_embedder_as_langchain_embeddings_handles_chinese():
    from workbench.langchain import E5Embeddings

    embeddings = E5Embeddings()
    query, documents = embeddings.embed_query("向量检索"), embeddings.embed_documents(["向量数据库", "做饭"])
    assert len(query) == 384 and len(documents) == 2
    similarity = [sum(a * b for a, b in zip(query, d, strict=True)) for d in documents]
    assert similarity[0] > similarity[1], "Chinese text embeds meaningfully"


LONG = " ".join(
    f"Sentence {i} of a long note about vector stores and how they keep chunk number {i}." for i in range(12)
)


def test_the_vectorstore_keeps_ids_metadata_and_long_documents_whole(tmp_path):
    from langchain_core.documents import Document

    from workbench.langchain import KnowledgeBaseVectorStore, vectorstore
    from workbench.rag import KnowledgeBase

    kb = KnowledgeBase("lc-store", path=tmp_path / "chroma", chunk_size=200, chunk_overlap=20)
    store = vectorstore(kb)
    assert store.similarity_search("anything", k=2) == [], "an empty store finds nothing (it does not raise)"
    added = store.add_texts(
        ["Chroma keeps vectors on disk.", "分块大小影响检索。", LONG],
        metadatas=[{"source": "chroma.md"}, {"topic": "分块", "n": 2, "tags": ["zh"]}, {"kind": "long"}],
        ids=["chroma", "zh", "long"],
    )
    assert added == ["chroma", "zh", "long"], "ids come back as given, not as chunk ids"
    assert kb.count() > 3, "the long document is several chunks"
    (doc,) = store.similarity_search("怎样分块？", k=1)
    assert doc == Document(
        id="zh", page_content="分块大小影响检索。", metadata={"topic": "分块", "n": 2, "tags": ["zh"]}
    )
    hit = store.similarity_search("Sentence 9 of a long note, chunk number 9", k=1)[0]
    assert hit.id == "long" and hit.metadata == {"kind": "long"} and hit.page_content in LONG != hit.page_content
    (whole,) = store.get_by_ids(["long"])
    assert whole == Document(id="long", page_content=LONG, metadata={"kind": "long"}), "addressable whole by its id"
    chunks = kb.count()
    store.add_texts([LONG], metadatas=[{"kind": "long"}], ids=["long"])
    assert kb.count() == chunks, "adding the same document again changes nothing"
    store.delete(["long", "never-added"])
    assert store.get_by_ids(["long", "zh"]) == [doc] and kb.count() == 2
    with pytest.raises(DatasetError, match="cannot be stored as JSON"):
        store.add_texts(["text"], metadatas=[{"when": object()}], ids=["bad"])
    assert kb.count() == 2, "refused before anything was written"
    (scored,) = store.similarity_search_with_score("vectors on disk", k=1)
    assert scored[0].id == "chroma" and 0 <= scored[1] < 1
    with pytest.raises(ConfigError, match="E5Embeddings"):
        KnowledgeBaseVectorStore.from_texts(["x"], FakeEmbeddings(size=3), path=tmp_path / "c3")
    built = KnowledgeBaseVectorStore.from_texts(["a note about LoRA"], None, ids=["n1"], path=tmp_path / "chroma2")
    assert built.as_retriever(search_kwargs={"k": 1}).invoke("LoRA") == [
        Document(id="n1", page_content="a note about LoRA", metadata={})
    ]


def test_ingested_files_are_documents_too_and_the_retriever_says_which_chunk(tmp_path):
    from workbench.langchain import retriever, vectorstore
    from workbench.rag import KnowledgeBase

    kb = KnowledgeBase("lc-files", path=tmp_path / "chroma", chunk_size=200, chunk_overlap=20)
    (tmp_path / "long.md").write_text(LONG, encoding="utf-8")
    kb.ingest(tmp_path / "long.md")
    (whole,) = vectorstore(kb).get_by_ids(["long.md"])
    assert whole.page_content == LONG and whole.metadata == {"source": "long.md"}
    (found,) = retriever(kb, k=1).invoke("chunk number 11")
    assert found.id == "long.md" and found.metadata["source"] == "long.md"
    assert found.metadata["chunk_id"] == f"long.md#{found.metadata['position']}" and 0 <= found.metadata["distance"] < 1
    assert retriever(kb, k=3).invoke("vector stores", k=1)[0].id == "long.md", "k per call"


def test_missing_extras_are_named(tmp_path):
    """The namespace needs [langchain]; the knowledge base behind the vector store needs [rag], and says so."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['langchain_core'] = None\n"
        "try:\n    import workbench.langchain\nexcept Exception as exc:\n    print(type(exc).__name__, exc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "MissingExtraError" in out and "pip install 'prompt-workbench[langchain]'" in out, out
    code = (
        "import sys; sys.modules['chromadb'] = None\n"
        "from workbench.langchain import vectorstore\n"
        "from workbench.rag import KnowledgeBase\n"
        f"try:\n    vectorstore(KnowledgeBase('x-kb', path={str(tmp_path)!r}))\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "MissingExtraError" in out and "[rag]" in out and "chromadb" in out, out


def test_the_old_import_paths_are_the_namespace_s_objects():
    import workbench.langchain as lc
    from workbench.models.langchain import LangChainModel as OldModel
    from workbench.models.langchain import from_langchain
    from workbench.prompts.langchain import from_langchain as old_from
    from workbench.prompts.langchain import to_langchain
    from workbench.rag.langchain import E5Embeddings, KnowledgeBaseVectorStore, retriever

    assert OldModel is lc.LangChainModel and from_langchain is lc.to_workbench_model
    assert to_langchain is lc.to_langchain_prompt and old_from is lc.from_langchain_prompt
    assert (E5Embeddings, KnowledgeBaseVectorStore, retriever) == (
        lc.E5Embeddings,
        lc.KnowledgeBaseVectorStore,
        lc.retriever,
    )
    assert sorted(dir(lc)) == lc.__all__ and all(getattr(lc, name) is not None for name in lc.__all__)
    with pytest.raises(AttributeError, match="Names: "):
        _ = lc.not_a_thing


def test_a_chains_cache_identity_follows_the_chain_and_the_workbench_model_inside():
    from langchain_core.prompts import PromptTemplate as LCPromptTemplate

    from workbench.langchain import WorkbenchChat

    def identity(text: str, spec: str = "local", **settings: Any) -> dict:
        return get_model(LCPromptTemplate.from_template(text) | WorkbenchChat(spec, **settings)).identity()

    base = identity("Q: {question}\nA:")
    assert base == identity("Q: {question}\nA:"), "the same chain, the same identity (cache hits across processes)"
    assert base["models"] == [get_model("local").identity()] and "model_sha256" in base["models"][0]
    assert identity("Question: {question}\nAnswer:")["chain"] != base["chain"], "another prompt, another identity"
    assert identity("Q: {question}\nA:", max_tokens=5)["chain"] != base["chain"], "other settings too"
    other = identity("Q: {question}\nA:", "openai:m@http://127.0.0.1:9/v1")
    assert other["models"] == [get_model("openai:m@http://127.0.0.1:9/v1").identity()]


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
