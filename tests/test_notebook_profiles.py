"""profiles.yaml: the plain form, variants on top of per-notebook parameters, which variants nbval checks, whether
variants share answers."""

import pytest

from workbench.errors import ConfigError
from workbench.notebook_profiles import Profile


def test_a_plain_profile_runs_each_notebook_once_and_validates_it():
    profile = Profile.parse("ci", {"00_quickstart": {"n_rows": 6}})
    assert profile.runs("00_quickstart") == [("", {"n_rows": 6}, True)]
    assert profile.runs("01_prompt_tuning") == [("", {}, True)]


def test_variants_layer_their_parameters_over_the_notebooks_and_only_validate_those_named():
    profile = Profile.parse(
        "ci",
        {
            "variants": {"en": {"lang": "en"}, "zh": {"lang": "zh"}, "solutions": {"lang": "en", "solutions": True}},
            "validate": ["en"],
            "notebooks": {"00_quickstart": {"n_rows": 12, "lang": "fr"}},
        },
    )
    assert profile.runs("00_quickstart") == [
        ("en", {"n_rows": 12, "lang": "en"}, True),
        ("zh", {"n_rows": 12, "lang": "zh"}, False),
        ("solutions", {"n_rows": 12, "lang": "en", "solutions": True}, False),
    ]


def test_validating_an_unknown_variant_is_a_clear_error():
    with pytest.raises(ConfigError, match="validate names unknown variants \\['de'\\]"):
        Profile.parse("ci", {"variants": {"en": {}}, "validate": ["de"], "notebooks": {}})


def test_share_answers_is_true_or_false():
    assert Profile.parse("full", {"variants": {"en": {}}, "notebooks": {}}).share_answers is False
    with pytest.raises(ConfigError, match="share_answers: 'yes' is not true or false"):
        Profile.parse("ci", {"variants": {"en": {}}, "share_answers": "yes", "notebooks": {}})
