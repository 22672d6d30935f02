"""A template error names the line of the mistake — where the unclosed ``{{`` opens, the line with the odd
indentation — not the line after it, where Jinja or YAML happened to notice (the editor's markers use this line)."""

import pytest

from workbench.errors import TemplateError
from workbench.prompts import PromptTemplate


def _error_line(text: str) -> int:
    with pytest.raises(TemplateError) as caught:
        PromptTemplate.from_string(text, path="t.prompty")
    assert f"t.prompty:{caught.value.line}:" in str(caught.value), "the message names the same line"
    return caught.value.line


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.fixture
def source(library) -> str:
    return library.path_of("sentiment_cloze_en").read_text(encoding="utf-8")


@pytest.mark.parametrize("broken", ["Text: {{ text", "Text: {{ text ", "Text: {{ "])
def test_an_unclosed_tag_is_reported_where_it_opens(source, broken):
    text = source.replace("Text: {{ text }}", broken)
    assert _error_line(text) == _line_of(text, broken)


def test_a_tag_broken_on_its_own_line_keeps_that_line(source):
    text = source.replace("Text: {{ text }}", "Text: {{ text text }}")
    assert _error_line(text) == _line_of(text, "Text: {{ text text }}")


@pytest.mark.parametrize("indented", ["   parser: label", " parser: label"])
def test_a_line_with_an_indentation_no_other_line_has_is_blamed(source, indented):
    text = source.replace("  parser: label", indented)
    assert _error_line(text) == _line_of(text, indented)


def test_a_line_indented_deeper_than_the_one_before_is_reported_on_itself(source):
    text = source.replace("  parser: label\n", "  parser: label\n      extra: 1\n")
    assert _error_line(text) == _line_of(text, "extra: 1")
