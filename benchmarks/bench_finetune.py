"""LoRA on the bundled Gemma 3 270M, on the CPU: training time, loss, and held-out accuracy against the untuned
model (``hf:base``, the same weights through the same engine) measured in the same run.

The task is the zero-shot cloze ``Text: … / Overall, it was``, trained on ``datasets/sentiment_en.csv``. Two
settings: the notebook's CI profile (03_finetune: its rows split into training and held-out ones, seed 0) and 20
steps on all 24 rows, held out on 100 reviews it never saw (``datasets/reviews_en_test.csv``), with the paired
significance test. The first run converts the GGUF for transformers (cached in ~/.cache/workbench/hf; reported).
Usage: python benchmarks/bench_finetune.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import workbench as wb
from workbench.compare import paired, wilson_interval
from workbench.datasets import load_dataset
from workbench.finetune import build_sft_set, lora_finetune, split_examples
from workbench.models.hf import base_model_dir

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = [  # (name, steps, batch, learning rate, held-out) — the first is notebooks/profiles.yaml's `ci`; the
    # second trains on all 24 bundled rows and holds out 100 reviews the prompt never saw, enough to test the gain
    ("notebook CI profile", 12, 2, 3e-4, 0.34),
    ("20 steps, held out: 100 reviews", 20, 4, 3e-4, "datasets/reviews_en_test.csv"),
]


def rate(records: list) -> str:
    judged = [r for r in records if r.passed is not None]
    passed = sum(bool(r.passed) for r in judged)
    ci = wilson_interval(passed, len(judged))
    return f"{passed}/{len(judged)} [{ci[0]:.0%}–{ci[1]:.0%}]"


def main() -> None:
    start = time.perf_counter()
    base_model_dir()
    print(f"# bench_finetune — GGUF → transformers checkpoint ready after {time.perf_counter() - start:.1f} s "
          "(cached after the first conversion)\n")  # fmt: skip
    template = wb.load_prompt("sentiment_cloze_en")
    zero_shot = template.with_changes(body="Text: {{ text }}\nOverall, it was", version=100)
    rows = [dict(r) for r in load_dataset(ROOT / "datasets/sentiment_en.csv").rows]
    examples = build_sft_set(zero_shot, rows)
    store = Path(tempfile.mkdtemp()) / "finetune.db"
    print("| setting | train / held out | steps × batch | training | s/step | loss first → last | held-out base | "
          "held-out LoRA | paired verdict |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for name, steps, batch, lr, held_out in SETTINGS:
        if isinstance(held_out, str):
            train, test_rows = examples, [dict(r) for r in load_dataset(ROOT / held_out).rows]
        else:
            train, test = split_examples(examples, test_fraction=held_out, seed=0)
            test_rows = [rows[e.row] for e in test]
        before = wb.run(zero_shot, test_rows, ["hf:base"], store=store, progress=False)
        result = lora_finetune(train, Path(tempfile.mkdtemp()) / "adapter", steps=steps, learning_rate=lr, rank=8,
                               batch_size=batch)  # fmt: skip
        after = wb.run(zero_shot, test_rows, [result.spec], store=store, progress=False)
        verdict = paired(before.records, after.records, "base", "LoRA")
        losses = f"{result.losses[0]:.2f} → {result.losses[-1]:.3f}"
        print(f"| {name} | {len(train)} / {len(test_rows)} | {steps} × {batch} | {result.seconds:.0f} s | "
              f"{result.seconds / steps:.1f} | {losses} | {rate(before.records)} | {rate(after.records)} | "
              f"{verdict.verdict} (p = {verdict.p_value:.3g}) |")  # fmt: skip
    print(f"\n{result.trainable_parameters:,} trainable parameters of {result.total_parameters:,} "
          f"({100 * result.trainable_parameters / result.total_parameters:.2f}%), rank 8 on q/k/v/o")  # fmt: skip


if __name__ == "__main__":
    main()
