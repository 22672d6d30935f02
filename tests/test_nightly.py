"""profiles.yaml: the plain form, variants on top of per-notebook parameters, and which variants nbval checks."""

import pytest

from workbench.errors import ConfigError
from workbench.nightly import Profile


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


def test_nbvals_rerun_is_fresh_unless_the_profile_keeps_the_cached_answers(tmp_path):
    from workbench.nightly import _answers_only
    from workbench.pipeline import run
    from workbench.prompts import PromptTemplate
    from workbench.store import Store
    from workbench.testing.models import MockModel

    assert Profile.parse("full", {"variants": {"en": {}}, "notebooks": {}}).rerun == "fresh"
    assert Profile.parse("ci", {"variants": {"en": {}}, "rerun": "cached", "notebooks": {}}).rerun == "cached"
    with pytest.raises(ConfigError, match="rerun: 'warm' is not one of fresh, cached"):
        Profile.parse("ci", {"variants": {"en": {}}, "rerun": "warm", "notebooks": {}})
    scratch = tmp_path / "scratch"
    (scratch / "chroma").mkdir(parents=True)
    (scratch / "metrics.json").write_text("{}")
    template = PromptTemplate.from_string("---\nname: t\nassertions: [{type: contains}]\n---\n{{ q }}")
    rows = [{"id": "r1", "q": "a", "expected": "a"}, {"id": "r2", "q": "b", "expected": "b"}]
    first = Store(str(scratch / "store.db"))
    run(template, rows, [MockModel("mock:x", default="a")], store=first, progress=False)
    first.close()
    _answers_only(scratch)  # "cached": only the answers stay
    assert sorted(p.name for p in scratch.iterdir()) == ["store.db"]
    again = Store(str(scratch / "store.db"))
    counts = again.stats()
    assert counts["cache"] == 2 and counts["runs"] == counts["results"] == 0
    rerun = run(template, rows, [MockModel("mock:x", default="a")], store=again, progress=False)
    assert rerun.stats["cached"] == 2 and rerun.stats["called"] == 0
    again.close()


def test_the_summary_is_written_for_people_and_scripts_without_secrets(tmp_path, monkeypatch):
    """summary.json gives a script the seconds of every run; an error quoting a key never reaches any summary."""
    import json

    from workbench.nightly import NotebookOutcome, write_summary

    monkeypatch.setenv("OPENAI_API_KEY", "sk-nightly-secret-0123456789abcdef")
    outcomes = [
        NotebookOutcome("00_quickstart.en", "passed", 6.04, tmp_path / "a.ipynb", metrics={"pass_rate": 0.92}),
        NotebookOutcome(
            "02_rag.en",
            "failed",
            35.5,
            tmp_path / "b.ipynb",
            error="auth failed for sk-nightly-secret-0123456789abcdef",
        ),
    ]
    write_summary(outcomes, tmp_path, "ci")
    runs = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert [(r["name"], r["status"], r["seconds"]) for r in runs] == [
        ("00_quickstart.en", "passed", 6.0),
        ("02_rag.en", "failed", 35.5),
    ]
    assert runs[0]["metrics"] == {"pass_rate": 0.92}
    for name in ("summary.json", "summary.md", "summary.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "sk-nightly-secret" not in text and "***" in text, name
