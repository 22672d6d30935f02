"""The template reference is read from the code: every front-matter key, parser and scorer, with each option's type,
default and meaning — a key, parser, scorer or option added without documentation fails here."""

from __future__ import annotations

import dataclasses

import pytest

from workbench.errors import ConfigError
from workbench.optiondoc import REQUIRED, options_of
from workbench.parsers import PARSERS, make_parser, parser_class
from workbench.prompts import frontmatter
from workbench.prompts.reference import SECTIONS, reference_markdown
from workbench.scoring import SCORERS, Scorer, register_scorer


def test_every_front_matter_key_of_every_section_is_in_the_reference_with_a_meaning():
    text = reference_markdown()
    models = {getattr(frontmatter, model) for _, _, model in SECTIONS}
    for model in models:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
    nested = {
        field.annotation
        for model in models
        for field in model.model_fields.values()
        if isinstance(field.annotation, type) and issubclass(field.annotation, frontmatter.BaseModel)
    }
    assert nested <= models, f"a section the reference does not list: {nested - models}"
    for key in frontmatter.FrontMatter.model_fields:
        assert f"| `{key}` |" in text
    assert "| `model.parameters.temperature` | number ≥ 0, ≤ 2 \\| null | — |" in text
    assert "| `retrieval.NAME.k` | int ≥ 1, ≤ 100 | `4` |" in text


@pytest.mark.parametrize("name", PARSERS.names())
def test_every_parser_is_in_the_reference_with_its_options(name):
    text = reference_markdown()
    assert f"### `{name}`" in text
    cls = parser_class(name)
    assert cls is not None, f"the {name} parser's factory is not a documented from_config"
    for option in cls.OPTIONS:
        assert option.doc and f"| `{option.name}` |" in text


def test_documented_parser_defaults_are_the_defaults():
    choice = {o.name: o.default for o in options_of(parser_class("choice"))}
    assert make_parser({"parser": "choice"}).describe() == {"parser": "choice", **choice}
    regex = {o.name: o.default for o in options_of(parser_class("regex"))}
    assert make_parser({"parser": "regex", "pattern": "x"}).describe()["group"] == regex["group"]
    assert regex["pattern"] == REQUIRED


@pytest.mark.parametrize("name", SCORERS.names())
def test_every_scorer_option_is_documented_with_its_default(name):
    cls = SCORERS.get(name)
    documented = {o.name: o for o in options_of(cls)}
    fields = [f for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")]
    assert {f.name for f in fields} == set(documented)
    text = reference_markdown()
    assert f"### `{name}`" in text
    try:
        instance = cls()
    except ConfigError as error:  # an option with no usable default says so in its documentation
        assert any("(required)" in documented[f.name].doc for f in fields), error
        instance = None
    for field in fields:
        option = documented[field.name]
        assert option.doc, f"{name}.{field.name} has no documentation: declare it with workbench.optiondoc.option()"
        if instance is not None:
            assert getattr(instance, field.name) == option.default or option.default == REQUIRED


def test_a_scorer_registered_by_a_plugin_appears_in_the_reference():
    @dataclasses.dataclass
    class Polite(Scorer):
        """The output says please."""

        name: str = "polite"

    register_scorer("polite_for_reference_test", Polite)
    try:
        assert "### `polite_for_reference_test`" in reference_markdown()
        assert "The output says please." in reference_markdown()
    finally:
        SCORERS._entries.pop("polite_for_reference_test")
