"""What decides an optimisation besides the prompt, the data and the model — checked together, before any call —
and the id that names it (the same id means the same optimisation: it resumes, and replays from the cache)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.datasets import Dataset, load_dataset
from workbench.errors import ConfigError, DatasetError
from workbench.optimization.candidates import DEMO_KINDS, GENERATORS
from workbench.optimization.splits import FRACTIONS, TARGET_GAIN, SplitPlan
from workbench.stats import ALPHA


@dataclass(frozen=True)
class Settings:
    budget: int | None = None
    seed: int = 0
    proposer: str | None = None
    generators: tuple[str, ...] = ()
    shots: int = 4
    proposals: int = 3
    fractions: Mapping[str, float] = field(default_factory=lambda: dict(FRACTIONS))
    target_gain: float = TARGET_GAIN
    alpha: float = ALPHA
    given: tuple[str, ...] = ()  # the texts of candidates the caller wrote (ranked and tested like the rest)

    def wants(self, kind: str) -> bool:
        """Whether a generator (``labels``) or a demonstration kind (``demos:random``) is chosen."""
        return kind in self.generators or (kind.startswith("demos:") and "demos" in self.generators)

    def problems(self) -> list[str]:
        found = SplitPlan(self.fractions, self.target_gain, self.alpha).problems()
        if self.budget is not None and (not isinstance(self.budget, int) or self.budget < 1):
            found.append(f"budget {self.budget!r}: a whole number of model calls ≥ 1 (or none: no limit)")
        if not isinstance(self.shots, int) or not 1 <= self.shots <= 16:
            found.append(f"shots {self.shots!r}: demonstrations per candidate, 1–16")
        if not isinstance(self.proposals, int) or not 1 <= self.proposals <= 20:
            found.append(f"proposals {self.proposals!r}: instructions to ask the proposer for, 1–20")
        unknown = [g for g in self.generators if g not in GENERATORS + DEMO_KINDS]
        if unknown:
            found.append(f"generators {', '.join(unknown)}: use {', '.join(GENERATORS + DEMO_KINDS)}")
        if "instructions" in self.generators and not self.proposer:
            found.append("generator 'instructions' needs --proposer SPEC (an endpoint that writes instructions)")
        if not self.generators and not self.given:
            found.append("no generator and no candidate: name generators, or pass candidates=[...]")
        return found

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError("Nothing was run: " + "; ".join(problems) + ".")

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "fractions": dict(self.fractions)}


def default_generators(generators: Sequence[str] | None, candidates: Sequence[Any], proposer: str | None) -> tuple:
    """The generators asked for; by default all that run offline (and instructions with a proposer) — none when
    the caller brings candidates of their own and names no generator."""
    if generators is not None:
        return tuple(generators)
    if candidates:
        return ()
    return ("demos", "labels", *(("instructions",) if proposer else ()))


def optimization_id(original: Any, model: Any, data: Dataset, settings: Settings, proposer: Any) -> str:
    """12 hex digits naming everything that decides the optimisation (the prompt's text, the model's weights or
    endpoint, the rows, every setting, the proposer)."""
    identity = {
        "prompt": original.content_hash,
        "model": model.identity(),
        "data": data.content_hash,
        "settings": settings.to_dict(),
        "proposer": proposer.identity() if proposer is not None else None,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:12]


def load_rows(dataset: Any, template: Any, id_column: str) -> Dataset:
    """One dataset from a file, several files (their rows together, ids unique across them), rows or a DataFrame —
    the template's own dataset when none is given."""
    files = isinstance(dataset, list | tuple) and bool(dataset) and all(isinstance(d, str | Path) for d in dataset)
    if not files:
        source = dataset if dataset is not None else template.dataset
        if source is None:
            raise DatasetError(f"Prompt {template.ref} names no dataset: pass one (--dataset FILE).")
        data = load_dataset(source).with_id_column(id_column)
    else:
        parts = [load_dataset(s).with_id_column(id_column) for s in dataset]
        data = parts[0]
        if len(parts) > 1:
            data = Dataset(
                tuple(row for p in parts for row in p.rows),
                name="+".join(p.name for p in parts),
                source=" + ".join(p.source or p.name for p in parts),
                columns=tuple(dict.fromkeys(c for p in parts for c in p.columns)),
                id_column=id_column,
            )
    data.check_unique_ids()
    return data


def given_text(original: Any, candidate: Any) -> str:
    """A caller's candidate as file text under the original's name (a template, a .prompty path, or file text)."""
    from workbench.optimization.edits import renamed
    from workbench.prompts import PromptTemplate, load_prompt

    if isinstance(candidate, str) and candidate.lstrip().startswith("---"):
        candidate = PromptTemplate.from_string(candidate)
    template = load_prompt(candidate)
    if template.name != original.name:
        template = renamed(template, original.name)
    return template.with_changes(version=original.version).to_text()
