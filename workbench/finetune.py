"""Fine-tuning: build and check a supervised set, export it for OpenAI, and LoRA-tune the bundled model on a CPU.

Optional extra ``[finetune]`` (torch CPU build, transformers, peft, gguf). Stages:

1. :func:`build_sft_set` — a prompt template × a dataset (or exported bad cases) → (rendered prompt, completion).
   For label templates the completion is the label's first verbaliser word (``negative`` → ``terrible``).
2. :func:`validate_sft_set` — empty fields, duplicates, over-long examples, token counts, each with its row.
3. :func:`export_openai_jsonl` / :func:`check_openai_jsonl` — OpenAI's chat fine-tuning format, checked the way
   OpenAI's data-preparation guide does (roles, missing assistant turns, token limits, estimated cost), with line
   numbers. :func:`submit_openai_job` uploads and starts a job, or, without a key, explains what it would send.
4. :func:`lora_finetune` — LoRA with peft on Gemma 3 270M (transformers reads the bundled GGUF; the converted model is
   cached so only the first load pays the conversion). Save the adapter; load it back as the ``hf:PATH`` model.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.datasets import load_dataset, public_fields
from workbench.errors import DatasetError, ModelError
from workbench.models.base import ChatMessage, PromptInput
from workbench.models.hf import base_model_dir, require_finetune_extra
from workbench.parsers import LabelParser
from workbench.prompts import PromptTemplate, load_prompt

OPENAI_ROLES = {"system", "user", "assistant", "tool"}
OPENAI_MESSAGE_KEYS = {"role", "content", "name", "weight", "function_call", "tool_calls", "tool_call_id"}
DEFAULT_TOKEN_LIMIT = 65_536
TRAINING_PRICE_PER_MILLION = {
    "gpt-4o-mini-2024-07-18": 3.00,
    "gpt-4o-2024-08-06": 25.00,
    "gpt-4.1-mini-2025-04-14": 5.00,
}


# ---------------------------------------------------------------------------------------------------------------
# 1-2. Building and validating a supervised set
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SFTExample:
    prompt: PromptInput
    completion: str
    row: int
    source: str = ""

    def messages(self, system: str | None = None) -> list[dict[str, str]]:
        turns = [ChatMessage("user", self.prompt)] if isinstance(self.prompt, str) else list(self.prompt)
        out = [m.to_dict() for m in turns]
        if system and not any(m["role"] == "system" for m in out):
            out.insert(0, {"role": "system", "content": system})
        return [*out, {"role": "assistant", "content": self.completion}]

    @property
    def prompt_text(self) -> str:
        from workbench.models.base import prompt_as_text

        return prompt_as_text(self.prompt)


def completion_for(template: PromptTemplate, expected: Any) -> str:
    """What the model should write for an expected value: a label's verbaliser word, else the value itself."""
    parser = template.parser
    if isinstance(parser, LabelParser):
        label = parser.normalize_label(expected)
        words = parser.labels.get(label)
        if words is None:
            raise DatasetError(f"Expected value {expected!r} is none of the labels {', '.join(parser.labels)}.")
        word = words[1] if len(words) > 1 else words[0]
        return f" {word}" if template.api == "completion" else word
    if isinstance(expected, dict | list):
        return json.dumps(expected, ensure_ascii=False)
    return str(expected)


def build_sft_set(template: Any, dataset: Any, *, completion_column: str = "expected") -> list[SFTExample]:
    """Rendered prompt → completion for every row (an exported bad-case file is a dataset too)."""
    template = load_prompt(template)
    data = load_dataset(dataset)
    data.check_columns([*template.required_variables, completion_column], template_name=template.ref)
    examples = []
    for i, row in enumerate(data.rows):
        inputs = public_fields(row)
        examples.append(
            SFTExample(
                template.render(inputs), completion_for(template, inputs[completion_column]), i, data.describe_row(i)
            )
        )
    return examples


def split_examples(
    examples: Sequence[SFTExample], test_fraction: float = 0.5, seed: int = 0
) -> tuple[list[SFTExample], list[SFTExample]]:
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    cut = int(round(len(order) * (1 - test_fraction)))
    return [examples[i] for i in sorted(order[:cut])], [examples[i] for i in sorted(order[cut:])]


