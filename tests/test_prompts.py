import pytest

from workbench.datasets import load_dataset
from workbench.errors import ConfigError, MissingVariablesError, TemplateError
from workbench.models.base import ChatMessage
from workbench.prompts import PromptLibrary, PromptTemplate, diff_templates
from workbench.prompts.langchain import from_langchain, to_langchain

CHAT = """---
name: greet
version: 1
inputs:
  who: {example: Ada}
---
system:
You are terse.

user:
Say hi to {{ who }}.
"""


def test_chat_template_renders_messages_and_discovers_variables():
    t = PromptTemplate.from_string(CHAT)
    assert t.variables == ("who",)
    assert t.api == "chat"
    assert t.render(who="Ada") == [ChatMessage("system", "You are terse."), ChatMessage("user", "Say hi to Ada.")]
    assert t.render_example()[1].content == "Say hi to Ada."


def test_completion_template_without_front_matter():
    t = PromptTemplate.from_string("Review: {{ text }}\nSentiment:", name="plain")
    assert t.api == "completion"
    assert t.render(text="good") == "Review: good\nSentiment:"


def test_few_shot_turns_from_a_loop():
    t = PromptTemplate.from_string(
        "system:\nClassify.\n{% for ex in shots %}\nuser:\n{{ ex.q }}\nassistant:\n{{ ex.a }}\n{% endfor %}\n"
        "user:\n{{ q }}\n"
    )
    messages = t.render(shots=[{"q": "1+1", "a": "2"}, {"q": "2+2", "a": "4"}], q="3+3")
    assert [m.role for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[-1].content == "3+3"


def test_missing_variable_names_file_line_and_variable(tmp_path):
    path = tmp_path / "p.prompty"
    path.write_text(CHAT, encoding="utf-8")
    t = PromptTemplate.load(path)
    with pytest.raises(MissingVariablesError) as info:
        t.render({})
    message = str(info.value)
    assert "who" in message and str(path) in message and ":11:" in message  # body line 4 -> file line 11


def test_unknown_variable_is_caught_at_load_with_line(tmp_path):
    path = tmp_path / "typo.prompty"
    path.write_text("---\nname: typo\ninputs:\n  text: {}\n---\nLine one\nReview: {{ txt }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"typo\.prompty:7: Unknown variable 'txt'"):
        PromptTemplate.load(path)


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.prompty"
    path.write_text("---\nname: broken\ndescription: a: b: c\n---\nhi\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"broken\.prompty:3: Broken YAML"):
        PromptTemplate.load(path)


def test_unclosed_front_matter():
    with pytest.raises(TemplateError, match="no closing"):
        PromptTemplate.from_string("---\nname: x\nhello")


def test_broken_jinja_names_the_line(tmp_path):
    path = tmp_path / "jinja.prompty"
    path.write_text("---\nname: j\n---\nfirst\nsecond {{ text \n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"jinja\.prompty:5: Jinja syntax error"):
        PromptTemplate.load(path)


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ text.__class__ }}",
        "{{ text['__class__'] }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    ],
)
def test_sandbox_refuses_python_internals_at_load(body):
    with pytest.raises(TemplateError, match="not allowed"):
        PromptTemplate.from_string(body, name="evil")


def test_sandbox_blocks_unsafe_calls_at_render():
    t = PromptTemplate.from_string("{{ items.append(1) }}{{ items }}", name="mutate")
    with pytest.raises(TemplateError, match="sandbox"):
        t.render(items=[])


def test_unknown_parser_is_an_error_at_load():
    with pytest.raises(TemplateError, match="x.prompty:3: no parser named 'nope'; known: choice, json, label"):
        PromptTemplate.from_string("---\nname: x\noutput: {parser: nope}\n---\nhi", path="x.prompty")


def test_round_trip_text_is_stable():
    t = PromptTemplate.from_string(CHAT)
    again = PromptTemplate.from_string(t.to_text())
    assert again == t
    assert again.content_hash == t.content_hash


def test_library_versions_are_immutable_and_diffable(tmp_path):
    lib = PromptLibrary(tmp_path)
    v1 = lib.save(PromptTemplate.from_string(CHAT))
    assert v1.version == 1
    assert lib.save(v1).version == 1  # unchanged content is not a new version
    v2 = lib.save(v1.with_changes(body=v1.body.replace("terse", "friendly")))
    assert v2.version == 2
    assert lib.versions("greet") == [1, 2]
    assert "terse" in lib.get("greet", 1).body and "friendly" in lib.get("greet").body
    assert lib.get("greet@v1").version == 1
    text_diff = lib.diff("greet", 1, 2)
    assert "-You are terse." in text_diff and "+You are friendly." in text_diff
    rendered = lib.diff("greet", 1, 2, rendered=True)
    assert "+system: You are friendly." in rendered and "Say hi to Ada." in rendered


def test_library_unknown_names_suggest_close_matches(library):
    with pytest.raises(ConfigError, match="Did you mean: sentiment_cloze_zh"):
        library.get("sentiment_cloze_z")
    with pytest.raises(ConfigError, match="has no version 99"):
        library.get("sentiment_cloze_zh", 99)


def test_diff_of_identical_templates():
    t = PromptTemplate.from_string(CHAT)
    assert diff_templates(t, t) == "(no differences)\n"


def test_every_library_template_renders_and_its_dataset_fits(library, repo):
    names = library.names()
    assert len(names) >= 10
    for template in library.templates():
        assert template.description, template.name
        rendered = template.render_example()
        assert rendered, template.name
        assert template.dataset, f"{template.name} names no dataset"
        data = load_dataset(repo / template.dataset)
        assert len(data) >= 20, template.name
        answers = {"expected", "keywords", "expected_tool_calls"}  # the last: what a template with tools should call
        assert answers & set(data.columns), template.name
        data.check_columns(template.required_variables, template_name=template.name)
        for row in data.rows:
            template.render({**template.retrieval_placeholders(), **row})


def test_library_has_chinese_and_english_sentiment(library):
    zh, en = library.get("sentiment_cloze_zh"), library.get("sentiment_cloze_en")
    assert zh.render(text="我今天考砸了。").endswith("我今天考砸了。我感觉很")
    assert en.output["parser"] == "label" and zh.output["parser"] == "label"


def test_langchain_round_trip():
    pytest.importorskip("langchain_core")
    t = PromptTemplate.from_string(CHAT)
    lc = to_langchain(t)
    messages = lc.format_messages(who="Ada")
    assert messages[0].content == "You are terse." and messages[1].content == "Say hi to Ada."
    back = from_langchain(lc, name="greet2")
    assert back.render(who="Bo")[1] == ChatMessage("user", "Say hi to Bo.")

    from langchain_core.prompts import PromptTemplate as LCPromptTemplate

    plain = from_langchain(LCPromptTemplate.from_template("Translate {text} to {lang}"), name="t")
    assert plain.render(text="hi", lang="fr") == "Translate hi to fr"
    assert to_langchain(plain).format(text="a", lang="b") == "Translate a to b"


def test_yes_no_labels_stay_strings():
    text = "---\nname: yn\noutput: {parser: label, labels: [yes, no]}\nmetadata: {flag: true}\n---\nhi"
    t = PromptTemplate.from_string(text)
    assert t.parser.parse("Yes, it is.") == "yes" and t.metadata["flag"] is True
