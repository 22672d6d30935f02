import pytest

from workbench.errors import ConfigError, OutputParseError
from workbench.parsers import ChoiceParser, LabelParser, extract_json, make_parser, normalize_text


def test_normalize_full_width_case_and_punctuation():
    assert normalize_text("  ＰＯＳＩＴＩＶＥ！ ") == "positive"
    assert normalize_text("开心。") == "开心"
    assert normalize_text("“难过”，") == "难过"


def test_label_parser_maps_words_and_prefers_earliest_longest():
    parser = make_parser(
        {"parser": "label", "labels": {"positive": ["开心", "不错"], "negative": ["难过", "累", "不开心"]}}
    )
    assert parser.parse("累了。") == "negative"
    assert parser.parse("开心！") == "positive"
    assert parser.parse("不开心") == "negative"  # 不开心 (longer, same position) beats 开心
    assert parser.parse("Positive") == "positive"  # label names match too, case-insensitively
    assert parser.parse("ＮＥＧＡＴＩＶＥ") == "negative"


def test_label_parser_error_says_how_to_fix():
    parser = make_parser({"parser": "label", "labels": ["yes", "no"]})
    with pytest.raises(OutputParseError, match="output.labels"):
        parser.parse("maybe")


def test_label_parser_normalizes_expected_values():
    parser = LabelParser.from_config({"labels": {"positive": ["good"], "negative": ["bad"]}})
    assert parser.normalize_label(" Positive ") == "positive"
    assert parser.normalize_label("good") == "positive"


def test_json_parser_with_schema():
    parser = make_parser({"parser": "json", "schema": {"type": "object", "required": ["name"]}})
    assert parser.parse('Sure! ```json\n{"name": "李明"}\n```') == {"name": "李明"}
    with pytest.raises(OutputParseError, match="schema"):
        parser.parse('{"nom": "x"}')
    with pytest.raises(OutputParseError, match="No JSON"):
        parser.parse("no json here")


def test_extract_json_finds_first_object_after_prose():
    assert extract_json('The answer is {"a": [1, 2]} and more') == {"a": [1, 2]}


def test_regex_parser_and_bad_configs():
    parser = make_parser({"parser": "regex", "pattern": r"Answer:\s*(\d+)"})
    assert parser.parse("so 3 + 4 = 7\nAnswer: 7") == "7"
    with pytest.raises(OutputParseError):
        parser.parse("I am not sure")
    with pytest.raises(ConfigError, match="Invalid regex"):
        make_parser({"parser": "regex", "pattern": "("})
    with pytest.raises(ConfigError, match="No output parser named 'xml'"):
        make_parser({"parser": "xml"})


def test_a_choice_scored_by_text_reads_a_written_out_answer_as_its_option():
    """An endpoint without log-probabilities writes the answer of a cloze exam itself ("Ottawa"), not its letter;
    only an output that is exactly one option's text maps to that option."""
    parser = ChoiceParser.from_config({"options": ["A", "B", "C", "D"], "score_by": "text"})
    row = {"A": "Toronto", "B": "Ottawa", "C": "Montreal", "D": "Vancouver"}
    assert parser.parse_row(" Ottawa.", row) == "B"
    assert parser.parse_row(" C", row) == "C", "a letter still counts"
    with pytest.raises(OutputParseError):
        parser.parse_row(" Ottawa or Toronto", row)
    letters = ChoiceParser.from_config({"options": ["A", "B", "C", "D"]})
    with pytest.raises(OutputParseError):
        letters.parse_row(" Ottawa", row)


# -- every parser's answers and messages, by hand --------------------------------------------------------------------
def test_normalize_drops_spaces_punctuation_and_symbols_but_keeps_letters_and_digits():
    assert normalize_text("A+B = 3$ ©\tStraße") == "ab3strasse"
    assert normalize_text("") == ""


