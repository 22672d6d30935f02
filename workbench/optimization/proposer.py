"""Instruction rewrites proposed by a model from the train bad cases, in the reflective style of GEPA.

GEPA (Agrawal et al., 2025) improves an instruction by showing a stronger model the current instruction, a few
inputs the system got wrong with what it answered and why that was wrong (the scorers' reasons), and asking it to
reflect and write a better instruction. Here each proposal request is one row of an ordinary run of
:data:`PROPOSER_TEMPLATE` on the ``--proposer`` model (so it is cached, stored with origin ``optimize``, counted
against the budget and resumable); each request shows a different sample of the train bad cases, so the proposals
differ even at temperature 0. Only train rows are ever shown: a proposer never sees dev or held-out rows.

The local 270M base model cannot write instructions; point ``--proposer`` at an instruction-following endpoint
(``openai:MODEL@URL``). ``workbench.testing.fake_openai`` serves canned proposals for tests.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from workbench.prompts import PromptTemplate
from workbench.store import ResultRecord

MARKER = "Write the new instruction"  # the stand-in server recognises proposal requests by it
MAX_INSTRUCTION = 2000
EXAMPLES_PER_PROPOSAL = 6
NO_INSTRUCTION = "(no instruction: the prompt above is all the model sees)"

PROPOSER_TEMPLATE = """---
name: workbench-instruction-proposer
version: 1
description: Asks a model to reflect on a prompt's failures and write a better instruction (GEPA's reflective step).
model:
  api: chat
  parameters: {temperature: 0, max_tokens: 600}
inputs:
  instruction: {description: "the prompt's current instruction (may be empty)"}
  prompt: {description: "the prompt as the model sees it, for one example"}
  examples: {description: "inputs the prompt got wrong, with the answers and why they were wrong"}
  number: {description: "which request this is (each shows other bad cases)"}
  total: {description: "how many requests are made"}
output:
  parser: text
---
system:
You improve the instructions of prompts for language models. You read where a prompt fails and write a better
instruction. You answer with the instruction only, inside one ``` block.

user:
A language model is given prompts built like this one (an example, filled in):
```
{{ prompt }}
```

Its current instruction is:
```
{{ instruction }}
```

Here are inputs where it answered wrongly, each with its answer and feedback on what was wrong:

{{ examples }}

Read the inputs and infer what the task really is and what format the answer must take. Read the answers and the
feedback, and find what the model misunderstands and any facts about the task it needs to know. @MARKER@: a
short, self-contained instruction that would make the model answer every one of these correctly (and others like
them), without mentioning these particular examples. Reply with the instruction inside one ``` block.
(Request {{ number }} of {{ total }}.)
"""


def proposer_template() -> PromptTemplate:
    """The proposer's template, named by its text (``workbench-proposer-HASH``): a later release that rewords it
    gets a new name, never a clash with the version an older run recorded."""
    import hashlib

    from workbench.optimization.edits import renamed

    template = PromptTemplate.from_string(PROPOSER_TEMPLATE.replace("@MARKER@", MARKER))
    digest = hashlib.sha256(template.to_text().encode("utf-8")).hexdigest()[:8]
    return renamed(template, f"workbench-proposer-{digest}")


def proposal_rows(
    original: PromptTemplate,
    instruction: str,
    failures: Sequence[ResultRecord],
    expected: dict[str, Any],
    *,
    n: int,
    seed: int,
) -> list[dict[str, Any]]:
    """One row per proposal request: the current instruction, the prompt for one failure, and a seeded sample of
    up to :data:`EXAMPLES_PER_PROPOSAL` failures (inputs, answer, expected, the scorers' reasons)."""
    if not failures:
        return []
    rng = random.Random(f"workbench-propose|{seed}")
    rows = []
    for i in range(n):
        sample = list(failures)
        rng.shuffle(sample)
        sample = sorted(sample[:EXAMPLES_PER_PROPOSAL], key=lambda r: r.row_id)
        rows.append(
            {
                "id": f"proposal-{i + 1}",
                "number": i + 1,
                "total": n,
                "instruction": instruction or NO_INSTRUCTION,
                "prompt": sample[0].rendered,
                "examples": "\n\n".join(_example(j + 1, r, expected.get(r.row_id)) for j, r in enumerate(sample)),
            }
        )
    return rows


def _example(number: int, record: ResultRecord, expected: Any) -> str:
    inputs = "\n".join(f"{k}: {v}" for k, v in record.inputs.items() if k not in ("id", "expected"))
    reasons = "; ".join(s.get("reason", "") for s in record.scores if s.get("reason")) or (record.error or "")
    return (
        f"### Example {number}\nInputs:\n{inputs}\nModel's answer: {(record.output or '').strip()!r}\n"
        f"Expected: {expected!r}\nFeedback: {reasons or 'wrong answer'}"
    )


_BLOCK = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)


def parse_proposal(text: str | None) -> str | None:
    """The instruction inside the answer's first ``` block (or the whole answer when it has none); ``None`` when
    there is nothing usable (empty, or longer than :data:`MAX_INSTRUCTION` characters)."""
    if not text or not text.strip():
        return None
    match = _BLOCK.search(text)
    instruction = (match.group(1) if match else text).strip()
    if not instruction or len(instruction) > MAX_INSTRUCTION:
        return None
    return instruction
