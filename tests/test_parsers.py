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
