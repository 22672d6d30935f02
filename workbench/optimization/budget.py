"""What an optimisation will cost, counted before the first call, and the budget it must fit.

The unit is a model call that the cache cannot answer (a cached cell costs nothing and is not counted). Every part
is counted: the train runs the generators learn from, the label-word probe, the proposer's requests, the dev runs of
the original and of each candidate, and the held-out test of the winner against the original.

Parts whose prompts are known before any call (the original on each split, the probe, demonstrations chosen without
a model) are counted exactly against the cache. Parts that depend on answers not yet known (a candidate built from
the train run's bad cases, the proposer's requests, the winner's held-out cells) are counted at their upper bound:
one uncached call per row. So the estimate never undercounts, and a second run of the same optimisation — answered
from the cache — is estimated at what it will really cost wherever that is knowable.

The *minimum* is what the budget must cover for the optimisation to mean anything: the original and one candidate
on dev, and the held-out test. Below it the command refuses (exit 2) before any call; above it, parts that do not
fit are left out (candidates last to first), and the report says which.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

CHARS_PER_TOKEN = 4  # a rough count for the price estimate of an endpoint that bills tokens


@dataclass
class Part:
    """One part of the work: its calls (exact, or an upper bound) and why it is there."""

    phase: str  # train, probe, propose, dev, heldout
    what: str
    calls: int
    exact: bool = True
    cost_usd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "what": self.what,
            "calls": self.calls,
            "exact": self.exact,
            "cost_usd": self.cost_usd,
        }


@dataclass
class Estimate:
    parts: list[Part] = field(default_factory=list)
    minimum: int = 0
    minimum_what: str = ""
    budget: int | None = None

    @property
    def calls(self) -> int:
        return sum(p.calls for p in self.parts)

    @property
    def cost_usd(self) -> float | None:
        costs = [p.cost_usd for p in self.parts if p.calls]
        if not costs or any(c is None for c in costs):
            return None
        return round(sum(c for c in costs if c is not None), 4)

    def covered(self) -> bool:
        return self.budget is None or self.budget >= self.calls

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "cost_usd": self.cost_usd,
            "minimum": self.minimum,
            "budget": self.budget,
            "parts": [p.to_dict() for p in self.parts],
        }

    def __str__(self) -> str:
        bound = "" if all(p.exact for p in self.parts) else " at most"
        cost = f" (≈ ${self.cost_usd:.4f})" if self.cost_usd else ""
        budget = "no --budget" if self.budget is None else f"budget {self.budget}"
        return (
            f"estimated model calls:{bound} {self.calls}{cost}; {budget}; the least that means anything: {self.minimum}"
        )


def uncached(cells: Sequence[Any], hits: dict[str, Any]) -> int:
    """Cells the cache cannot answer."""
    return sum(1 for c in cells if not (c.cacheable and c.cache_key in hits))


def price_of(cells: Sequence[Any], hits: dict[str, Any]) -> float | None:
    """US dollars for the uncached cells at each model's declared price (``None`` when a price is unknown)."""
    total = 0.0
    for cell in cells:
        if cell.cacheable and cell.cache_key in hits:
            continue
        price = cell.model.capabilities.price
        if price is None:
            return None
        from workbench.models.types import prompt_as_text

        tokens_in = math.ceil(len(prompt_as_text(cell.prompt)) / CHARS_PER_TOKEN)
        total += (tokens_in * price[0] + cell.params.max_tokens * price[1]) / 1_000_000
    return round(total, 6)


def per_row_price(cells: Sequence[Any]) -> float | None:
    """The price of one uncached row, on average (for parts counted at their upper bound)."""
    if not cells:
        return 0.0
    total = price_of(cells, {})
    return None if total is None else total / len(cells)
