"""The decision rule, on its own so that a simulation can test exactly the code the optimiser runs.

1. **Ranking** (dev): the winner is the candidate with the most dev rows passed; ties go to the earlier candidate.
   A winner must pass more dev rows than the original does — otherwise nothing is tested and the held-out rows are
   not spent.
2. **Acceptance** (held-out): the winner is accepted only if the exact McNemar test on the held-out rows, winner
   against original, says "better" at α (:func:`workbench.stats.paired_verdict`, the rule every comparison in the
   workbench uses). One comparison of two prompts on rows neither was chosen on: no correction for the number of
   candidates is needed, and the chance of accepting a candidate that is really no better stays at most α.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.stats import ALPHA, paired_verdict


def select_winner(original_passed: int, candidates_passed: Sequence[int | None]) -> int | None:
    """Index of the dev winner (most rows passed, earliest on ties), or ``None`` when none beats the original."""
    best: int | None = None
    for i, passed in enumerate(candidates_passed):
        if passed is not None and (best is None or passed > candidates_passed[best]):  # type: ignore[operator]
            best = i
    if best is None or candidates_passed[best] is None or candidates_passed[best] <= original_passed:  # type: ignore[operator]
        return None
    return best


def accept(a_only: int, b_only: int, alpha: float = ALPHA) -> bool:
    """Accept the winner (B) over the original (A) from their held-out discordant pairs: ``a_only`` rows pass only
    with the original, ``b_only`` only with the winner."""
    return paired_verdict(a_only, b_only, alpha)[1] == "better"
