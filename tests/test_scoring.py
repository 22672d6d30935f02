import pytest

from workbench.errors import ConfigError
from workbench.prompts import PromptTemplate
from workbench.scoring import Score, ScoreContext, make_scorer, register_scorer, score_row
from workbench.scoring.semantic import Similarity
from workbench.testing.models import MockModel

LABEL_T = PromptTemplate.from_string(
    "---\nname: s\noutput: {parser: label, labels: {positive: [good, 开心], negative: [bad, 难过]}}\n---\n{{ text }}"
)


def ctx(output, row=None, template=None, parsed=None, parse_error=None):
    return ScoreContext(output, parsed, parse_error, row or {}, template)


def score(config, context):
    import asyncio

    return asyncio.run(make_scorer(config).ascore(context))


def test_equals_contains_regex():
    assert score("equals", ctx(" Paris. ", {"expected": "paris"})).passed
    assert not score({"type": "equals", "normalize": False}, ctx("Paris", {"expected": "paris"})).passed
    assert score("contains", ctx("The capital is Paris", {"expected": "paris|lyon"})).passed
    assert score({"type": "contains", "value": "{{ city }}"}, ctx("in Rome", {"city": "Rome"})).passed
    assert not score({"type": "contains", "column": "keywords"}, ctx("nothing", {"keywords": "x|y"})).passed
    assert score({"type": "regex", "pattern": r"^\d+$"}, ctx("42")).passed


def test_label_scorer_uses_the_template_parser():
    good = ctx("开心！", {"expected": "positive"}, LABEL_T, parsed="positive")
    assert score("label", good).passed
    expected_as_word = ctx("bad", {"expected": "难过"}, LABEL_T, parsed="negative")
    assert score("label", expected_as_word).passed
    unparsed = ctx("??", {"expected": "positive"}, LABEL_T, parse_error="no label")
    result = score("label", unparsed)
    assert not result.passed and "unparseable" in result.reason


def test_json_scorers():
    schema = {"type": "object", "required": ["name"]}
    assert score({"type": "json_schema", "schema": schema}, ctx('{"name": "a"}')).passed
    assert not score({"type": "json_schema", "schema": schema}, ctx('{"x": 1}')).passed
    assert not score("json_valid", ctx("nope")).passed
    fields = score(
        {"type": "json_fields", "threshold": 0.5},
        ctx('{"name": "李明", "email": "x"}', {"expected": {"name": "李明", "email": "y"}}),
    )
    assert fields.passed and fields.score == 0.5 and "email" in fields.reason


def test_numeric_tolerance():
    assert score({"type": "numeric", "tolerance": 0.01}, ctx("Answer: 3.004", {"expected": 3})).passed
    assert not score("numeric", ctx("Answer: 4", {"expected": 3})).passed
    assert not score("numeric", ctx("no number", {"expected": 3})).passed


def test_similarity_with_an_embedder():
    def embed(texts):
        return [[1.0, 0.0] if "cat" in t else [0.0, 1.0] for t in texts]

    assert Similarity(embedder=embed, threshold=0.9).score(ctx("a cat", {"expected": "the cat"})).passed
    assert not Similarity(embedder=embed).score(ctx("a dog", {"expected": "the cat"})).passed


def test_llm_judge_with_a_library_judge_prompt(library, monkeypatch, repo):
    monkeypatch.chdir(repo)
    judge = MockModel(default="PASS - same facts")
    result = score(
        {"type": "llm_judge", "model": judge}, ctx("Canberra", {"question": "Capital?", "expected": "Canberra"})
    )
    assert result.passed and "PASS" in result.reason
    prompt, _ = judge.history[0]
    assert "Answer to grade: Canberra" in prompt[-1].content
    judge.enqueue("FAIL: wrong city")
    assert not score({"type": "llm_judge", "model": judge}, ctx("Sydney", {"expected": "Canberra"})).passed