def test_a_label_parser_is_built_from_a_list_or_a_map_of_words():
    assert LabelParser.from_config({"labels": ["yes", "no"]}).labels == {"yes": ("yes",), "no": ("no",)}
    parser = LabelParser.from_config({"labels": {"pos": ["pos", "good", "good"], "neg": "bad", "meh": None, 1: [2]}})
    assert parser.labels == {"pos": ("pos", "good"), "neg": ("neg", "bad"), "meh": ("meh",), "1": ("1", "2")}
    assert parser.label_names == ["pos", "neg", "meh", "1"]
    assert parser.describe() == {
        "parser": "label",
        "labels": {"pos": ["pos", "good"], "neg": ["neg", "bad"], "meh": ["meh"], "1": ["1", "2"]},
    }
    for config in ({}, {"labels": {}}, {"labels": "yes"}):
        with pytest.raises(ConfigError) as error:
            LabelParser.from_config(config)
        assert str(error.value) == "A label parser needs `labels:` — a list of labels or a map label -> words."


def test_a_label_parser_takes_the_earliest_word_and_never_an_empty_one():
    parser = make_parser({"parser": "label", "labels": {"positive": ["good"], "negative": ["bad"]}})
    assert parser.parse("good, not bad") == "positive" and parser.parse("bad, not good") == "negative"
    blank = make_parser({"parser": "label", "labels": {"yes": ["!!!"], "no": []}})
    assert blank.parse("no.") == "no"
    with pytest.raises(OutputParseError):
        blank.parse("maybe")  # "!!!" normalises to nothing: it matches no output, not every one
    with pytest.raises(OutputParseError) as error:
        parser.parse("  " + "x" * 70 + "  ")
    assert str(error.value) == (
        f"Output {'x' * 60!r} matches none of the labels positive, negative. Add the word the model used to a "
        "label's list under output.labels."
    )
    assert parser.normalize_label(" Neutral! ") == "neutral" and parser.normalize_label("BAD") == "negative"


def test_the_text_parser_strips_and_answers_with_the_best_word():
    parser = make_parser(None)
    assert parser.parse("  hi \n") == "hi" and parser.parse_row(" hi ", {"x": 1}) == "hi"
    assert parser.answer_from_scores(" good", {"positive": -0.1}) == " good"
    assert parser.describe() == {"parser": "text"} and make_parser({}).describe() == {"parser": "text"}


def test_a_choice_parser_reads_the_first_standalone_option_letter():
    parser = ChoiceParser.from_config({})
    assert parser.labels == {letter: (letter, f" {letter}") for letter in "ABCD"}
    assert parser.describe() == {"parser": "choice", "options": ["A", "B", "C", "D"], "score_by": "letter"}
    assert parser.parse("I think B, not C") == "B"  # "I" is a standalone letter, but not an option
    assert parser.parse("the answer is b") == "B" and parser.parse("答案：Ｃ") == "C"
    assert parser.parse("ABC, so D") == "D"  # letters inside a word are not answers
    with pytest.raises(OutputParseError) as error:
        parser.parse(" E or F ")
    assert str(error.value) == (
        "Output 'E or F' names none of the options A, B, C, D. Ask for the letter only (end the prompt with "
        "'Answer:'), or score by log-probability (method: logprob)."
    )
    assert parser.candidates({"A": "x"}) == {letter: (f" {letter}",) for letter in "ABCD"}
    assert parser.answer_from_scores(" B", {"A": -2.0, "B": -0.5, "C": -1.0, "D": -3.0}) == "B"
    two = ChoiceParser.from_config({"options": ["a", " b "], "score_by": "text"})
    assert two.labels == {"A": ("A", " A"), "B": ("B", " B")} and two.score_by == "text"
    assert two.candidates({"A": "Paris", "B": "Rome"}) == {"A": (" Paris",), "B": (" Rome",)}
    assert two.candidates({"A": "Paris"}) == {"A": (" Paris",), "B": ("",)}
    assert two.describe() == {"parser": "choice", "options": ["A", "B"], "score_by": "text"}


