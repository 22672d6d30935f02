"""Identity of what a run compares: a prompt version, a column (prompt version × model) and a cell.

A result belongs to a *column* — ``PROMPT@vN/MODEL_SPEC``, e.g. ``sentiment_cloze_en@v2/local`` — a dataset row
(``row_id``) and a repeat. Comparisons, flips, summaries, exports and the bad-case tracker all key on these
types, so nothing collapses two columns into one, and the ``name@vN`` spelling lives in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench.errors import ConfigError

_REF = re.compile(r"^(?P<name>[^@/|]+)@v?(?P<version>\d+)$")


@dataclass(frozen=True, order=True)
class PromptRef:
    """A prompt version: ``name@vN``."""

    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name}@v{self.version}"

    @classmethod
    def parse(cls, text: str) -> PromptRef:
        match = _REF.match(text.strip())
        if not match:
            raise ConfigError(f"{text!r} is not a prompt version: write NAME@vN, e.g. sentiment_cloze_en@v2.")
        return cls(match["name"], int(match["version"]))


@dataclass(frozen=True, order=True)
class Column:
    """One prompt version on one model: ``name@vN/spec``."""

    prompt: str
    version: int
    model: str

    @property
    def ref(self) -> PromptRef:
        return PromptRef(self.prompt, self.version)

    def __str__(self) -> str:
        return f"{self.ref}/{self.model}"

    @classmethod
    def parse(cls, text: str) -> Column:
        """``name@vN/spec`` (the spec may itself contain ``/``, e.g. a URL)."""
        head, sep, model = text.strip().partition("/")
        if not sep or not model:
            raise ConfigError(f"{text!r} is not a column: write PROMPT@vN/MODEL, e.g. sentiment_cloze_en@v2/local.")
        ref = PromptRef.parse(head)
        return cls(ref.name, ref.version, model)


@dataclass(frozen=True, order=True)
class CellKey:
    """One cell of a run: a column, a dataset row and a repeat. ``str()`` is the store's ``cell_key``."""

    column: Column
    row_id: str
    repeat: int = 0

    def __str__(self) -> str:
        return f"{self.column.ref}|{self.column.model}|{self.row_id}|{self.repeat}"

    @classmethod
    def parse(cls, text: str) -> CellKey:
        ref, model, rest = text.split("|", 2)
        row_id, _, repeat = rest.rpartition("|")
        prompt = PromptRef.parse(ref)
        return cls(Column(prompt.name, prompt.version, model), row_id, int(repeat))


def column_of(record: object) -> Column:
    """The column of anything with ``prompt``, ``version`` and ``model`` (a result record, a bad case)."""
    return Column(record.prompt, int(record.version), record.model)  # type: ignore[attr-defined]
