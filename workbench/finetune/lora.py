"""LoRA with peft on the bundled Gemma 3 270M, on a CPU: transformers reads the bundled GGUF (the converted model is
cached, so only the first load pays the conversion); the adapter is saved and loads back as the ``hf:PATH`` model."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.errors import DatasetError
from workbench.finetune.sft import SFTExample
from workbench.models.hf import base_model_dir, require_finetune_extra


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

    torch.manual_seed(seed)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    model, tokenizer = _peft_model(rank, alpha)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    encoded = [_encode(tokenizer, ex, max_length) for ex in examples]
    start = time.perf_counter()
    losses = _train(model, tokenizer, encoded, steps, batch_size, learning_rate, seed, on_step)
    output = Path(output_dir)
    model.save_pretrained(output)
    settings = {"steps": steps, "learning_rate": learning_rate, "rank": rank, "alpha": alpha}
    settings.update(batch_size=batch_size, examples=len(examples), losses=losses)
    (output / "workbench_training.json").write_text(json.dumps(settings), encoding="utf-8")
    return LoRAResult(output, losses, time.perf_counter() - start, steps, trainable, total)


def _peft_model(rank: int, alpha: int) -> tuple[Any, Any]:
    """The cached base checkpoint with LoRA adapters on its attention projections; its tokenizer."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

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
    return get_peft_model(model, config), tokenizer


def _encode(tokenizer: Any, example: SFTExample, max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels: the prompt's labels are -100, so only the completion (and its end) is learned."""
    prompt_ids = tokenizer(example.prompt_text, add_special_tokens=True)["input_ids"]
    completion_ids = tokenizer(example.completion, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None:
        completion_ids = [*completion_ids, tokenizer.eos_token_id]  # learn to stop after the answer
    ids = (prompt_ids + completion_ids)[-max_length:]
    labels = ([-100] * len(prompt_ids) + completion_ids)[-max_length:]
    return ids, labels


def _train(
    model: Any,
    tokenizer: Any,
    encoded: list[tuple[list[int], list[int]]],
    steps: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    on_step: Callable[[int, float], None] | None,
) -> list[float]:
    import torch

    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
    rng = random.Random(seed)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    losses: list[float] = []
    model.train()
    for step in range(steps):
        batch = [encoded[rng.randrange(len(encoded))] for _ in range(batch_size)]
        width = max(len(ids) for ids, _ in batch)
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
    return losses