def test_a_choice_parser_refuses_options_that_are_not_letters():
    for options in (["AB"], ["1"], ["A", ""]):
        with pytest.raises(ConfigError) as error:
            ChoiceParser.from_config({"options": options})
        assert str(error.value) == "A choice parser needs `options:` — single letters, e.g. [A, B, C, D]."
    with pytest.raises(ConfigError) as error:
        ChoiceParser.from_config({"score_by": "word"})
    assert str(error.value) == "`score_by: word` — use letter or text."


def test_a_written_answer_counts_only_when_exactly_one_options_text_matches():
    parser = ChoiceParser.from_config({"options": ["A", "B", "C"], "score_by": "text"})
    assert parser.parse_row("rome!", {"A": "Paris", "B": "Rome", "C": "Oslo"}) == "B"
    assert parser.parse_row("B", {"A": "Rome", "B": "Rome", "C": "Oslo"}) == "B", "two options read the same"
    with pytest.raises(OutputParseError):
        parser.parse_row("Rome", {"A": "Rome", "B": "Rome", "C": "Oslo"})
    with pytest.raises(OutputParseError):
        parser.parse_row("...", {"A": "", "B": "Rome", "C": "Oslo"})  # nothing written matches no option


def test_extract_json_takes_the_first_value_that_parses():
    assert extract_json("```\n[1, 2]\n```") == [1, 2]
    assert extract_json('x {bad} y {"a": 1} z') == {"a": 1}
    assert extract_json("```json\n{bad}\n``` then [3]") == [3]
    with pytest.raises(OutputParseError) as error:
        extract_json("  " + "n" * 90 + " ")
    assert str(error.value) == f"No JSON object found in the output: {'n' * 80!r}"


def test_a_json_parser_says_where_the_schema_fails():
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "integer"}}}}
    parser = make_parser({"parser": "json", "schema": schema})
    assert parser.parse('{"items": [1, 2]}') == {"items": [1, 2]}
    with pytest.raises(OutputParseError) as error:
        parser.parse('{"items": [1, "two"]}')
    assert str(error.value) == "JSON does not match the schema at items/1: 'two' is not of type 'integer'"
    with pytest.raises(OutputParseError) as error:
        parser.parse("[1]")
    assert str(error.value) == "JSON does not match the schema at (root): [1] is not of type 'object'"
    assert parser.describe() == {"parser": "json", "schema": schema}
    assert make_parser({"parser": "json"}).parse("[1, {}]") == [1, {}]


def test_a_regex_parser_takes_its_group_or_else_the_whole_match():
    parser = make_parser({"parser": "regex", "pattern": r"A(.*)Z"})
    assert parser.parse("xA\n b \nZy") == "b", "the pattern spans lines"
    assert parser.describe() == {"parser": "regex", "pattern": "A(.*)Z", "group": 1}
    assert make_parser({"parser": "regex", "pattern": r"Answer: \d+"}).parse(" Answer: 42 ") == "Answer: 42"
    named = make_parser({"parser": "regex", "pattern": r"(?P<n>\d+)", "group": "n"})
    assert named.parse("it is 7") == "7"
    with pytest.raises(OutputParseError) as error:
        named.parse("  none  ")
    assert str(error.value) == "Pattern '(?P<n>\\\\d+)' not found in the output: 'none'"
    for config in ({"parser": "regex"}, {"parser": "regex", "pattern": ""}):
        with pytest.raises(ConfigError) as error:
            make_parser(config)
        assert str(error.value) == "A regex parser needs `pattern:` (a Python regular expression)."
    with pytest.raises(ConfigError, match=r"^Invalid regex pattern '\(': missing \), unterminated subpattern"):
        make_parser({"parser": "regex", "pattern": "("})


def test_a_registered_parser_is_built_by_its_name():
    from workbench.parsers import OutputParser, register_parser

    class Upper(OutputParser):
        def parse(self, text):
            return text.upper()

    register_parser("test_upper", lambda config: Upper(kind="test_upper"))
    assert make_parser({"parser": "test_upper"}).parse("ok") == "OK"


