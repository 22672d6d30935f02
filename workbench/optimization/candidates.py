"""A candidate: one readable edit of the original template, from one generator, and what it needs to run.

Every candidate keeps two forms of the same text: ``edit`` has the original's name, version and file (what
``PromptLibrary.save`` writes as the next version, and what the diff compares), and ``runnable`` has a
content-addressed name (``NAME.opt-HASH``) so its runs never clash with the original's versions in the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.datasets import Dataset, public_fields
from workbench.optimization.edits import candidate_name, renamed
from workbench.parsers import ChoiceParser, LabelParser
from workbench.prompts import PromptTemplate, diff_templates

GENERATORS = ("demos", "labels", "instructions")
DEMO_KINDS = ("demos:random", "demos:nearest", "demos:bootstrapped")  # "demos" is all three


@dataclass(frozen=True)
class Candidate:
    generator: str  # "demos:random", "labels:top-3", "instructions:2", ...
    description: str  # one line a person reads in the report
    edit: PromptTemplate
    runnable: PromptTemplate

    @classmethod
    def of(cls, original: PromptTemplate, generator: str, description: str, edit: PromptTemplate) -> Candidate:
        return cls(generator, description, edit, renamed(edit, candidate_name(original, edit)))

    @property
    def name(self) -> str:
        return self.runnable.name

    def diff(self, original: PromptTemplate) -> str:
        return diff_templates(original, self.edit)


def unique(candidates: Sequence[Candidate], original: PromptTemplate) -> list[Candidate]:
    """Candidates with distinct texts, none equal to the original (a generator may repeat another's edit)."""
    seen = {original.to_text()}
    out = []
    for candidate in candidates:
        text = candidate.edit.to_text()
        if text not in seen:
            seen.add(text)
            out.append(candidate)
    return out


def label_parser(template: PromptTemplate) -> LabelParser | None:
    """The template's label parser, when it classifies into fixed labels (not multiple choice)."""
    parser = template.parser
    return parser if isinstance(parser, LabelParser) and not isinstance(parser, ChoiceParser) else None


def expected_column(template: PromptTemplate, scorers: Sequence[Any]) -> str | None:
    """The column the scorers read the expected answer from (``expected`` unless an assertion says otherwise)."""
    for scorer in scorers:
        column = getattr(scorer, "column", None)
        if isinstance(column, str):
            return column
    return None


def row_inputs(row: Mapping[str, Any]) -> dict[str, Any]:
    return public_fields(row)


def row_text(template: PromptTemplate, row: Mapping[str, Any]) -> str:
    """What a row says, for embeddings: its values of the template's variables."""
    return "\n".join(str(row.get(v, "")) for v in template.required_variables)


def rows_by_id(data: Dataset) -> dict[str, dict[str, Any]]:
    return {data.row_id(i): data.rows[i] for i in range(len(data))}
