"""How a run's recorded provenance reads in the CLI and the UI (one wording for both)."""

from workbench.provenance import describe_git, describe_models

RECORDED = {
    "git": {"commit": "0123456789abcdef", "dirty": True},
    "models": [
        {"spec": "local", "model_sha256": "a5fd3b62230a9f00"},
        {"spec": "hf:adapter", "weights_sha256": "ffee00112233aa"},
        {"spec": "openai:gpt-4o-mini", "base_url": "http://127.0.0.1:8000/v1"},
        "not a record",
    ],
}


def test_the_commit_is_short_and_says_when_the_tree_had_changes():
    assert describe_git(RECORDED) == "git 0123456789 (uncommitted changes)"
    assert describe_git(RECORDED, dirty_word="dirty") == "git 0123456789 (dirty)"
    assert describe_git({"git": {"commit": "0123456789abcdef", "dirty": False}}) == "git 0123456789"
    assert describe_git({}) == ""


def test_each_model_is_named_by_its_weights_or_its_endpoint():
    assert describe_models(RECORDED) == (
        "local: a5fd3b62230a; hf:adapter: ffee00112233; openai:gpt-4o-mini: http://127.0.0.1:8000/v1"
    )
    assert describe_models({}) == ""
