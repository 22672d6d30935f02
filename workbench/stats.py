"""The statistics behind every number the workbench reports, from the libraries that own them.

- :func:`wilson_interval`: the Wilson score interval of a pass rate — scipy's
  ``binomtest(k, n).proportion_ci(method="wilson")``.
- :func:`binom_test`: the exact binomial test — scipy's ``binomtest(...).pvalue``.
- :func:`mcnemar_exact`: the exact McNemar test of paired verdicts — scipy's exact binomial test of the discordant
  pairs against 50/50; :func:`paired_verdict` turns it into the one verdict every comparison reports (a prompt
  comparison, a trend between versions, two judges against the same labels).
- :func:`min_detectable_difference`: the smallest difference n paired rows can show to be real.
- :func:`cohens_kappa`: Cohen's κ with its asymptotic standard error (Fleiss, Cohen and Everitt 1969). It stays ours
  because statsmodels (where it lives) is not a core dependency; ``tests/test_stats.py`` checks it against
  statsmodels' ``cohens_kappa``.
- :func:`pass_at_k`: the unbiased pass@k estimator (Chen et al., 2021); :func:`verdict_of`: a row's majority.

scipy is imported inside the functions that need it, so ``import workbench`` and a run that has not finished yet
never pay for ``scipy.stats``. ``tests/test_stats.py`` checks every function against an independent reference
(statsmodels, or exact enumeration with fractions), never against the scipy call made here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from statistics import NormalDist

from workbench.errors import ConfigError

ALPHA = 0.05
VERDICTS = ("better", "worse", "no significant difference")
ALTERNATIVES = ("two-sided", "greater", "less")


def warm_statistics() -> None:
    """Import ``scipy.stats`` in a background thread (a command that will print a summary calls this before its run:
    the import overlaps the run's waiting on models instead of adding to the end)."""
    import threading

    def load() -> None:
        import scipy.stats  # noqa: F401

    threading.Thread(target=load, name="workbench-warm-stats", daemon=True).start()


def _binomtest(k: int, n: int, p: float = 0.5, alternative: str = "two-sided"):
    from scipy.stats import binomtest

    return binomtest(k, n, p, alternative=alternative)


def wilson_interval(passed: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of ``passed``/``n`` (``None`` without any judged row), rounded to 4 places."""
    if n <= 0:
        return None
    if not 0 <= passed <= n:
        raise ConfigError(f"passed={passed} is not between 0 and n={n}.")
    return _wilson(int(passed), int(n), float(confidence))


@functools.lru_cache(maxsize=4096)
def _wilson(passed: int, n: int, confidence: float) -> tuple[float, float]:
    interval = _binomtest(passed, n).proportion_ci(confidence_level=confidence, method="wilson")
    return (round(max(0.0, float(interval.low)), 4), round(min(1.0, float(interval.high)), 4))


def binom_test(k: int, n: int, p: float = 0.5, alternative: str = "two-sided") -> float:
    """The exact binomial test's p-value for ``k`` successes in ``n`` trials against probability ``p``.

    Two-sided: the total probability of every outcome no more likely than ``k`` (scipy's definition)."""
    if n < 0 or not 0 <= k <= n or not 0 <= p <= 1:
        raise ConfigError(f"binom_test needs 0 <= k <= n and 0 <= p <= 1 (got k={k}, n={n}, p={p}).")
    if alternative not in ALTERNATIVES:
        raise ConfigError(f"alternative={alternative!r}: use two-sided, greater or less.")
    if n == 0:
        return 1.0
    return _binom_p(int(k), int(n), float(p), alternative)


@functools.lru_cache(maxsize=4096)
def _binom_p(k: int, n: int, p: float, alternative: str) -> float:
    return min(1.0, float(_binomtest(k, n, p, alternative).pvalue))


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Exact two-sided McNemar p-value: a binomial test of the discordant pairs against 50/50."""
    if a_only < 0 or b_only < 0:
        raise ConfigError(f"McNemar needs counts of discordant pairs ≥ 0 (got {a_only}, {b_only}).")
    if a_only + b_only == 0:
        return 1.0
    return binom_test(min(a_only, b_only), a_only + b_only, 0.5)


def paired_verdict(a_only: int, b_only: int, alpha: float = ALPHA) -> tuple[float, str]:
    """(p-value, verdict) of B against A from their discordant pairs: ``a_only`` rows pass only in A, ``b_only``
    only in B. The verdict is "better" or "worse" when the exact McNemar test is significant at ``alpha``, else
    "no significant difference" — the one rule behind compare, trend and judge comparisons."""
    p_value = mcnemar_exact(a_only, b_only)
    if p_value < alpha and a_only != b_only:
        return p_value, VERDICTS[0] if b_only > a_only else VERDICTS[1]
    return p_value, VERDICTS[2]


@functools.lru_cache(maxsize=64)
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
