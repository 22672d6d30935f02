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


# -- each check's verdict, score and reason, worked out by hand ------------------------------------------------------
def test_equals_compares_the_parsed_answer_or_the_stripped_output():
    assert score("equals", ctx(" Paris. ", {"expected": "paris"})) == Score("equals", True, 1.0, "'Paris.' == 'paris'")
    assert score("equals", ctx("Rome", {"expected": "paris"})) == Score("equals", False, 0.0, "'Rome' != 'paris'")
    assert score("equals", ctx("raw", {"expected": "B"}, parsed="B")).passed, "the parsed answer is compared"
    assert not score("equals", ctx("raw", {"expected": "B"}, parsed="B", parse_error="bad")).passed
    assert score({"type": "equals", "normalize": False}, ctx(" x ", {"expected": "x"})).passed
    assert not score({"type": "equals", "normalize": False}, ctx("1", {"expected": 1})).passed
    long = "y" * 50
    assert score("equals", ctx(long, {"expected": long})).reason == f"{'y' * 40!r} == {'y' * 40!r}"
    assert score({"type": "equals", "value": "{{ a }}!"}, ctx("hi", {"a": "HI"})).passed


def test_the_expected_answer_comes_from_the_value_or_the_named_column():
    from workbench.scoring.checks import Equals

    assert Equals().required_columns() == ("expected",) and Equals(column="gold").required_columns() == ("gold",)
    assert Equals(value="x").required_columns() == ()
    assert score({"type": "equals", "column": "gold"}, ctx("x", {"gold": "X", "expected": "y"})).passed
    assert score({"type": "equals", "value": 0}, ctx("0", {"expected": "y"})).passed, "a value of 0 is a value"
    with pytest.raises(ConfigError) as error:
        score({"type": "equals", "column": "gold"}, ctx("x", {"expected": "x"}))
    assert str(error.value) == (
        "The scorer needs the expected answer in column 'gold', which the dataset lacks. Add the column, or give "
        "`value:` in the assertion."
    )


def test_contains_looks_for_any_needle_and_skips_empty_ones():
    hit = score("contains", ctx("The capital is Paris", {"expected": "rome| paris "}))
    assert hit == Score("contains", True, 1.0, "the answer contains 'paris'")
    assert score("contains", ctx("no", {"expected": ["x", "o"]})) == Score(
        "contains", True, 1.0, "the answer contains 'o'"
    )
    assert score("contains", ctx("nothing", {"expected": "x|y"})) == Score(
        "contains", False, 0.0, "none of ['x', 'y'] in the output"
    )
    assert not score("contains", ctx("nothing", {"expected": "| "})).passed, "an empty needle is in every text"
    assert not score({"type": "contains", "case_sensitive": True}, ctx("Paris", {"expected": "paris"})).passed
    assert score({"type": "contains", "case_sensitive": True}, ctx("Paris", {"expected": "Paris"})).passed
    assert score("contains", ctx("  ", {"expected": "x"})) == Score(
        "contains", False, 0.0, "the output is empty: there is no answer to check"
    )


def test_regex_reports_its_pattern_filled_from_the_row():
    assert score({"type": "regex", "pattern": r"^\d+$"}, ctx("42")) == Score(
        "regex", True, 1.0, "pattern '^\\\\d+$' matched"
    )
    assert score({"type": "regex", "pattern": "{{ w }}$"}, ctx("say hi", {"w": "hi"})).reason == "pattern 'hi$' matched"
    assert score({"type": "regex", "pattern": "z"}, ctx("abc")) == Score("regex", False, 0.0, "pattern 'z' not found")
    assert not score({"type": "regex", "pattern": ".*"}, ctx("")).passed, "an empty output is no answer"


def test_label_compares_labels_with_or_without_a_label_parser():
    assert score("label", ctx("x", {"expected": "Positive!"}, parsed="positive")) == Score(
        "label", True, 1.0, "label 'positive', expected 'positive'"
    )
    assert score("label", ctx("x", {"expected": "good"}, LABEL_T, parsed="negative")) == Score(
        "label", False, 0.0, "label 'negative', expected 'positive'"
    )
    assert score("label", ctx("??", {"expected": "good"}, LABEL_T, parse_error="no label")) == Score(
        "label", False, 0.0, "unparseable: no label"
    )


