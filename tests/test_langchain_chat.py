"""WorkbenchChat beyond LangChain's standard suite (tests/test_langchain_standard.py): how messages become a prompt,
the workbench's retries and redaction behind it, recording only when asked, and wb.run unwrapping it to the model."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, FunctionMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.prompts import PromptTemplate as LCPromptTemplate
from langchain_core.tools import tool
from pydantic import BaseModel

from workbench.errors import ConfigError
from workbench.langchain import WorkbenchChat
from workbench.langchain.messages import TRANSCRIPT_STOPS, to_prompt
from workbench.models import ChatMessage, get_model
from workbench.pipeline import plan_run, run
from workbench.prompts import PromptTemplate
from workbench.store import Store
from workbench.testing.fake_openai import FakeOpenAIServer

T = PromptTemplate.from_string("---\nname: lcq\nassertions: [{type: contains}]\n---\nQ: {{ question }}")


def test_a_lone_message_is_the_completion_prompt_and_a_conversation_a_transcript():
    assert to_prompt([HumanMessage("Q: 2+2?\nA:")], chat=False) == ("Q: 2+2?\nA:", ())
    conversation = [SystemMessage("Be brief."), HumanMessage("hi"), AIMessage("hello"), HumanMessage("and you?")]
    text, stops = to_prompt(conversation, chat=False)
    assert text == "System: Be brief.\n\nUser: hi\n\nAssistant: hello\n\nUser: and you?\n\nAssistant:"
    assert stops == TRANSCRIPT_STOPS
    turns, stops = to_prompt(conversation, chat=True)
    assert turns == [ChatMessage("system", "Be brief."), ChatMessage("user", "hi"), ChatMessage("assistant", "hello"),
                     ChatMessage("user", "and you?")] and stops == ()  # fmt: skip
    called = AIMessage("", tool_calls=[{"name": "add", "args": {"a": 1}, "id": "c1", "type": "tool_call"}])
    turns, _ = to_prompt([HumanMessage("x"), called, ToolMessage("3", tool_call_id="c1")], chat=True)
    assert turns[1] == ChatMessage("assistant", "", tool_calls=({"id": "c1", "name": "add", "arguments": {"a": 1}},))
    assert turns[2] == ChatMessage("tool", "3", tool_call_id="c1")
    with pytest.raises(ConfigError, match="send system, human, AI and tool messages"):
        to_prompt([HumanMessage("x"), FunctionMessage("3", name="f")], chat=False)
    with pytest.raises(ConfigError, match="image content"):
        to_prompt(
            [HumanMessage([{"type": "text", "text": "see"}, {"type": "image", "url": "http://x/a.png"}])], chat=True
        )


def test_the_prompt_format_follows_the_models_chat_template():
    assert get_model("local").capabilities.chat_template is False, "the bundled base model has none"
    assert WorkbenchChat("local")._uses_chat(get_model("local")) is False
    assert WorkbenchChat("local", prompt_format="chat")._uses_chat(get_model("local")) is True
    assert WorkbenchChat("openai:m@http://127.0.0.1:9/v1")._uses_chat(get_model("openai:m@http://127.0.0.1:9/v1"))


def test_over_an_endpoint_it_retries_redacts_and_sends_chat_turns():
    failures = {"n": 0}

    def fault(prompt: str, attempt: int) -> str | None:
        failures["n"] += attempt == 1
        return "500" if attempt == 1 else None

    with FakeOpenAIServer(faults=fault) as server:
        spec = server.spec().replace("http://", "http://alice:hunter2secret@")
        chat = WorkbenchChat(spec, max_retries=2)
        answer = chat.invoke([SystemMessage("Be brief."), HumanMessage("ping")])
        assert answer.content == "echo: ping" and answer.response_metadata["attempts"] == 2, "retried the 500"
        assert "hunter2secret" not in str(answer.response_metadata) and "hunter2secret" not in repr(
            chat.workbench_model
        )
        assert server.requests[-1]["prompt"] == "Be brief.\nping", "an endpoint gets the turns as chat turns"
        assert answer.usage_metadata["total_tokens"] > 0
        pieces = list(chat.stream("pong"))
        assert "".join(p.content for p in pieces) == "echo: pong" and pieces[-1].chunk_position == "last"
        with pytest.raises(Exception, match="HTTP 500"):
            WorkbenchChat(spec, max_retries=0).invoke("fails once more")
    with pytest.raises(ConfigError, match="cannot constrain its decoding"):

        class Answer(BaseModel):
            text: str

        WorkbenchChat(spec).with_structured_output(Answer)


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def test_bind_tools_over_an_endpoint_sends_the_tools_and_reads_the_calls_back():
    def calls(body):
        if body["messages"][-1]["role"] == "tool":
            return "It is sunny in Paris."
        return [{"name": "get_weather", "arguments": {"city": "Paris"}}]

    with FakeOpenAIServer(tool_responder=calls) as server:
        chat = WorkbenchChat(server.spec()).bind_tools([get_weather], tool_choice="any")
        asked = HumanMessage("Weather in Paris?")
        reply = chat.invoke([asked])
        assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("get_weather", {"city": "Paris"})]
        assert server.requests[-1]["tools"] == ["get_weather"]
        streamed = None
        for chunk in chat.stream([asked]):
            streamed = chunk if streamed is None else streamed + chunk
        assert [(c["name"], c["args"]) for c in streamed.tool_calls] == [("get_weather", {"city": "Paris"})]
        result = ToolMessage(get_weather.invoke({"city": "Paris"}), tool_call_id=reply.tool_calls[0]["id"])
        answer = chat.invoke([asked, reply, result])
        assert answer.content == "It is sunny in Paris." and answer.tool_calls == []
        sent = server.requests[-1]["messages"]
        assert sent[-2]["tool_calls"][0]["function"]["name"] == "get_weather" and sent[-1]["role"] == "tool"
    with pytest.raises(ConfigError, match="tool_choice='fly'"):
        WorkbenchChat("local").bind_tools([get_weather], tool_choice="fly")


def test_without_a_tools_api_the_reply_protocol_gives_calls_and_answers():
    from workbench.langchain.chat_tools import protocol_prompt, reply_message, tool_set
    from workbench.langchain.messages import chat_turns

    definition = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    called = AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"}])
    turns = chat_turns([HumanMessage("Weather in Oslo?"), called, ToolMessage("rain", tool_call_id="c1")])
    text = protocol_prompt(turns, tool_set([definition]))
    assert text.startswith("Tools:\n- get_weather(") and text.endswith(
        'User: Weather in Oslo?\n\nAssistant: {"name": "get_weather", "arguments": {"city": "Oslo"}}\n\n'
        "Result: rain\n\nAssistant:"
    )
    content, calls = reply_message('{"name": "get_weather", "arguments": {"city": "Rome"}}')
    assert content == "" and [(c["name"], c["args"], c["type"]) for c in calls] == [
        ("get_weather", {"city": "Rome"}, "tool_call")
    ]
    assert reply_message('{"answer": "It rains."}') == ("It rains.", [])
    assert reply_message("not json") == ("not json", [])


def test_record_writes_each_call_as_one_run_and_nothing_by_default(tmp_path):
    with FakeOpenAIServer() as server:
        quiet = WorkbenchChat(server.spec(), store=str(tmp_path / "quiet.db"))
        quiet.invoke("not recorded")
        assert quiet.recorded_run is None and not (tmp_path / "quiet.db").exists()
        chat = WorkbenchChat(server.spec(), record=True, store=str(tmp_path / "lc.db"), max_tokens=16)
        chat.invoke("first")
        list(chat.stream("second"))
        chat.batch(["third", "fourth"])
    store = Store(str(tmp_path / "lc.db"))
    records = store.results(chat.recorded_run)
    assert sorted(r.output for r in records) == ["echo: first", "echo: fourth", "echo: second", "echo: third"]
    assert {r.prompt for r in records} == {"langchain-chat"} and all(r.completion_tokens for r in records)
    assert records[0].inputs == {"params": {"max_tokens": 16, "stop": [], "temperature": 0.0}}
    assert store.run(chat.recorded_run)["origin"] == "langchain"
    store.close()


def test_wb_run_unwraps_it_to_the_workbench_model_so_the_cache_is_shared(tmp_path):
    local = plan_run(T, [{"question": "q", "expected": "x"}], [WorkbenchChat("local")])
    assert local.config["identities"] == [get_model("local").identity()], "the weights' hash, not a wrapper's"
    assert "model_sha256" in local.config["identities"][0]
    rows = [{"question": "one", "expected": "one"}, {"question": "two", "expected": "two"}]
    with FakeOpenAIServer() as server:
        store = str(tmp_path / "runs.db")
        first = run(T, rows, [WorkbenchChat(server.spec())], store=store, progress=False)
        again = run(T, rows, [server.spec()], store=store, progress=False)
    assert first.pass_rate == 1.0 and again.stats["cached"] == 2, "the plain spec is answered from the same cache"
    with pytest.raises(ConfigError, match=r"sets temperature=0\.7, max_tokens=5.*params="):
        plan_run(T, rows, [WorkbenchChat("local", temperature=0.7, max_tokens=5)])


@pytest.mark.local_model
def test_on_the_local_model_it_streams_tokens_and_sends_what_a_template_sends(tmp_path):
    chat = WorkbenchChat("local", max_tokens=12)
    pieces = [c.content for c in chat.stream("The capital of France is")]
    assert len([p for p in pieces if p]) >= 4, "one chunk per generated piece, not the whole answer at once"
    assert "".join(pieces) == chat.invoke("The capital of France is").content, "greedy: streamed = invoked"
    row = {"question": "What does LoRA train?", "expected": "x"}
    template = PromptTemplate.from_string(  # no fixed leading text: evaluated whole, as a chain's prompt is
        "---\nname: lcq2\nmodel: {parameters: {max_tokens: 12}}\n---\n{{ question }}\nAnswer:"
    )
    via_run = run(template, [row], ["local"], store=str(tmp_path / "r.db"), progress=False).records[0].output
    via_chain = (LCPromptTemplate.from_template("{question}\nAnswer:") | chat).invoke({"question": row["question"]})
    assert via_chain.content == via_run, "a LangChain prompt piped into it sends exactly the template's text"
