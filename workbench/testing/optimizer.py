"""A task for testing the optimiser without a real model, served by :class:`~workbench.testing.fake_openai.
FakeOpenAIServer`: rows whose label shows in their text, a model (:func:`rule_responder`) that answers right only
when its prompt carries :data:`RULE`, canned proposals (:data:`PROPOSALS`: one with the rule, one without), and a
model whose every answer is a coin flip (:func:`coin_responder`), on which no prompt is really better than another.
"""

from __future__ import annotations

import zlib

RULE = "Answer great for good things and terrible for bad things."
PROPOSALS = (RULE, "Be concise and helpful.")


def rule_responder(prompt: str) -> str:
    """Right on every row when the prompt carries the rule; otherwise a word that parses as no label."""
    if RULE not in prompt:
        return " meh"
    last = [line for line in prompt.splitlines() if line.startswith("Text:")][-1]
    return " great" if "good" in last else " terrible"


def coin_responder(prompt: str) -> str:
    """A coin flip per prompt (the same prompt, the same answer): no prompt is really better than another."""
    return (" great", " terrible")[zlib.crc32(prompt.encode()) % 2]


def labelled_rows(n: int = 120) -> list[dict]:
    """``n`` rows for ``sentiment_zeroshot_en``: "good thing number i" is positive, "bad thing number i" negative."""
    return [
        {
            "id": f"r{i:03d}",
            "text": f"{'good' if i % 2 else 'bad'} thing number {i}",
            "expected": "positive" if i % 2 else "negative",
        }
        for i in range(n)
    ]
