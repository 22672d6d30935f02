"""The statistics behind every number the workbench reports, in plain Python (no scipy import on the hot path:
a run's summary prints in milliseconds). ``tests/test_stats.py`` checks each against scipy and statsmodels.

- :func:`wilson_interval`: the Wilson score interval of a pass rate (what scipy's ``binomtest(...).proportion_ci(
  method="wilson")`` gives).
- :func:`binom_test`: the exact binomial test (scipy's ``binomtest`` p-value, two-sided by likelihood).
- :func:`mcnemar_exact`: the exact McNemar test of paired verdicts: a binomial test of the discordant pairs.
- :func:`min_detectable_difference`: the smallest difference n paired rows can show to be real.
- :func:`pass_at_k`: the unbiased pass@k estimator (Chen et al., 2021); :func:`verdict_of`: a row's majority.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

from workbench.errors import ConfigError

ALPHA = 0.05


def wilson_interval(passed: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of ``passed``/``n`` (``None`` without any judged row), rounded to 4 places."""
    if n <= 0:
        return None
    if not 0 <= passed <= n:
        raise ConfigError(f"passed={passed} is not between 0 and n={n}.")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = passed / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (round(max(0.0, center - half), 4), round(min(1.0, center + half), 4))


def _log_pmf(k: int, n: int, p: float) -> float:
    if p in (0.0, 1.0):
        return 0.0 if k == (n if p == 1.0 else 0) else -math.inf
    log_comb = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    return log_comb + k * math.log(p) + (n - k) * math.log1p(-p)


def binom_test(k: int, n: int, p: float = 0.5, alternative: str = "two-sided") -> float:
    """The exact binomial test's p-value for ``k`` successes in ``n`` trials against probability ``p``.

    Two-sided: the total probability of every outcome no more likely than ``k`` (scipy's definition).
    """
    if n < 0 or not 0 <= k <= n or not 0 <= p <= 1:
        raise ConfigError(f"binom_test needs 0 <= k <= n and 0 <= p <= 1 (got k={k}, n={n}, p={p}).")
    pmf = [math.exp(_log_pmf(i, n, p)) for i in range(n + 1)]
    if alternative == "greater":
        return min(1.0, math.fsum(pmf[k:]))
    if alternative == "less":
        return min(1.0, math.fsum(pmf[: k + 1]))
    if alternative != "two-sided":
        raise ConfigError(f"alternative={alternative!r}: use two-sided, greater or less.")
    if k == p * n:
        return 1.0
    limit = pmf[k] * (1 + 1e-7)
    return min(1.0, math.fsum(x for x in pmf if x <= limit))


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Exact two-sided McNemar p-value: a binomial test of the discordant pairs against 50/50."""
    if a_only + b_only == 0:
        return 1.0
    return binom_test(min(a_only, b_only), a_only + b_only, 0.5)


def min_discordant(alpha: float = ALPHA) -> int:
    """The fewest discordant pairs, all one way, that can reach significance (6 at α = 0.05)."""
    d = 1
    while mcnemar_exact(0, d) >= alpha:
        d += 1
    return d


def min_detectable_difference(n: int, alpha: float = ALPHA) -> float | None:
    """The smallest difference in pass rate that ``n`` paired rows can show to be real (all flips one way),
    capped at 1.0: below :func:`min_discordant` rows, not even a 100-point difference would be significant."""
    return None if n <= 0 else round(min(1.0, min_discordant(alpha) / n), 4)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` passed: 1 - C(n-c, k) / C(n, k)."""
    if not 0 <= c <= n or k < 1:
        raise ConfigError(f"pass@k needs 0 <= c <= n and k >= 1 (got n={n}, c={c}, k={k}).")
    if k > n:
        raise ConfigError(f"pass@{k} needs at least {k} samples per row; there are {n}. Run with --repeats {k}.")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def verdict_of(samples: Sequence[bool]) -> bool:
    """A row's verdict from its samples: the majority, ties fail (one sample: itself)."""
    return sum(bool(s) for s in samples) * 2 > len(samples)


def cohens_kappa(table: Sequence[Sequence[int]], confidence: float = 0.95) -> dict[str, float | None]:
    """Cohen's κ of a square table of counts (rows: one rater, columns: the other) with its asymptotic standard
    error and interval (Fleiss, Cohen and Everitt 1969 — what statsmodels' ``cohens_kappa`` reports).

    ``{"kappa", "se", "ci_low", "ci_high", "agreement", "n"}``; κ is ``None`` when it is undefined (no rows, or
    chance agreement is 1: both raters always gave the same single label)."""
    n = sum(sum(row) for row in table)
    k = len(table)
    if n == 0:
        return {"kappa": None, "se": None, "ci_low": None, "ci_high": None, "agreement": None, "n": 0}
    p = [[table[i][j] / n for j in range(k)] for i in range(k)]
    rows = [sum(p[i]) for i in range(k)]
    cols = [sum(p[i][j] for i in range(k)) for j in range(k)]
    observed = sum(p[i][i] for i in range(k))
    expected = sum(rows[i] * cols[i] for i in range(k))
    if expected >= 1.0:
        return {"kappa": None, "se": None, "ci_low": None, "ci_high": None, "agreement": observed, "n": n}
    kappa = (observed - expected) / (1 - expected)
    term_a = sum(p[i][i] * (1 - (rows[i] + cols[i]) * (1 - kappa)) ** 2 for i in range(k))
    term_b = (1 - kappa) ** 2 * sum(p[i][j] * (cols[i] + rows[j]) ** 2 for i in range(k) for j in range(k) if i != j)
    term_c = (kappa - expected * (1 - kappa)) ** 2
    variance = max(0.0, (term_a + term_b - term_c) / (1 - expected) ** 2 / n)
    se = math.sqrt(variance)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return {
        "kappa": kappa,
        "se": se,
        "ci_low": max(-1.0, kappa - z * se),
        "ci_high": min(1.0, kappa + z * se),
        "agreement": observed,
        "n": n,
    }
