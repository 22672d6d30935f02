"""OpenAI's chat fine-tuning format: export a set, check a file the way OpenAI's data-preparation guide does
(roles, missing assistant turns, token limits, estimated cost — with line numbers), and submit a job (or, without a
key, say what would be sent)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import DatasetError, ModelError
from workbench.finetune.sft import SFTExample, simple_token_count

OPENAI_ROLES = {"system", "user", "assistant", "tool"}
OPENAI_MESSAGE_KEYS = {"role", "content", "name", "weight", "function_call", "tool_calls", "tool_call_id"}
DEFAULT_TOKEN_LIMIT = 65_536
TRAINING_PRICE_PER_MILLION = {
    "gpt-4o-mini-2024-07-18": 3.00,
    "gpt-4o-2024-08-06": 25.00,
    "gpt-4.1-mini-2025-04-14": 5.00,
}


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
