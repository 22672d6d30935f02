"""Fine-tuning: the supervised set, OpenAI's JSONL format, job submission, and real LoRA on the bundled model."""

import json

import pytest

from workbench.errors import DatasetError
from workbench.finetune import (
    SFTExample,
    build_sft_set,
    check_openai_jsonl,
    export_openai_jsonl,
    lora_finetune,
    split_examples,
    submit_openai_job,
    validate_sft_set,
)
from workbench.testing.fake_openai import FakeOpenAIServer


@pytest.fixture
def sentiment(library):
    return library.get("sentiment_cloze_en")


def test_build_uses_label_verbalisers(sentiment, repo):
    from workbench.datasets import load_dataset

    examples = build_sft_set(sentiment, repo / "datasets/sentiment_en.csv")
    rows = load_dataset(repo / "datasets/sentiment_en.csv").rows
    assert len(examples) == 24 and all(e.prompt_text.endswith("Overall, it was") for e in examples)
    words = {"positive": " great", "negative": " terrible"}  # each label's first verbaliser word after the label
    assert [e.completion for e in examples] == [words[r["expected"]] for r in rows]
    train, test = split_examples(examples, test_fraction=0.5)
    assert len(train) == len(test) == 12 and not {e.row for e in train} & {e.row for e in test}


def test_validation_names_rows(sentiment):
    examples = [
        SFTExample("p", " great", 0, "d.csv line 2"),
        SFTExample("p", " great", 1, "d.csv line 3"),
        SFTExample("q", "", 2, "d.csv line 4"),
        SFTExample("x " * 900, " great", 3, "d.csv line 5"),
    ]
    report = validate_sft_set(examples, max_tokens=256)
    text = "\n".join(report.problems)
    assert "d.csv line 3: duplicate of d.csv line 2" in text and "d.csv line 4: empty completion" in text
    assert "d.csv line 5:" in text and "over the limit of 256" in text
    assert report.total_tokens == sum(report.tokens_per_example) and not report.ok


def test_missing_expected_column_fails_before_anything(sentiment):
    with pytest.raises(DatasetError, match="no column 'expected'"):
        build_sft_set(sentiment, [{"text": "hi"}])


def test_openai_jsonl_export_passes_the_format_check(sentiment, repo, tmp_path):
    path = export_openai_jsonl(
        build_sft_set(sentiment, repo / "datasets/sentiment_en.csv"),
        tmp_path / "ft.jsonl",
        system="Classify sentiment.",
    )
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]
    report = check_openai_jsonl(path)
    assert report.ok and report.examples == 24 and report.epochs == 5  # ceil(100 / 24) for a small set
    assert report.estimated_training_tokens == report.billed_tokens_per_epoch * 5 and report.estimated_cost_usd > 0


def test_format_check_reports_bad_lines(tmp_path):
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"messages": [{"role": "user", "content": "no answer"}]}),
        json.dumps({"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]}),
        json.dumps({"messages": [{"role": "user", "content": "", "extra": 1}, {"role": "assistant", "content": "y"}]}),
        json.dumps({"prompt": "legacy format"}),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = "\n".join(check_openai_jsonl(path).errors)
    assert "line 2: not valid JSON" in errors
    assert "line 3: no assistant message" in errors
    assert "line 4, message 0: role 'robot'" in errors
    assert "line 5, message 0: unrecognised key(s) extra" in errors and "line 5, message 0: missing or empty" in errors
    assert 'line 6: needs a non-empty "messages" list' in errors
    assert "line 1" not in errors


def test_submit_without_a_key_explains_instead_of_sending(sentiment, repo, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = export_openai_jsonl(build_sft_set(sentiment, repo / "datasets/sentiment_en.csv"), tmp_path / "ft.jsonl")
    plan = submit_openai_job(path)
    assert plan["dry_run"] and plan["would_create_job"]["hyperparameters"] == {"n_epochs": 5}
    assert "OPENAI_API_KEY" in capsys.readouterr().out


def test_submit_to_a_local_stand_in_server(sentiment, repo, tmp_path):
    path = export_openai_jsonl(build_sft_set(sentiment, repo / "datasets/sentiment_en.csv"), tmp_path / "ft.jsonl")
    with FakeOpenAIServer() as server:
        result = submit_openai_job(path, base_url=server.base_url, suffix="sentiment")
        assert result["job_id"] == "ftjob-1" and result["status"] == "queued"
        assert server.files["file-1"] == path.read_bytes() and server.jobs[0]["model"] == "gpt-4o-mini-2024-07-18"


@pytest.mark.local_model
def test_lora_really_trains_and_loads_back(sentiment, repo, tmp_path, store):
    from workbench.pipeline import run

    zero_shot = sentiment.with_changes(body="Text: {{ text }}\nOverall, it was", version=90)
    examples = build_sft_set(zero_shot, repo / "datasets/sentiment_en.csv")[:8]
    settings = {"steps": 8, "batch_size": 4, "learning_rate": 3e-4}
    result = lora_finetune(examples, tmp_path / "adapter", reuse=False, **settings)
    assert len(result.losses) == 8 and result.losses[-1] < result.losses[0] and not result.reused
    replayed = []
    again = lora_finetune(examples, tmp_path / "again", on_step=lambda i, loss: replayed.append(loss), **settings)
    assert again.reused and again.losses == result.losses == replayed, "identical inputs: the adapter is reused"
    same = [(tmp_path / d / "adapter_model.safetensors").read_bytes() for d in ("adapter", "again")]
    assert same[0] == same[1]
    other = lora_finetune(examples[:6], tmp_path / "other", steps=2, batch_size=4, learning_rate=3e-4)
    other_weights = (tmp_path / "other" / "adapter_model.safetensors").read_bytes()
    assert len(other.losses) == 2 and other_weights != same[0], "other inputs: their own adapter, not the cached one"
    assert (tmp_path / "adapter" / "adapter_config.json").exists()
    assert 0 < result.trainable_parameters < result.total_parameters / 100
    tuned = run(zero_shot, repo / "datasets/sentiment_en.csv", [result.spec], store=store, progress=False, limit=4)
    assert tuned.errors == [] and all(r.parsed in ("positive", "negative") for r in tuned.records)


def test_the_completion_loss_is_the_causal_lm_loss_with_logits_only_where_a_completion_token_is_predicted():
    """The training loss computes the vocabulary projection only at the positions that predict a completion token;
    it must equal transformers' own loss over the same labels (prompt and padding at -100), on a small random
    Gemma 3 with rows of different lengths."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from workbench.finetune.lora import _completion_loss

    torch.manual_seed(0)
    config = Gemma3TextConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, head_dim=8, max_position_embeddings=64,
    )  # fmt: skip
    model = Gemma3ForCausalLM(config)
    rows = [([5, 6, 7, 8, 9], [-100, -100, -100, 8, 9]), ([5, 6, 10], [-100, 6, 10]), ([3, 4, 5, 6], [-100] * 3 + [6])]
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.tensor([ids + [0] * (width - len(ids)) for ids, _ in rows])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows])
    mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows])
    expected = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
    got = _completion_loss(model, input_ids, mask, labels)
    assert torch.allclose(got, expected, atol=1e-6), (got, expected)
    got.backward()  # and it trains: gradients reach the weights
    assert model.model.layers[0].self_attn.q_proj.weight.grad.abs().sum() > 0
