"""workbench.stats against independent references, as properties over many inputs (hypothesis): statsmodels'
own implementations, and exact enumeration with fractions where a definition is small enough to enumerate.
None of them is the scipy call the product makes (``scipy.stats.binomtest``), so a wrong argument, a swapped
tail or a wrong rounding in the product shows up here."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.proportion import proportion_confint

from workbench import stats
from workbench.errors import ConfigError

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def counts(draw, max_n: int = 2000):
    n = draw(st.integers(1, max_n))
    return draw(st.integers(0, n)), n


# -- wilson_interval ---------------------------------------------------------------------------------------------
@PROPERTY
@given(counts(), st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99, 0.999]))
def test_wilson_interval_is_statsmodels_wilson(count, confidence):
    passed, n = count
    low, high = proportion_confint(passed, n, alpha=1 - confidence, method="wilson")
    got = stats.wilson_interval(passed, n, confidence)
    assert got == (pytest.approx(low, abs=5.1e-5), pytest.approx(high, abs=5.1e-5))
    assert all(value == round(value, 4) for value in got), "rounded to 4 places"
    assert 0.0 <= got[0] <= passed / n <= got[1] <= 1.0


def test_wilson_interval_edges():
    assert stats.wilson_interval(0, 0) is None and stats.wilson_interval(0, -3) is None
    z2 = 1.959963984540054**2
    assert stats.wilson_interval(0, 1) == (0.0, round(z2 / (1 + z2), 4))  # n = 1: [0, z²/(1+z²)]
    narrow, wide = stats.wilson_interval(5, 20, 0.8), stats.wilson_interval(5, 20, 0.99)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]
    for passed, n in [(-1, 5), (6, 5)]:
        with pytest.raises(ConfigError, match="between 0 and n"):
            stats.wilson_interval(passed, n)


# -- binom_test: exact enumeration with fractions ------------------------------------------------------------------
def _pmf(i: int, n: int, p: Fraction) -> Fraction:
    return math.comb(n, i) * p**i * (1 - p) ** (n - i)


def _enumerated_p_value(k: int, n: int, p: Fraction, alternative: str) -> Fraction:
    pmf = [_pmf(i, n, p) for i in range(n + 1)]
    if alternative == "greater":
        return sum(pmf[k:], Fraction(0))
    if alternative == "less":
        return sum(pmf[: k + 1], Fraction(0))
    return sum((x for x in pmf if x <= pmf[k]), Fraction(0))  # every outcome no more likely than k


PROBABILITIES = st.sampled_from([Fraction(1, 2), Fraction(1, 3), Fraction(1, 4), Fraction(1, 10), Fraction(7, 10)])


@PROPERTY
@given(counts(max_n=40), PROBABILITIES, st.sampled_from(["two-sided", "greater", "less"]))
def test_binom_test_is_the_enumerated_exact_test(count, p, alternative):
    k, n = count
    wanted = float(min(Fraction(1), _enumerated_p_value(k, n, p, alternative)))
    assert stats.binom_test(k, n, float(p), alternative) == pytest.approx(wanted, rel=1e-7, abs=1e-300)


def test_binom_test_hand_values_and_bad_arguments():
    assert stats.binom_test(0, 5) == pytest.approx(2 / 32, rel=1e-12)
    assert stats.binom_test(5, 5, alternative="greater") == pytest.approx(1 / 32, rel=1e-12)
    assert stats.binom_test(3, 6) == 1.0 and stats.binom_test(2, 10, 0.2) == 1.0
    for k, n, p in [(-1, 3, 0.5), (4, 3, 0.5), (1, 3, 1.5), (1, 3, -0.1)]:
        with pytest.raises(ConfigError, match="0 <= k <= n"):
            stats.binom_test(k, n, p)
    with pytest.raises(ConfigError, match="two-sided, greater or less"):
        stats.binom_test(1, 3, alternative="bigger")


def test_binom_test_at_the_ends_of_p_and_without_trials():
    # p = 0: only k = 0 can happen (probability 1), k = 1 never; p = 1: only k = n. Both ends are allowed.
    assert stats.binom_test(0, 5, 0.0) == 1.0 and stats.binom_test(1, 5, 0.0) == 0.0
    assert stats.binom_test(5, 5, 1.0) == 1.0 and stats.binom_test(4, 5, 1.0) == 0.0
    assert stats.binom_test(0, 0) == 1.0  # no trials: nothing can be rejected


# -- mcnemar_exact and the one paired verdict ------------------------------------------------------------------------
TABLE_2X2 = st.lists(st.integers(0, 60), min_size=4, max_size=4).map(lambda v: [[v[0], v[1]], [v[2], v[3]]])


@PROPERTY
@given(TABLE_2X2)
def test_mcnemar_exact_is_statsmodels_exact_mcnemar(table):
    a_only, b_only = table[0][1], table[1][0]
    assume(a_only + b_only > 0)
    wanted = mcnemar(table, exact=True).pvalue
    assert stats.mcnemar_exact(a_only, b_only) == pytest.approx(min(1.0, wanted), rel=1e-9)
    assert stats.mcnemar_exact(b_only, a_only) == stats.mcnemar_exact(a_only, b_only)  # symmetric


@PROPERTY
@given(st.integers(0, 80), st.integers(0, 80), st.sampled_from([0.01, 0.05, 0.1]))
def test_paired_verdict_is_better_or_worse_only_when_the_exact_test_says_so(a_only, b_only, alpha):
    p_value, verdict = stats.paired_verdict(a_only, b_only, alpha)
    d = a_only + b_only
    enumerated = (
        1.0
        if d == 0
        else float(min(Fraction(1), 2 * _enumerated_p_value(min(a_only, b_only), d, Fraction(1, 2), "less")))
    )
    assert p_value == pytest.approx(enumerated, rel=1e-9)
    if enumerated < alpha and a_only != b_only:
        assert verdict == ("better" if b_only > a_only else "worse")
    else:
        assert verdict == "no significant difference"


def test_mcnemar_edges():
    assert stats.mcnemar_exact(0, 0) == 1.0 and stats.mcnemar_exact(4, 4) == 1.0 and stats.mcnemar_exact(1, 0) == 1.0
    assert stats.mcnemar_exact(0, 6) == pytest.approx(2 / 64, rel=1e-12)
    for a_only, b_only in [(-1, 3), (3, -1)]:
        with pytest.raises(ConfigError, match="McNemar needs counts of discordant pairs"):
            stats.mcnemar_exact(a_only, b_only)


def test_a_paired_verdict_needs_p_strictly_below_alpha():
    # 0 vs 5 discordant pairs: p = 2 · (1/2)^5 = 1/16 exactly. At α = 1/16 that is not significant; just above, it is.
    assert stats.paired_verdict(0, 5, alpha=1 / 16) == (1 / 16, "no significant difference")
    assert stats.paired_verdict(0, 5, alpha=0.07) == (1 / 16, "better")
    assert stats.paired_verdict(5, 0, alpha=0.07) == (1 / 16, "worse")


@pytest.mark.parametrize("alpha", [0.2, 0.1, 0.05, 0.01, 0.001])
def test_min_discordant_is_the_first_count_all_one_way_below_alpha(alpha):
    wanted = next(d for d in itertools.count(1) if 2 * Fraction(1, 2) ** d < alpha)
    assert stats.min_discordant(alpha) == wanted
    assert stats.min_discordant() == 6


@PROPERTY
@given(st.integers(1, 600))
def test_min_detectable_difference(n):
    assert stats.min_detectable_difference(n) == round(min(1.0, 6 / n), 4)
    assert stats.min_detectable_difference(0) is None and stats.min_detectable_difference(-4) is None


# -- pass_at_k: the definition, enumerated ---------------------------------------------------------------------------
def _brute_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """The share of k-subsets of the n samples (the first c pass) with at least one pass."""
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(i < c for i in subset) for subset in subsets), len(subsets))


@PROPERTY
@given(st.integers(1, 9).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_is_the_enumerated_definition(case):
    n, c, k = case
    assert stats.pass_at_k(n, c, k) == pytest.approx(float(_brute_pass_at_k(n, c, k)), rel=1e-12, abs=1e-12)


def test_pass_at_k_refuses_what_it_cannot_estimate():
    with pytest.raises(ConfigError, match="--repeats 5"):
        stats.pass_at_k(3, 1, 5)
    for n, c, k in [(5, 6, 1), (5, -1, 1), (5, 2, 0)]:
        with pytest.raises(ConfigError, match="pass@k needs"):
            stats.pass_at_k(n, c, k)


@PROPERTY
@given(st.lists(st.booleans(), max_size=12))
def test_verdict_of_is_a_strict_majority(samples):
    assert stats.verdict_of(samples) is (sum(samples) > len(samples) - sum(samples))


# -- cohens_kappa: statsmodels -----------------------------------------------------------------------------------------
def square_tables(size: int):
    return st.lists(st.integers(0, 40), min_size=size * size, max_size=size * size).map(
        lambda v: [v[i * size : (i + 1) * size] for i in range(size)]
    )


@PROPERTY
@given(st.one_of(square_tables(2), square_tables(3), square_tables(4)), st.sampled_from([0.9, 0.95, 0.99]))
def test_cohens_kappa_is_statsmodels_cohens_kappa(table, confidence):
    got = stats.cohens_kappa(table, confidence)
    total = sum(map(sum, table))
    if total == 0:
        assert got["kappa"] is None and got["n"] == 0
        return
    rows = [sum(r) / total for r in table]
    cols = [sum(r[j] for r in table) / total for j in range(len(table))]
    if sum(a * b for a, b in zip(rows, cols, strict=True)) >= 1 - 1e-12:
        assert got["kappa"] is None  # both raters gave one single label: κ is 0/0
        return
    with np.errstate(invalid="ignore"):
        wanted = sm_cohens_kappa(np.array(table))
    # statsmodels takes the square root of a variance that rounds to just below 0 on some tables (e.g. [[0, 0],
    # [1, 2]], where it is exactly 0): NaN there is a standard error of 0, for the interval too.
    std = float(np.nan_to_num(wanted.std_kappa))
    assert got["kappa"] == pytest.approx(wanted.kappa, rel=1e-9, abs=1e-12)
    assert got["se"] == pytest.approx(std, rel=1e-7, abs=1e-9)
    assert got["ci_low"] == pytest.approx(max(-1.0, wanted.kappa - std * _z(confidence)), abs=1e-9)
    assert got["ci_high"] == pytest.approx(min(1.0, wanted.kappa + std * _z(confidence)), abs=1e-9)
    assert got["agreement"] == pytest.approx(sum(table[i][i] for i in range(len(table))) / total)


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def test_cohens_kappa_by_hand():
    # observed 35/50 = 0.7; chance 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2 / 0.5
    got = stats.cohens_kappa([[20, 5], [10, 15]])
    assert got["kappa"] == pytest.approx(0.4) and got["agreement"] == pytest.approx(0.7) and got["n"] == 50
    assert set(got) == {"kappa", "se", "ci_low", "ci_high", "agreement", "n"}


def test_cohens_kappa_interval_stops_at_minus_one():
    # [[0, 1], [1, 1]]: observed 1/3, chance 1/9 + 4/9 = 5/9, κ = (1/3 - 5/9) / (4/9) = -1/2; the asymptotic
    # interval reaches below -1 (statsmodels: κ - z·se ≈ -1.1), and κ cannot: the lower end is -1.
    got = stats.cohens_kappa([[0, 1], [1, 1]])
    wanted = sm_cohens_kappa(np.array([[0, 1], [1, 1]]))
    assert got["kappa"] == pytest.approx(-0.5) and wanted.kappa - _z(0.95) * wanted.std_kappa < -1.05
    assert got["ci_low"] == -1.0


def test_cohens_kappa_is_undefined_without_rows_or_with_one_label_only():
    none = {"kappa": None, "se": None, "ci_low": None, "ci_high": None}
    assert stats.cohens_kappa([[0, 0], [0, 0]]) == none | {"agreement": None, "n": 0}
    # both raters always said the first label: chance agreement is 1 and κ is 0/0; agreement is still 7/7
    assert stats.cohens_kappa([[7, 0], [0, 0]]) == none | {"agreement": 1.0, "n": 7}


def test_the_product_takes_its_exact_tests_and_intervals_from_scipy(monkeypatch):
    """Wilson intervals, binomial tests and McNemar come from ``scipy.stats.binomtest`` (the library that owns
    them), not from code of our own: a binomtest that answers differently changes every one of them."""
    import scipy.stats

    calls = []
    real = scipy.stats.binomtest

    def spy(k, n, p=0.5, alternative="two-sided"):
        calls.append((k, n, p, alternative))
        return real(k, n, p, alternative=alternative)

    monkeypatch.setattr(scipy.stats, "binomtest", spy)
    stats._wilson.cache_clear()
    stats._binom_p.cache_clear()
    stats.wilson_interval(7, 23)
    stats.binom_test(3, 17, 0.3, "greater")
    stats.mcnemar_exact(2, 11)
    assert (
        (7, 23, 0.5, "two-sided") in calls and (3, 17, 0.3, "greater") in calls and (2, 13, 0.5, "two-sided") in calls
    )


def test_warming_the_statistics_imports_scipy_stats_in_a_daemon_thread(monkeypatch):
    """A command that will print a summary starts the scipy import early, in a thread that never holds up exit."""
    import sys
    import threading

    import scipy

    monkeypatch.setattr(scipy, "stats", scipy.stats)  # put back after the test, as sys.modules is
    monkeypatch.delitem(sys.modules, "scipy.stats")
    started = []

    class Spy(threading.Thread):
        def start(self):
            started.append(self)
            super().start()

    monkeypatch.setattr(threading, "Thread", Spy)
    stats.warm_statistics()
    (thread,) = started
    thread.join(60)
    assert thread.daemon and thread.name == "workbench-warm-stats" and "scipy.stats" in sys.modules