@dataclass
class SFTReport:
    examples: int
    total_tokens: int
    max_tokens: int
    problems: list[str] = field(default_factory=list)
    tokens_per_example: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def simple_token_count(text: str) -> int:
    """A tokenizer-free estimate: CJK characters count one each, other text ~4 characters per token."""
    cjk = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    return cjk + max(1, (len(text) - cjk + 3) // 4)


def validate_sft_set(
    examples: Sequence[SFTExample], *, max_tokens: int = 512, count_tokens: Callable[[str], int] = simple_token_count
) -> SFTReport:
    """Empty fields, duplicate rows, over-long examples; token counts per example and in total."""
    problems, counts, seen = [], [], {}
    for ex in examples:
        where = ex.source or f"row {ex.row}"
        if not ex.prompt_text.strip():
            problems.append(f"{where}: empty prompt")
        if not ex.completion.strip():
            problems.append(f"{where}: empty completion (no expected answer)")
        key = (ex.prompt_text, ex.completion)
        if key in seen:
            problems.append(f"{where}: duplicate of {seen[key]}")
        seen.setdefault(key, where)
        n = count_tokens(ex.prompt_text) + count_tokens(ex.completion)
        counts.append(n)
        if n > max_tokens:
            problems.append(f"{where}: {n} tokens, over the limit of {max_tokens} (shorten the prompt or raise it)")
    return SFTReport(len(examples), sum(counts), max(counts, default=0), problems, counts)


# ---------------------------------------------------------------------------------------------------------------
# 3. OpenAI chat fine-tuning format
# ---------------------------------------------------------------------------------------------------------------
def export_openai_jsonl(examples: Iterable[SFTExample], path: str | Path, *, system: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps({"messages": ex.messages(system)}, ensure_ascii=False) + "\n")
    return path


@dataclass
class FormatReport:
    examples: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    billed_tokens_per_epoch: int = 0
    epochs: int = 3
    estimated_training_tokens: int = 0
    estimated_cost_usd: float | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        lines = [
            f"{self.examples} examples, {len(self.errors)} errors, {len(self.warnings)} warnings",
            f"~{self.billed_tokens_per_epoch} tokens per epoch × {self.epochs} epochs = "
            f"~{self.estimated_training_tokens} training tokens",
        ]
        if self.estimated_cost_usd is not None:
            lines.append(f"estimated cost ${self.estimated_cost_usd:.4f}")
        return "\n".join(lines + self.errors + self.warnings)


def check_openai_jsonl(
    path: str | Path,
    *,
    token_limit: int = DEFAULT_TOKEN_LIMIT,
    epochs: int | None = None,
    model: str = "gpt-4o-mini-2024-07-18",
    count_tokens: Callable[[str], int] = simple_token_count,
) -> FormatReport:
    """Check a chat fine-tuning file the way OpenAI's data-preparation guide does, naming each bad line."""
    report = FormatReport()
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        report.examples += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            report.errors.append(f"line {lineno}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("messages"), list) or not record["messages"]:
            report.errors.append(f'line {lineno}: needs a non-empty "messages" list')
            continue
        tokens = 0
        for j, message in enumerate(record["messages"]):
            if not isinstance(message, dict):
                report.errors.append(f"line {lineno}, message {j}: must be an object")
                continue
            unknown = set(message) - OPENAI_MESSAGE_KEYS
            if unknown:
                report.errors.append(f"line {lineno}, message {j}: unrecognised key(s) {', '.join(sorted(unknown))}")
            if message.get("role") not in OPENAI_ROLES:
                report.errors.append(
                    f"line {lineno}, message {j}: role {message.get('role')!r} is not one of "
                    f"{', '.join(sorted(OPENAI_ROLES))}"
                )
            content = message.get("content")
            is_tool_call = message.get("role") == "assistant" and message.get("tool_calls")
            if not is_tool_call and (not isinstance(content, str) or not content.strip()):
                report.errors.append(f"line {lineno}, message {j}: missing or empty text content")
            tokens += 4 + count_tokens(content if isinstance(content, str) else "")
        if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in record["messages"]):
            report.errors.append(f"line {lineno}: no assistant message (nothing to learn)")
        if tokens > token_limit:
            report.warnings.append(
                f"line {lineno}: ~{tokens} tokens, over the {token_limit} limit; it will be truncated"
            )
        report.billed_tokens_per_epoch += min(tokens, token_limit)
    if report.examples < 10:
        report.warnings.append(f"only {report.examples} examples: OpenAI requires at least 10")
    report.epochs = epochs or _default_epochs(report.examples)
    report.estimated_training_tokens = report.billed_tokens_per_epoch * report.epochs
    price = TRAINING_PRICE_PER_MILLION.get(model)
    report.estimated_cost_usd = None if price is None else report.estimated_training_tokens * price / 1_000_000
    return report


def _default_epochs(n: int) -> int:
    """OpenAI's published heuristic: 3 epochs, more for tiny sets and fewer for huge ones (bounded 1-25)."""
    if n == 0:
        return 3
    if n * 3 < 100:
        return min(25, -(-100 // n))
    if n * 3 > 25_000:
        return max(1, 25_000 // n)
    return 3


def submit_openai_job(
    path: str | Path,
    model: str = "gpt-4o-mini-2024-07-18",
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    suffix: str | None = None,
    hyperparameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Upload the file and create a fine-tuning job; without a key, return (and print) what would be sent."""
    report = check_openai_jsonl(path, model=model)
    if not report.ok:
        raise DatasetError(f"{path} is not a valid fine-tuning file:\n" + "\n".join(report.errors[:20]))
    request = {
        "model": model,
        "training_file": f"<upload of {Path(path).name}>",
        "suffix": suffix,
        "hyperparameters": hyperparameters or {"n_epochs": report.epochs},
    }
    key = api_key or os.environ.get("OPENAI_API_KEY")
    local = base_url and any(h in base_url for h in ("127.0.0.1", "localhost"))
    if not key and not local:
        plan = {
            "dry_run": True,
            "would_upload": str(path),
            "purpose": "fine-tune",
            "would_create_job": request,
            "estimate": str(report),
            "how": "Set OPENAI_API_KEY (in the environment, never in a notebook cell) and call again.",
        }
        print(json.dumps(plan, indent=2, ensure_ascii=False))
        return plan
    import openai

    client = openai.OpenAI(api_key=key or "not-needed", base_url=base_url)
    try:
        with Path(path).open("rb") as fh:
            uploaded = client.files.create(file=fh, purpose="fine-tune")
        job = client.fine_tuning.jobs.create(
            training_file=uploaded.id, model=model, suffix=suffix, hyperparameters=request["hyperparameters"]
        )
    except openai.APIError as exc:
        raise ModelError(f"Fine-tuning request failed: {exc}", spec=f"openai:{model}") from exc
    return {"dry_run": False, "file_id": uploaded.id, "job_id": job.id, "status": job.status, "model": model}


# ---------------------------------------------------------------------------------------------------------------
# 4. LoRA on the bundled Gemma 3 270M, on a CPU
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class LoRAResult:
    adapter_dir: Path
    losses: list[float]
    seconds: float
    steps: int
    trainable_parameters: int
    total_parameters: int

    @property
    def spec(self) -> str:
        return f"hf:{self.adapter_dir}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["adapter_dir"] = str(self.adapter_dir)
        return data


def lora_finetune(
    examples: Sequence[SFTExample],
    output_dir: str | Path,
    *,
    steps: int = 30,
    learning_rate: float = 2e-4,
    rank: int = 8,
    alpha: int = 16,
    batch_size: int = 4,
    max_length: int = 256,
    seed: int = 0,
    on_step: Callable[[int, float], None] | None = None,
) -> LoRAResult:
    """Train a LoRA adapter on (prompt → completion) pairs; the loss counts completion tokens only."""
    require_finetune_extra()
    if not examples:
        raise DatasetError("No training examples.")
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    base = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    config = LoraConfig(
        r=rank,
        lora_alpha=alpha,
        lora_dropout=0.05,
        task_type="CAUSAL_LM",
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
    )
    model = get_peft_model(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())

    def encode(ex: SFTExample) -> tuple[list[int], list[int]]:
        prompt_ids = tokenizer(ex.prompt_text, add_special_tokens=True)["input_ids"]
        completion_ids = tokenizer(ex.completion, add_special_tokens=False)["input_ids"]
        if tokenizer.eos_token_id is not None:
            completion_ids = [*completion_ids, tokenizer.eos_token_id]  # learn to stop after the answer
        ids = (prompt_ids + completion_ids)[-max_length:]
        labels = ([-100] * len(prompt_ids) + completion_ids)[-max_length:]
        return ids, labels

    encoded = [encode(ex) for ex in examples]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
    rng = random.Random(seed)
    losses: list[float] = []
    model.train()
    start = time.perf_counter()
    for step in range(steps):
        batch = [encoded[rng.randrange(len(encoded))] for _ in range(batch_size)]
        width = max(len(ids) for ids, _ in batch)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
    output = Path(output_dir)
    model.save_pretrained(output)
    (output / "workbench_training.json").write_text(
        json.dumps(
            {
                "steps": steps,
                "learning_rate": learning_rate,
                "rank": rank,
                "alpha": alpha,
                "batch_size": batch_size,
                "examples": len(examples),
                "losses": losses,
            }
        ),
        encoding="utf-8",
    )
    return LoRAResult(output, losses, time.perf_counter() - start, steps, trainable, total)
