"""Is an output an answer, or a copy of what the model was given?

A small base model often repeats its prompt: the instructions, the retrieved context, the question. Scorers that
look for something *in* the output (``contains``, ``regex``, ``numeric``, ``similarity``, ``faithfulness``) would
then pass a copy of a context that happens to hold the expected words — a non-answer counted as right. So those
scorers ask :func:`find_echo` first and fail an echo, saying so in the reason.

What counts as an echo (measured on text with case and runs of white space normalised):

- the template's own words: a verbatim stretch of the template's literal text (its instructions, its markers) of
  at least :data:`MIN_COPY` characters, or most of a shorter literal segment;
- a value the row gave the prompt (an input, the retrieved context): most of a long value copied verbatim
  (:data:`VALUE_SHARE`), or an output that is little more than a short value (the question, the text to
  translate) repeated.

An extractive answer that quotes one sentence of a three-chunk context is not an echo: it copies a small share of
the context. What an echo is not judged on: label, equality and JSON scorers, which an echo cannot pass unless it
is the expected answer itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

MIN_COPY = 30  # characters of the template's own text copied verbatim that make an output an echo
MIN_SEGMENT = 20  # literal segments shorter than this (markers such as "Question: ") are not checked alone
VALUE_SHARE = 0.6  # share of a long value copied verbatim that makes an output an echo of it
LONG_VALUE = 60  # a value at least this long is "long"
MIN_BLOCK = 12  # copied stretches shorter than this are coincidences, not copies
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Echo:
    """What the output repeats, and how much of it."""

    source: str  # "the prompt's instructions", "the context", ...
    share: float  # of the source (or of the segment) that the output repeats
    sample: str  # a piece of the copied text, for the reason

    def reason(self) -> str:
        return (
            f"the output repeats {self.source} ({self.share:.0%} of it, e.g. {self.sample!r}): an echo of the prompt "
            "is not an answer"
        )


def normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def _copied(output: str, source: str) -> tuple[int, str]:
    """Characters of ``source`` found verbatim in ``output`` in stretches of at least MIN_BLOCK, and the longest."""
    matcher = SequenceMatcher(None, source, output, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= MIN_BLOCK]
    longest = max(blocks, key=lambda b: b.size, default=None)
    return sum(b.size for b in blocks), source[longest.a : longest.a + longest.size] if longest else ""


def find_echo(output: str, template_text: Iterable[str] = (), values: Mapping[str, Any] | None = None) -> Echo | None:
    """The echo ``output`` is, if it is one: of the template's literal text, or of one of the row's values."""
    said = normal(output)
    if len(said) < MIN_BLOCK:
        return None
    for segment in (normal(s) for s in template_text):
        if len(segment) < MIN_SEGMENT:
            continue
        copied, sample = _copied(said, segment)
        longest = len(sample)
        if longest >= min(MIN_COPY, int(0.8 * len(segment))):
            return Echo("the prompt's own instructions", copied / len(segment), _clip(sample))
    for name, value in (values or {}).items():
        text = normal(value) if isinstance(value, str) else ""
        if len(text) < MIN_BLOCK:
            continue
        copied, sample = _copied(said, text)
        if len(text) >= LONG_VALUE and copied / len(text) >= VALUE_SHARE:
            return Echo(f"the {name!r} it was given", copied / len(text), _clip(sample))
        if copied / len(text) >= 0.9 and copied / len(said) >= 0.8:
            return Echo(f"the {name!r} it was given", copied / len(text), _clip(sample))
    return None


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