def test_python_function_scorers():
    assert make_scorer(lambda output, row: "please" in output).score(ctx("please")).passed
    assert make_scorer(lambda output, row: (False, "rude")).score(ctx("x")).reason == "rude"
    assert make_scorer(lambda output, row: 0.7).score(ctx("x")).score == 0.7
    assert make_scorer({"type": "python", "function": "json:loads"}) is not None


def test_registry_and_errors():
    class Always(make_scorer("equals").__class__.__mro__[1]):  # a Scorer subclass
        name = "always"

        def score(self, context):
            return Score("always", True, 1.0, "ok")

    register_scorer("always", Always)
    assert make_scorer("always").score(ctx("x")).passed
    with pytest.raises(ConfigError, match="No scorer named 'nope'"):
        make_scorer("nope")
    with pytest.raises(ConfigError, match="Invalid options"):
        make_scorer({"type": "equals", "bogus": 1})


def test_a_scorer_that_raises_gives_no_verdict_it_is_an_error():
    import asyncio

    from workbench.errors import ScorerError

    def broken(output, row):
        raise ZeroDivisionError("oops")

    with pytest.raises(ScorerError, match="could not judge this output: ZeroDivisionError: oops") as caught:
        asyncio.run(score_row([make_scorer(broken)], ctx("x")))
    assert not caught.value.retryable


# -- non-answers: echoes of the prompt and empty outputs never pass a scorer that looks inside the output --------
RAG_T = PromptTemplate.from_string(
    "---\nname: rag\nmodel: {api: chat}\n---\nsystem:\nAnswer the question using only the context. Answer in the "
    "language of the question, in one or two sentences.\n\nuser:\nContext:\n{{ context }}\n\nQuestion: {{ question }}"
)
CONTEXT = (
    "At temperature 0 the model always picks its most likely next token, so its output is deterministic. Higher "
    "temperatures flatten the distribution and sampled answers vary from run to run."
)
QUESTION = "What happens at temperature 0?"
ROW = {"context": CONTEXT, "question": QUESTION, "expected": "deterministic|most likely"}
ECHOES = {
    "the instructions": "Answer the question using only the context. Answer in the language of the question",
    "the context": "Context: " + CONTEXT,
    "everything": RAG_T.render_text(ROW),
}
CONTENT_SCORERS = [
    {"type": "contains"},
    {"type": "regex", "pattern": "determin|likely"},
    {"type": "faithfulness", "threshold": 0.5},
]


@pytest.mark.parametrize("config", CONTENT_SCORERS, ids=lambda c: c["type"])
@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_an_echo_of_the_prompt_is_not_an_answer(config, echo):
    result = score(config, ctx(ECHOES[echo], ROW, RAG_T))
    assert not result.passed and "repeats" in result.reason and "not an answer" in result.reason, result


@pytest.mark.parametrize("config", [*CONTENT_SCORERS, {"type": "numeric", "column": "n"}], ids=lambda c: c["type"])
def test_an_empty_output_is_not_an_answer(config):
    result = score(config, ctx("   ", {**ROW, "n": "0"}, RAG_T))
    assert not result.passed and "empty" in result.reason


def test_a_real_answer_that_quotes_a_sentence_of_the_context_still_passes():
    answer = "At temperature 0 the output is deterministic: the model picks its most likely next token."
    for config in CONTENT_SCORERS:
        result = score(config, ctx(answer, ROW, RAG_T))
        assert result.passed, result
    assert "the answer contains 'deterministic'" in score("contains", ctx(answer, ROW, RAG_T)).reason


def test_an_output_that_only_repeats_the_question_or_the_input_is_an_echo():
    translate = PromptTemplate.from_string("---\nname: tr\n---\nTranslate into French: {{ text }}\nFrench:")
    row = {"text": "The weather is lovely today", "expected": "lovely"}
    repeated = score("contains", ctx("The weather is lovely today.", row, translate))
    assert not repeated.passed and "the 'text' it was given" in repeated.reason
    assert score("contains", ctx("Il fait un temps lovely aujourd'hui", row, translate)).passed