def test_json_checks_give_their_reasons():
    assert score("json_valid", ctx('so {"a": 1}')) == Score("json_valid", True, 1.0, "valid JSON")
    assert score("json_valid", ctx("nope")) == Score(
        "json_valid", False, 0.0, "No JSON object found in the output: 'nope'"
    )
    schema = {"type": "object", "required": ["name"]}
    assert score({"type": "json_schema", "schema": schema}, ctx('{"name": 1}')).reason == "matches the schema"
    assert score({"type": "json_schema", "schema": schema}, ctx("{}")) == Score(
        "json_schema", False, 0.0, "schema: 'name' is a required property"
    )
    assert score({"type": "json_schema", "schema": schema}, ctx("none")).reason.startswith("No JSON object found")
    with_schema = PromptTemplate.from_string(
        "---\nname: j\noutput: {parser: json, schema: {type: object, required: [id]}}\n---\n{{ text }}"
    )
    assert not score("json_schema", ctx('{"x": 1}', template=with_schema)).passed
    assert score("json_schema", ctx('{"id": 1}', template=with_schema)).passed
    for template in (None, LABEL_T):
        with pytest.raises(ConfigError) as error:
            score("json_schema", ctx("{}", template=template))
        assert str(error.value) == "json_schema scorer needs `schema:` (or a json parser with a schema)."


def test_json_fields_scores_the_share_of_fields_reproduced():
    expected = {"expected": '{"name": "Li Ming", "email": "li@x.org"}'}  # JSON text is read as JSON
    assert score("json_fields", ctx('{"name": "li ming", "email": "li@x.org"}', expected)) == Score(
        "json_fields", True, 1.0, "2/2 fields right"
    )
    half = score("json_fields", ctx('{"name": "Li Ming"}', expected))
    assert half == Score("json_fields", False, 0.5, "1/2 fields right; wrong: email")
    assert score({"type": "json_fields", "threshold": 0.5}, ctx('{"name": "Li Ming"}', expected)).passed
    assert score("json_fields", ctx("x", expected, parsed={"name": "Li Ming", "email": "li@x.org"})).passed
    assert score("json_fields", ctx("[1]", expected)) == Score("json_fields", False, 0.0, "output is not a JSON object")
    assert score("json_fields", ctx("none", expected)) == Score(
        "json_fields", False, 0.0, "No JSON object found in the output: 'none'"
    )
    nothing = score({"type": "json_fields", "threshold": 0.0}, ctx("{}", {"expected": {}}))
    assert nothing == Score("json_fields", True, 0.0, "0/0 fields right")


def test_numeric_takes_the_first_number_within_an_absolute_or_relative_tolerance():
    assert score({"type": "numeric", "tolerance": 0.01}, ctx("Answer: 3.004", {"expected": 3})) == Score(
        "numeric", True, 1.0, "3.004 vs 3 (tolerance 0.01)"
    )
    assert score({"type": "numeric", "tolerance": 0.5}, ctx("3.5", {"expected": "3"})).passed, "the limit is allowed"
    assert not score({"type": "numeric", "tolerance": 0.5}, ctx("3.51", {"expected": 3})).passed
    relative = {"type": "numeric", "tolerance": 0.1, "relative": True}
    assert score(relative, ctx("about 215", {"expected": -200})).passed is False
    assert score(relative, ctx("about -215", {"expected": -200})) == Score(
        "numeric", True, 1.0, "-215 vs -200 (tolerance 20)"
    )
    assert score("numeric", ctx("1,234 people", {"expected": 1234})).passed
    assert score("numeric", ctx("text", {"expected": 7}, parsed=7)).passed, "the parsed answer is read first"
    assert score("numeric", ctx("none at all", {"expected": 1})) == Score(
        "numeric", False, 0.0, "no number in 'none at all'"
    )
    assert score("numeric", ctx("Answer: 7", {"expected": 7})).reason == "7 vs 7 (tolerance 1e-06)"


# -- what an echo is, at its thresholds -------------------------------------------------------------------------------
def test_an_echo_of_the_templates_own_words_by_length():
    from workbench.scoring.echo import Echo, find_echo

    instructions = "Answer the question using only the context."  # 43 characters: 30 copied make an echo
    assert find_echo("Sure. answer   the QUESTION using only the context", [instructions]) == Echo(
        "the prompt's own instructions", 42 / 43, "answer the question using only the cont…"
    )  # all but the full stop
    assert find_echo("ok: answer the question using onl", [instructions]) is None  # 29 characters copied
    assert find_echo("ok: answer the question using only", [instructions]) is not None  # 30
    short = "Reply in one short word"  # 23 characters: 80% of it (18) is enough
    assert find_echo("xx: in one short word", [short]) is not None  # " in one short word": 18 copied
    assert find_echo("xx: in one short wor", [short]) is None  # 17
    assert find_echo("Question: what is it", ["Question: "]) is None, "markers shorter than 20 are not checked alone"
    assert find_echo("too short", ["too short"]) is None, "fewer than 12 characters: never an echo"


