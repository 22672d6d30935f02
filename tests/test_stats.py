"""workbench.stats against scipy and statsmodels (and against brute force where a definition is small enough to
enumerate): every reference here is computed independently of the code under test."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import binomtest, norm
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

from workbench import stats
from workbench.errors import ConfigError

# -- wilson_interval ---------------------------------------------------------------------------------------------
WILSON_CASES = [(0, 1), (1, 1), (0, 2), (1, 2), (2, 2), (0, 10), (10, 10), (3, 10), (7, 10), (1, 30), (29, 30)]
WILSON_CASES += [(0, 100), (50, 100), (99, 100), (100, 100), (17, 250), (1, 1000), (999, 1000), (512, 1000)]


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999])
@pytest.mark.parametrize(("passed", "n"), WILSON_CASES)
def test_wilson_interval_matches_scipy(passed, n, confidence):
    low, high = binomtest(passed, n).proportion_ci(confidence_level=confidence, method="wilson")
    got = stats.wilson_interval(passed, n, confidence)
    assert got == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))
    assert 0.0 <= got[0] <= passed / n <= got[1] <= 1.0


def test_wilson_interval_default_is_95_percent_and_rounded():
    low, high = binomtest(3, 7).proportion_ci(confidence_level=0.95, method="wilson")
    got = stats.wilson_interval(3, 7)
    assert got == (round(low, 4), round(high, 4))
    assert all(value == round(value, 4) for value in got)


def test_wilson_interval_hand_values_and_edges():
    # n = 1 at 95%: center ± half with half = (z²/2) / (1 + z²) gives [0, z²/(1+z²)] and [1/(1+z²), 1].
    z = norm.ppf(0.975)
    assert stats.wilson_interval(0, 1) == (0.0, round(z * z / (1 + z * z), 4))
    assert stats.wilson_interval(1, 1) == (round(1 / (1 + z * z), 4), 1.0)
    assert stats.wilson_interval(0, 0) is None
    assert stats.wilson_interval(0, -3) is None
    # more confidence, wider interval
    narrow, wide = stats.wilson_interval(5, 20, 0.8), stats.wilson_interval(5, 20, 0.99)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


@pytest.mark.parametrize(("passed", "n"), [(-1, 5), (6, 5)])
def test_wilson_interval_rejects_impossible_counts(passed, n):
    with pytest.raises(ConfigError, match="between 0 and n"):
        stats.wilson_interval(passed, n)


# -- binom_test --------------------------------------------------------------------------------------------------
BINOM_GRID = [(k, n) for n in (1, 2, 3, 5, 8, 13, 20, 40, 101) for k in sorted({0, 1, n // 3, n // 2, n - 1, n})]


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("p", [0.5, 0.1, 0.25, 1 / 3, 0.7, 0.95])
@pytest.mark.parametrize(("k", "n"), BINOM_GRID)
def test_binom_test_matches_scipy(k, n, p, alternative):
    wanted = binomtest(k, n, p, alternative=alternative).pvalue
    assert stats.binom_test(k, n, p, alternative) == pytest.approx(wanted, rel=1e-9, abs=1e-300)


def test_binom_test_hand_values():
    assert stats.binom_test(0, 5) == pytest.approx(2 / 32, rel=1e-12)  # 0 or 5 heads
    assert stats.binom_test(5, 5, alternative="greater") == pytest.approx(1 / 32, rel=1e-12)
    assert stats.binom_test(0, 5, alternative="less") == pytest.approx(1 / 32, rel=1e-12)
    assert stats.binom_test(3, 6) == 1.0  # exactly the expected count
    assert stats.binom_test(2, 10, 0.2) == 1.0
    assert stats.binom_test(2, 3, 0.0) == 0.0 and stats.binom_test(0, 3, 0.0) == 1.0
    assert stats.binom_test(3, 3, 1.0) == 1.0 and stats.binom_test(1, 3, 1.0) == 0.0


@pytest.mark.parametrize(("k", "n", "p"), [(-1, 3, 0.5), (4, 3, 0.5), (1, 3, 1.5), (1, 3, -0.1)])
def test_binom_test_rejects_impossible_arguments(k, n, p):
    with pytest.raises(ConfigError, match="0 <= k <= n"):
        stats.binom_test(k, n, p)


def test_binom_test_rejects_an_unknown_alternative():
    with pytest.raises(ConfigError, match="two-sided, greater or less"):
        stats.binom_test(1, 3, alternative="bigger")


# -- mcnemar_exact, min_discordant, min_detectable_difference ---------------------------------------------------
MCNEMAR_TABLES = [
    [[10, 4], [4, 10]],  # a tie
    [[3, 7], [7, 0]],  # a tie
    [[12, 0], [0, 30]],  # all concordant
    [[0, 0], [0, 0]],
    [[5, 1], [0, 5]],  # one discordant pair
    [[5, 0], [1, 5]],
    [[20, 9], [1, 20]],
    [[0, 0], [12, 0]],  # lopsided
    [[40, 25], [3, 2]],
    [[1, 2], [3, 4]],
    [[0, 60], [45, 0]],
]


@pytest.mark.parametrize("table", MCNEMAR_TABLES)
def test_mcnemar_exact_matches_statsmodels(table):
    a_only, b_only = table[0][1], table[1][0]
    wanted = mcnemar(table, exact=True).pvalue
    assert stats.mcnemar_exact(a_only, b_only) == pytest.approx(wanted, rel=1e-9)
    assert stats.mcnemar_exact(b_only, a_only) == pytest.approx(wanted, rel=1e-9)  # symmetric


def test_mcnemar_exact_edges():
    assert stats.mcnemar_exact(0, 0) == 1.0
    assert stats.mcnemar_exact(4, 4) == 1.0
    assert stats.mcnemar_exact(1, 0) == 1.0  # one pair: both outcomes are equally likely
    assert stats.mcnemar_exact(0, 6) == pytest.approx(2 / 64, rel=1e-12)


def test_min_discordant_is_six_at_five_percent():
    assert stats.min_discordant() == 6
    assert stats.min_discordant(0.05) == 6
    assert binomtest(0, 5, 0.5).pvalue >= 0.05  # five flips one way: not significant
    assert binomtest(0, 6, 0.5).pvalue < 0.05  # six are


@pytest.mark.parametrize("alpha", [0.2, 0.1, 0.05, 0.01, 0.001])
def test_min_discordant_matches_scipy(alpha):
    wanted = next(d for d in itertools.count(1) if binomtest(d, d, 0.5).pvalue < alpha)
    assert stats.min_discordant(alpha) == wanted


def test_min_detectable_difference():
    assert stats.min_detectable_difference(0) is None
    assert stats.min_detectable_difference(-4) is None
    assert [stats.min_detectable_difference(n) for n in range(1, 7)] == [1.0] * 6
    assert stats.min_detectable_difference(7) == 0.8571
    assert stats.min_detectable_difference(12) == 0.5
    assert stats.min_detectable_difference(100) == 0.06
    assert stats.min_detectable_difference(300) == 0.02
    for n in range(6, 200):
        assert stats.min_detectable_difference(n) == pytest.approx(6 / n, abs=1e-4)  # rounded to 4 places
    assert stats.min_detectable_difference(100, alpha=0.01) == 0.08


# -- pass_at_k ----------------------------------------------------------------------------------------------------
def _brute_pass_at_k(n: int, c: int, k: int) -> Fraction:
    """The definition: the share of k-subsets of the n samples (the first c pass) with at least one pass."""
    subsets = list(itertools.combinations(range(n), k))
    return Fraction(sum(any(i < c for i in subset) for subset in subsets), len(subsets))


PASS_AT_K_CASES = [(n, c, k) for n in range(1, 9) for c in range(n + 1) for k in range(1, n + 1)]


@pytest.mark.parametrize(("n", "c", "k"), PASS_AT_K_CASES)
def test_pass_at_k_matches_brute_force(n, c, k):
    assert stats.pass_at_k(n, c, k) == pytest.approx(float(_brute_pass_at_k(n, c, k)), rel=1e-12, abs=1e-12)


def test_pass_at_k_edges_by_hand():
    assert stats.pass_at_k(10, 0, 5) == 0.0  # c = 0: never
    assert stats.pass_at_k(10, 10, 3) == 1.0  # c = n: always
    assert stats.pass_at_k(10, 3, 1) == pytest.approx(0.3)  # k = 1: the plain pass rate
    assert stats.pass_at_k(10, 1, 10) == 1.0  # k = n: every sample drawn
    assert stats.pass_at_k(5, 2, 3) == pytest.approx(0.9)  # 1 - C(3,3)/C(5,3) = 1 - 1/10
    assert stats.pass_at_k(4, 1, 2) == pytest.approx(0.5)


def test_pass_at_k_needs_enough_samples():
    with pytest.raises(ConfigError, match="--repeats") as caught:
        stats.pass_at_k(3, 1, 5)
    assert "--repeats 5" in str(caught.value)


@pytest.mark.parametrize(("n", "c", "k"), [(5, 6, 1), (5, -1, 1), (5, 2, 0)])
def test_pass_at_k_rejects_impossible_counts(n, c, k):
    with pytest.raises(ConfigError, match="pass@k needs"):
        stats.pass_at_k(n, c, k)


# -- verdict_of ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("samples", "wanted"),
    [
        ([True], True),
        ([False], False),
        ([True, True, False], True),
        ([False, True, False], False),
        ([True, False], False),  # a tie fails
        ([True, False, True, False], False),
        ([True, True, True, False, False], True),
        ([1, 0, 1], True),
        ([], False),
    ],
)
def test_verdict_of(samples, wanted):
    assert stats.verdict_of(samples) is wanted


# -- cohens_kappa -------------------------------------------------------------------------------------------------
KAPPA_TABLES = [
    [[20, 5], [10, 15]],
    [[45, 15], [25, 15]],
    [[1, 9], [9, 1]],  # worse than chance
    [[30, 2], [3, 1]],
    [[7, 0], [4, 9]],
    [[10, 2, 1], [3, 12, 4], [0, 5, 20]],
    [[25, 1, 0], [2, 30, 3], [1, 0, 8]],
    [[4, 6, 5], [5, 4, 6], [6, 5, 4]],
]


@pytest.mark.parametrize("table", KAPPA_TABLES)
def test_cohens_kappa_matches_statsmodels(table):
    wanted = sm_cohens_kappa(np.array(table))
    got = stats.cohens_kappa(table)
    assert got["kappa"] == pytest.approx(wanted.kappa, rel=1e-9, abs=1e-12)
    assert got["se"] == pytest.approx(wanted.std_kappa, rel=1e-9)
    assert got["ci_low"] == pytest.approx(max(-1.0, wanted.kappa_low), rel=1e-9, abs=1e-12)
    assert got["ci_high"] == pytest.approx(min(1.0, wanted.kappa_upp), rel=1e-9, abs=1e-12)
    total = sum(map(sum, table))
    assert got["n"] == total
    assert got["agreement"] == pytest.approx(sum(table[i][i] for i in range(len(table))) / total)


def test_cohens_kappa_other_confidence_uses_the_normal_quantile():
    table = [[20, 5], [10, 15]]
    wanted = sm_cohens_kappa(np.array(table))
    got = stats.cohens_kappa(table, confidence=0.9)
    z = norm.ppf(0.95)
    assert got["ci_low"] == pytest.approx(wanted.kappa - z * wanted.std_kappa, rel=1e-9)
    assert got["ci_high"] == pytest.approx(wanted.kappa + z * wanted.std_kappa, rel=1e-9)


def test_cohens_kappa_by_hand():
    # observed 35/50 = 0.7; chance 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2 / 0.5
    assert stats.cohens_kappa([[20, 5], [10, 15]])["kappa"] == pytest.approx(0.4)


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")  # statsmodels' own se
@pytest.mark.parametrize("table", [[[5, 0], [0, 5]], [[3, 0, 0], [0, 4, 0], [0, 0, 2]]])
def test_cohens_kappa_perfect_agreement(table):
    got = stats.cohens_kappa(table)
    assert got["kappa"] == pytest.approx(1.0) and got["agreement"] == pytest.approx(1.0)
    assert sm_cohens_kappa(np.array(table)).kappa == pytest.approx(1.0)
    assert got["se"] == pytest.approx(0.0, abs=1e-9)
    assert got["ci_high"] == 1.0 and got["ci_low"] == pytest.approx(1.0)


@pytest.mark.parametrize("table", [[[8, 0], [0, 0]], [[0, 0], [0, 3]], [[0, 0, 0], [0, 7, 0], [0, 0, 0]]])
def test_cohens_kappa_undefined_when_both_raters_use_one_label(table):
    got = stats.cohens_kappa(table)
    assert got["kappa"] is None and got["se"] is None and got["ci_low"] is None and got["ci_high"] is None
    assert got["agreement"] == pytest.approx(1.0)
    assert got["n"] == sum(map(sum, table))


def test_cohens_kappa_of_an_empty_table():
    assert stats.cohens_kappa([[0, 0], [0, 0]]) == {
        "kappa": None,
        "se": None,
        "ci_low": None,
        "ci_high": None,
        "agreement": None,
        "n": 0,
    }
