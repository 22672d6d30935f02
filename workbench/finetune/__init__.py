"""Fine-tuning: build and check a supervised set, export it for OpenAI, and LoRA-tune the bundled model on a CPU.

Optional extra ``[finetune]`` (torch CPU build, transformers, peft, gguf). Stages:

1. :func:`build_sft_set` — a prompt template × a dataset (or exported bad cases) → (rendered prompt, completion).
   For label templates the completion is the label's first verbaliser word (``negative`` → ``terrible``).
2. :func:`validate_sft_set` — empty fields, duplicates, over-long examples, token counts, each with its row.
3. :func:`export_openai_jsonl` / :func:`check_openai_jsonl` — OpenAI's chat fine-tuning format, checked with line
   numbers; :func:`submit_openai_job` uploads and starts a job, or, without a key, explains what it would send.
4. :func:`lora_finetune` — LoRA with peft on Gemma 3 270M; the adapter loads back as the ``hf:PATH`` model.
"""

from workbench.finetune.lora import LoRAResult, lora_finetune
from workbench.finetune.openai_jobs import FormatReport, check_openai_jsonl, export_openai_jsonl, submit_openai_job
from workbench.finetune.sft import (
    SFTExample,
    SFTReport,
    build_sft_set,
    completion_for,
    simple_token_count,
    split_examples,
    validate_sft_set,
)

__all__ = [
    "FormatReport",
    "LoRAResult",
    "SFTExample",
    "SFTReport",
    "build_sft_set",
    "check_openai_jsonl",
    "completion_for",
    "export_openai_jsonl",
    "lora_finetune",
    "simple_token_count",
    "split_examples",
    "submit_openai_job",
    "validate_sft_set",
]