def test_a_label_parser_prefers_the_earliest_then_the_longest_then_the_first_label():
    parser = make_parser({"parser": "label", "labels": {"negative": ["bad"], "positive": ["good"]}})
    assert parser.parse("bad? good, not bad") == "negative", "the earliest word, not the last one"
    assert parser.parse("so good, not bad") == "positive"
    for labels in ({"short": ["good"], "long": ["good news"]}, {"long": ["good news"], "short": ["good"]}):
        assert make_parser({"parser": "label", "labels": labels}).parse("Good news!") == "long"
    assert make_parser({"parser": "label", "labels": {"x": ["ok"], "y": ["ok"]}}).parse("ok") == "x", "a tie: first"
    skips = make_parser({"parser": "label", "labels": {"maybe": ["!!!", "perhaps"], "no": ["nope"]}})
    assert skips.parse("perhaps") == "maybe", "an empty word is skipped, not the rest of the label's words"


def test_parser_messages_show_the_first_60_or_80_characters():
    long = "z" * 100
    with pytest.raises(OutputParseError) as error:
        ChoiceParser.from_config({}).parse(long)
    assert str(error.value).startswith(f"Output {'z' * 60!r} names none")
    with pytest.raises(OutputParseError) as error:
        make_parser({"parser": "regex", "pattern": "x"}).parse(long)
    assert str(error.value) == f"Pattern 'x' not found in the output: {'z' * 80!r}"


def test_a_regex_parser_takes_the_group_it_is_told():
    parser = make_parser({"parser": "regex", "pattern": r"(\w+)=(\d+)", "group": 2})
    assert parser.parse("x=42") == "42" and parser.describe()["group"] == 2


def test_a_written_answer_never_matches_an_option_the_row_lacks():
    parser = ChoiceParser.from_config({"options": ["A", "B", "C"], "score_by": "text"})
    for written in ("None", "XXXX"):
        with pytest.raises(OutputParseError):
            parser.parse_row(written, {"A": "Paris", "B": "Rome"})  # no text for C: nothing can match it


def test_a_registered_parser_is_found_under_its_own_name():
    import uuid

    from workbench.parsers import OutputParser, register_parser

    name = f"test_{uuid.uuid4().hex}"  # a name no earlier test run registered
    register_parser(name, lambda config: OutputParser(kind=name))
    assert make_parser({"parser": name}).describe() == {"parser": name}


def test_the_options_a_parser_reads_are_known_for_built_ins_only():
    from workbench.parsers import (
        ChoiceParser,
        JsonParser,
        OutputParser,
        RegexParser,
        parser_class,
        parser_options,
        register_parser,
    )

    assert [parser_class(n) for n in ("text", "label", "json", "regex", "choice")] == [
        OutputParser,
        LabelParser,
        JsonParser,
        RegexParser,
        ChoiceParser,
    ]
    assert parser_options("regex") == {"pattern", "group"} and parser_options("choice") == {"options", "score_by"}
    assert parser_options("text") == set() and parser_options("json") == {"schema"}
    assert parser_options("no_such_parser") is None
    register_parser("test_plain_function", lambda config: OutputParser())
    assert parser_class("test_plain_function") is None and parser_options("test_plain_function") is None
    assert OutputParser.from_config({"anything": 1}) == OutputParser()
    assert JsonParser.from_config({"schema": {"type": "array"}}).schema == {"type": "array"}


def test_a_plugin_factory_that_is_no_parser_class_has_no_known_options():
    from workbench.parsers import OutputParser, parser_class, parser_options, register_parser

    class Factory:  # a plugin's own class with a from_config: not an OutputParser
        @classmethod
        def from_config(cls, config):
            return OutputParser()

        def build(self, config):
            return OutputParser()

    register_parser("test_foreign_class", Factory.from_config)
    register_parser("test_bound_method", Factory().build)
    assert parser_class("test_foreign_class") is None and parser_options("test_foreign_class") is None
    assert parser_class("test_bound_method") is None
