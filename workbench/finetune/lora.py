"""LoRA with peft on the bundled Gemma 3 270M, on a CPU: transformers reads the bundled GGUF (the converted model is
cached, so only the first load pays the conversion); the adapter is saved and loads back as the ``hf:PATH`` model.

Training is deterministic for a given seed on the CPU, so an adapter trained once on exactly the same inputs — the
examples, every setting, the base weights and the library versions — is reused from the cache instead of trained
again (``reuse=True``, the default): a notebook re-run by nbval, a class re-running a cell, a test. The result says
so (``reused``) and replays the recorded losses to ``on_step``.
"""

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
    seconds: float  # of training (for a reused adapter: the training that made it)
    steps: int
    trainable_parameters: int
    total_parameters: int
    reused: bool = False  # the adapter came from the cache: trained before on exactly these inputs

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
    reuse: bool = True,
) -> LoRAResult:
    """Train a LoRA adapter on (prompt → completion) pairs; the loss counts completion tokens only. With ``reuse``,
    an adapter trained before on exactly these inputs is copied from the cache instead (see the module docstring)."""
    require_finetune_extra()
    if not examples:
        raise DatasetError("No training examples.")
    settings = {"steps": steps, "learning_rate": learning_rate, "rank": rank, "alpha": alpha}
    settings.update(batch_size=batch_size, max_length=max_length, seed=seed)
    cached = _cache_dir(examples, settings)  # kept after training either way; read only with `reuse`
    if reuse and (cached / "workbench_training.json").exists():
        return _reused(cached, Path(output_dir), on_step)
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    model, tokenizer = _peft_model(rank, alpha)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    encoded = [_encode(tokenizer, ex, max_length) for ex in examples]
    start = time.perf_counter()
    losses = _train(model, tokenizer, encoded, steps, batch_size, learning_rate, seed, on_step)
    seconds = time.perf_counter() - start
    output = Path(output_dir)
    model.save_pretrained(output)
    record = {**settings, "examples": len(examples), "losses": losses, "seconds": seconds}
    record.update(trainable_parameters=trainable, total_parameters=total)
    (output / "workbench_training.json").write_text(json.dumps(record), encoding="utf-8")
    _store(output, cached)
    return LoRAResult(output, losses, seconds, steps, trainable, total)


def _cache_dir(examples: Sequence[SFTExample], settings: dict[str, Any]) -> Path:
    """Where the adapter for exactly these inputs is kept: a hash of the examples, the settings, the base weights'
    identity and the versions of torch, transformers and peft."""
    import hashlib
    from importlib.metadata import version

    from workbench.models.local import model_cache_dir
    from workbench.models.weights import folder_sha256

    payload = {
        "examples": [[ex.prompt_text, ex.completion] for ex in examples],
        "settings": settings,
        "base": folder_sha256(base_model_dir()),
        "versions": [version(name) for name in ("torch", "transformers", "peft")],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]
    return model_cache_dir().parent / "lora" / digest


def _store(output: Path, cached: Path) -> None:
    import shutil

    partial = cached.with_name(cached.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(output, partial)
    shutil.rmtree(cached, ignore_errors=True)
    partial.replace(cached)


def _reused(cached: Path, output: Path, on_step: Callable[[int, float], None] | None) -> LoRAResult:
    import shutil

    record = json.loads((cached / "workbench_training.json").read_text(encoding="utf-8"))
    shutil.copytree(cached, output, dirs_exist_ok=True)
    losses = [float(loss) for loss in record["losses"]]
    for step, loss in enumerate(losses):
        if on_step is not None:
            on_step(step, loss)
    return LoRAResult(
        output,
        losses,
        float(record.get("seconds", 0.0)),
        int(record["steps"]),
        int(record["trainable_parameters"]),
        int(record["total_parameters"]),
        reused=True,
    )


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
        loss = _completion_loss(model, input_ids, mask, labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])
    return losses


def _completion_loss(model: Any, input_ids: Any, mask: Any, labels: Any) -> Any:
    """The mean cross-entropy of the completion tokens, with logits computed only where a completion token is
    predicted. The loss counts nothing else, and the vocabulary projection (262k × 640 for Gemma 3 270M) over every
    prompt position was a quarter of each step: 20 steps took 8.7 s so, 11.7 s with ``labels=`` (the same losses to
    4 decimals; the mean over the kept tokens is what transformers' causal-LM loss computes)."""
    import torch

    targets = labels[:, 1:]  # position t predicts token t + 1
    positions = torch.nonzero((targets != -100).any(dim=0)).flatten()
    logits = model(input_ids=input_ids, attention_mask=mask, logits_to_keep=positions).logits
    flat = logits.float().reshape(-1, logits.shape[-1])
    return torch.nn.functional.cross_entropy(flat, targets[:, positions].reshape(-1), ignore_index=-100)