def test_an_echo_of_a_value_the_row_gave():
    from workbench.scoring.echo import find_echo

    context = "Temperature zero picks the most likely token. Higher values flatten the odds."  # 77 characters
    half = context[:48]  # 48 of 77 = 62% ≥ 60%
    echo = find_echo(f"Well, {half} and so on", values={"context": context, "n": 3})
    assert (echo.source, round(echo.share, 4), echo.sample) == (
        "the 'context' it was given",
        round(48 / 77, 4),
        "temperature zero picks the most likely …",
    )
    assert find_echo(f"Well, {context[:46]} and so on", values={"context": context}) is None  # 46 of 77: 59.7%
    question = "What does temperature zero do?"  # short: an echo only when it is most of the output
    assert find_echo(question + " It", values={"question": question}) is not None
    assert find_echo(question + " It is deterministic.", values={"question": question}) is None
    assert find_echo(question[:26] + "? x", values={"question": question}) is None  # 26 of 30: under 90%
    assert find_echo(question[:27] + " x", values={"question": question}) is not None  # 27 of 30: 90%
    assert find_echo("what does it do today", values={"q": "what does"}) is None, "values under 12 are not checked"


def test_an_echos_reason_names_what_was_repeated():
    from workbench.scoring.echo import Echo, _clip, normal

    assert Echo("the 'context' it was given", 0.625, "abc").reason() == (
        "the output repeats the 'context' it was given (62% of it, e.g. 'abc'): an echo of the prompt is not an answer"
    )
    assert _clip("x" * 40) == "x" * 40 and _clip("x" * 41) == "x" * 39 + "…" and _clip("abcd", width=3) == "ab…"
    assert normal("  A \n\t B  ") == "a b"


def test_json_fields_counts_a_missing_field_as_wrong_whatever_it_expects():
    for value in ("None", "XXXX"):
        result = score("json_fields", ctx('{"other": 1}', {"expected": {"name": value, "id": "7"}}))
        assert result.score == 0.0 and result.reason == "0/2 fields right; wrong: id, name", value
    assert score("json_fields", ctx('{"id": 7}', {"expected": {"id": "7"}})) == Score(
        "json_fields", True, 1.0, "1/1 fields right"
    )
    assert score({"type": "json_schema", "schema": {"type": "object"}}, ctx("none")) == Score(
        "json_schema", False, 0.0, "No JSON object found in the output: 'none'"
    )
    assert score("numeric", ctx("n" * 50, {"expected": 1})).reason == f"no number in {'n' * 40!r}"


def test_an_echo_at_the_edges_of_its_thresholds():
    from workbench.scoring.echo import find_echo

    twelve = "abcdefghijkl"  # as long as the shortest copy that counts
    echo = find_echo(twelve, values={"q": twelve})
    assert (echo.source, echo.share, echo.sample) == ("the 'q' it was given", 1.0, twelve)
    value = "what does a temperature of zero do"  # 34 characters
    assert find_echo(value + " zzzzzzz", values={"q": value}).share == 1.0  # 34 of the 42 said: 81%
    exact = "what does temperature do"  # 24 characters, said in an output of 30: exactly 80%
    assert find_echo(exact + " zzzzz", values={"q": exact}) is not None
    long = "At temperature zero a model always picks its likeliest token"  # 60 characters: 60% copied is an echo
    assert find_echo("xx " + long[:36] + " " + "y" * 40, values={"context": long}) is not None  # exactly 60%
    assert find_echo("xx " + long[:35] + " " + "y" * 40, values={"context": long}) is None
    segment = "Reply in one word ok"  # exactly 20 characters: checked; 16 of them copied is 80%
    assert find_echo("xx: " + segment[:16] + " zz", [segment]) is not None
    assert find_echo("xx: " + segment[:16] + " zz", ["Question: ", segment]) is not None, "a short marker is skipped"
    context = "Temperature zero picks the most likely token. Higher values flatten the odds."
    assert find_echo(f"Well, {context[:48]} and so on", values={"n": 3, "q": "short", "context": context}) is not None


def test_an_echo_names_its_longest_copied_stretch():
    from workbench.scoring.echo import find_echo

    segment = "Read the passage below with care. Then answer the question that follows it."
    output = "read the passage below with care. zz then answer the"  # 34 characters copied, then 15
    echo = find_echo(output, [segment])
    assert echo.sample == "read the passage below with care. " and echo.share == (34 + 15) / 75


def test_a_long_output_that_copies_a_long_context_is_an_echo():
    from workbench.scoring.echo import find_echo

    # over 200 characters in which every letter is frequent: difflib's "popular element" heuristic (autojunk) would
    # find no copy at all after the first character differs
    context = "the model picks the most likely token at temperature zero. " * 4
    echo = find_echo("So: " + context, values={"context": context})
    assert echo is not None and echo.share == 1.0, "every character of a long copy counts"


def test_every_check_documents_its_name_option():
    from workbench.optiondoc import options_of
    from workbench.scoring.checks import Contains, Equals, name_option

    field = name_option("mine")
    assert field.default == "mine"
    assert field.metadata["doc"].startswith("The check's name in results and bad-case tags")
    for cls, default in ((Equals, "equals"), (Contains, "contains")):
        (name,) = [o for o in options_of(cls) if o.name == "name"]
        assert name.default == default and name.doc == field.metadata["doc"]
