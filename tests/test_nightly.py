"""The nightly run: nbval's re-run from fresh state or cached answers, variants that share answers, the summary."""

import json

import pytest

from workbench.errors import ConfigError
from workbench.notebook_profiles import Profile


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


def _two_prompt_notebook(folder):
    """A notebook that runs one prompt the same in every language and one prompt per language, on a mock model, and
    reports how many of each it called and took from the cache."""
    import nbformat

    parameters = nbformat.v4.new_code_cell('lang = "en"\nstore = "store.db"', metadata={"tags": ["parameters"]})
    body = nbformat.v4.new_code_cell(
        r"""from workbench import course, run
from workbench.prompts import PromptTemplate
from workbench.testing.models import MockModel

rows = [{"id": "r1", "q": "a", "expected": "a"}, {"id": "r2", "q": "b", "expected": "b"}]


def template(name, words):
    head = f"---\nname: {name}\nassertions: [{{type: contains}}]\n---\n"
    return PromptTemplate.from_string(head + words + " {{ q }}")


model = MockModel("mock:x", default="a")
same = run(template("exam", "Answer:"), rows, [model], store=store, progress=False)
own = run(template(f"chat_{lang}", f"{lang}:"), rows, [model], store=store, progress=False)
course.record_metrics(same_called=same.stats["called"], same_cached=same.stats["cached"],
                      own_called=own.stats["called"], own_cached=own.stats["cached"])
"""
    )
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = nbformat.v4.new_notebook(cells=[parameters, body], metadata={"kernelspec": kernel})
    nbformat.write(notebook, folder / "00_two_prompts.ipynb")


@pytest.mark.parametrize("share", [True, False])
def test_a_later_variant_takes_the_earlier_variants_answers_only_where_the_profile_shares_them(tmp_path, share):
    """``share_answers``: the Chinese run answers the request it makes exactly as the English run did from the cache
    and calls the model for its own prompt; without it, each variant calls the model for everything."""
    from workbench.nightly import run_nightly

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _two_prompt_notebook(notebooks)
    profile = {"variants": {"en": {"lang": "en"}, "zh": {"lang": "zh"}}, "share_answers": share, "notebooks": {}}
    (notebooks / "profiles.yaml").write_text(json.dumps({"ci": profile}), encoding="utf-8")
    en, zh = run_nightly("ci", tmp_path / "out", validate=False, notebooks_dir=notebooks)
    assert (en.status, zh.status) == ("passed", "passed"), en.error + zh.error
    assert en.metrics == {"same_called": 2, "same_cached": 0, "own_called": 2, "own_cached": 0}
    shared = {"same_called": 0, "same_cached": 2} if share else {"same_called": 2, "same_cached": 0}
    assert zh.metrics == {**shared, "own_called": 2, "own_cached": 0}
