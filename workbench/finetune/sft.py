"""Building and validating a supervised fine-tuning set: a prompt template × a dataset (or exported bad cases) →
(rendered prompt, completion), with every problem named by its row."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench.datasets import load_dataset, public_fields
from workbench.errors import DatasetError
from workbench.models.types import ChatMessage, PromptInput
from workbench.parsers import LabelParser
from workbench.prompts import PromptTemplate, load_prompt


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
