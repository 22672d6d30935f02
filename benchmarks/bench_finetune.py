"""LoRA on the bundled Gemma 3 270M, on the CPU: training time, loss, and held-out accuracy against the untuned
model (``hf:base``, the same weights through the same engine) measured in the same run.

The task is the zero-shot cloze (``sentiment_zeroshot_en`` / ``_zh``), trained on the 24 rows of
``datasets/sentiment_{en,zh}.csv`` for 20 steps of batch 4 and held out on reviews it never saw
(``datasets/reviews_{en,zh}_test.csv``): the first 12 (03_finetune's CI profile, whose gate this measures), 24, and
100 (its nightly profile; enough for the paired significance test to be decisive). The first run converts the GGUF for
transformers (cached in ~/.cache/workbench/hf; reported).
Usage: python benchmarks/bench_finetune.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import workbench as wb
from workbench.compare import paired, wilson_interval
from workbench.course.evidence import Figure, proportion, write_figures
from workbench.datasets import load_dataset
from workbench.finetune import build_sft_set, lora_finetune
from workbench.models.hf import base_model_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sections import Section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).name
SETTINGS = [  # (language, steps, batch, learning rate, held-out rows) — 12 is notebooks/profiles.yaml's `ci`
    ("en", 20, 4, 3e-4, 12),
    ("zh", 20, 4, 3e-4, 12),
    ("en", 20, 4, 3e-4, 24),
    ("zh", 20, 4, 3e-4, 24),
    ("en", 20, 4, 3e-4, 100),
    ("zh", 20, 4, 3e-4, 100),
]


def rate(records: list) -> str:
    judged = [r for r in records if r.passed is not None]
    passed = sum(bool(r.passed) for r in judged)
    ci = wilson_interval(passed, len(judged))
    return f"{passed}/{len(judged)} [{ci[0]:.0%}–{ci[1]:.0%}]"


def _held_out(lang: str, engine: str, records: list, train: int, steps: int, batch: int) -> Figure:
    judged = [r for r in records if r.passed is not None]
    passed = sum(bool(r.passed) for r in judged)
    tuned = f"LoRA rank 8, {steps} steps × {batch} on {train} rows" if engine == "lora" else "untuned (hf:base)"
    dataset = f"datasets/reviews_{lang}_test.csv"
    what = f"{tuned}, greedy: sentiment_zeroshot_{lang} on the first {len(judged)} of {dataset}"
    ids = [r.row_id for r in judged]
    figure_id = f"finetune/{lang}/{engine}/{len(judged)}"
    return proportion(figure_id, what, passed, len(judged), script=SCRIPT, dataset=dataset, row_ids=ids)


def main() -> None:
    out = Section("bench_finetune", "Fine-tuning: LoRA on the local model", "python benchmarks/bench_finetune.py")
    start = time.perf_counter()
    base_model_dir()
    out(
        "LoRA rank 8 on q/k/v/o on the zero-shot cloze (`sentiment_zeroshot_en/zh`), trained on the 24 bundled rows; "
        "the baseline is the untuned weights through the same engine (`hf:base`) on the same held-out reviews, with "
        "the paired exact McNemar test. The first 12 held-out rows are 03_finetune's CI profile; the 100-row figures "
        "its nightly profile's. Each setting is trained here (never reused from the cache). The GGUF → transformers "
        f"checkpoint was ready after {time.perf_counter() - start:.1f} s (cached after the first conversion).\n"
    )
    store = Path(tempfile.mkdtemp()) / "finetune.db"
    out(
        "| language | train / held out | steps × batch | training | s/step | loss first → last | held-out base | "
        "held-out LoRA | paired verdict |\n|---|---|---|---|---|---|---|---|---|"
    )
    figures: list[Figure] = []
    for lang, steps, batch, lr, held_out in SETTINGS:
        zero_shot = wb.load_prompt(f"sentiment_zeroshot_{lang}")
        train = build_sft_set(zero_shot, [dict(r) for r in load_dataset(ROOT / f"datasets/sentiment_{lang}.csv").rows])
        test_rows = [dict(r) for r in load_dataset(ROOT / f"datasets/reviews_{lang}_test.csv").rows][:held_out]
        before = wb.run(zero_shot, test_rows, ["hf:base"], store=store, progress=False)
        result = lora_finetune(
            train,
            Path(tempfile.mkdtemp()) / "adapter",
            steps=steps,
            learning_rate=lr,
            rank=8,
            batch_size=batch,
            reuse=False,
        )
        after = wb.run(zero_shot, test_rows, [result.spec], store=store, progress=False)
        verdict = paired(before.records, after.records, "base", "LoRA")
        losses = f"{result.losses[0]:.2f} → {result.losses[-1]:.3f}"
        for engine, records in (("base", before.records), ("lora", after.records)):
            figures.append(_held_out(lang, engine, records, len(train), steps, batch))
        out(
            f"| {lang} | {len(train)} / {len(test_rows)} | {steps} × {batch} | {result.seconds:.0f} s | "
            f"{result.seconds / steps:.1f} | {losses} | {rate(before.records)} | {rate(after.records)} | "
            f"{verdict.verdict} (p = {verdict.p_value:.3g}) |"
        )
    write_figures(figures)
    out()
    out(
        f"{result.trainable_parameters:,} trainable parameters of {result.total_parameters:,} "
        f"({100 * result.trainable_parameters / result.total_parameters:.2f}%), rank 8 on q/k/v/o"
    )
    out.save()


if __name__ == "__main__":
    main()
