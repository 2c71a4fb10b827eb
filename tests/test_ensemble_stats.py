"""The pre-registered ensemble statistics: each outcome reachable, each verdict flips."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dsmlib.ensemble_stats import bootstrap_cell, decide, one_sample_cell, two_arm_cell

RNG = np.random.default_rng(7)
BASE = RNG.standard_normal(8)
OTHER = RNG.standard_normal(8)


def test_two_arm_supports_opposes_undecided():
    """A shift of +3 SD supports, -3 SD opposes, none (overlapping draws) is undecided."""
    assert two_arm_cell(OTHER + 3.0, OTHER[::-1].copy()).outcome == "supports"
    assert two_arm_cell(OTHER - 3.0, OTHER[::-1].copy()).outcome == "opposes"
    c = two_arm_cell(BASE, OTHER)
    assert c.outcome in ("undecided", "equivalent")
    assert c.n == (8, 8)


def test_two_arm_matches_scipy_and_mde():
    """Welch p and CI are scipy's; the MDE is 1.31 pooled SDs at 8 vs 8."""
    a, b = BASE + 1.0, OTHER
    c = two_arm_cell(a, b)
    r = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
    assert c.p_claim == pytest.approx(r.pvalue)
    assert c.ci[0] < c.effect < c.ci[1]
    assert c.mde / c.sd == pytest.approx((stats.t.ppf(0.95, 14) + stats.t.ppf(0.8, 14)) * 0.5)
    assert 1.30 < c.mde / c.sd < 1.33


def test_equivalence_needs_a_tight_interval():
    """Equal means are equivalent at 1 SD with 8 runs (90 % interval +-0.88 SD); a shift of
    half an SD is not (and is not significant either)."""
    a = np.linspace(-1, 1, 8) * 1e-3
    assert two_arm_cell(a, a[::-1].copy(), margin=0.1).outcome == "equivalent"
    assert two_arm_cell(a, a[::-1].copy()).outcome == "equivalent"
    sd = a.std(ddof=1)
    assert two_arm_cell(a, a[::-1] - 0.5 * sd).outcome == "undecided"


def test_similarity_kind():
    """A similarity claim is supported only by equivalence and opposed by a clear difference."""
    a = np.linspace(-1, 1, 8) * 1e-3
    assert two_arm_cell(a, a[::-1].copy(), margin=0.1, kind="similarity").outcome == "supports"
    assert two_arm_cell(a + 1.0, a, margin=0.1, kind="similarity").outcome == "opposes"
    assert two_arm_cell(BASE, OTHER, margin=0.01, kind="similarity").outcome == "undecided"


def test_permutation_must_agree():
    """One outlier run makes Welch significant but not the permutation test: not 'supports'."""
    a = np.array([0.0] * 7 + [0.0])
    b = np.array([-1.0] + [0.0] * 7)
    c = two_arm_cell(a + RNG.standard_normal(8) * 1e-3, b + RNG.standard_normal(8) * 1e-3)
    assert c.perm_claim >= c.p_claim or c.outcome != "supports"


def test_one_sample():
    z = BASE * 0.1
    assert one_sample_cell(z + 1.0).outcome == "supports"
    assert one_sample_cell(z - 1.0).outcome == "opposes"
    assert one_sample_cell(z + 1.0, null=2.0).outcome == "opposes"
    assert one_sample_cell(np.concatenate([z, -z])).outcome in ("undecided", "equivalent")


def test_bootstrap_ratio():
    """ln(mean B / mean A) of positive runs: supported when B is clearly larger."""
    a = 1.0 + 0.05 * RNG.standard_normal((8, 1))
    b = 2.0 + 0.05 * RNG.standard_normal((8, 1))

    def stat(x, y):
        return np.log(y.mean(axis=(-2, -1)) / x.mean(axis=(-2, -1)))

    assert bootstrap_cell(a, b, stat, margin=np.log(1.25)).outcome == "supports"
    assert bootstrap_cell(b, a, stat, margin=np.log(1.25)).outcome == "opposes"
    assert bootstrap_cell(a, a[::-1].copy(), stat, margin=np.log(1.25)).outcome == "equivalent"


@pytest.mark.parametrize(
    "paper, other, expected",
    [
        (["supports"], None, ("confirmed", "")),
        (["supports", "supports"], ["supports", "opposes"], ("qualified", "scope")),
        (["supports", "opposes"], None, ("qualified", "scope")),
        (["opposes", "supports"], None, ("refuted", "conclusion")),
        (["equivalent"], None, ("refuted", "conclusion")),
        (["undecided"], ["supports"], ("inconclusive", "")),
        (["supports", "undecided"], None, ("inconclusive", "")),
    ],
)
def test_decide_table(paper, other, expected):
    assert decide(paper, other) == expected


def test_bad_input():
    with pytest.raises(ValueError):
        two_arm_cell([1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        two_arm_cell([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError):
        decide(["maybe"])
    with pytest.raises(ValueError):
        two_arm_cell([1.0, 2.0], [1.0, 2.0], kind="other")


def test_t_alone_when_registered():
    """Without the permutation gate, 3 equal-sign runs of a strong effect support (the exact
    sign-flip test alone could not: its smallest p with 3 runs is 1/8)."""
    z = np.array([1.0, 1.1, 0.9])
    assert one_sample_cell(z).outcome != "supports"
    c = one_sample_cell(z, permutation=False)
    assert c.outcome == "supports" and np.isnan(c.perm_claim)


def test_exact_tests_match_scipy():
    """The enumerations give scipy's exact permutation p-values (ties included)."""
    from dsmlib.ensemble_stats import exact_permutation_p, exact_sign_flip_p

    r = np.random.default_rng(3)
    a, b, z = r.standard_normal(5), r.standard_normal(6) + 0.5, r.standard_normal(9) + 0.3

    def diff(x, y, axis=-1):
        return np.mean(x, axis=axis) - np.mean(y, axis=axis)

    def mean(x, axis=-1):
        return np.mean(x, axis=axis)

    for alt, i in (("greater", 0), ("less", 1)):
        ref = stats.permutation_test((a, b), diff, permutation_type="independent", alternative=alt,
                                     n_resamples=np.inf).pvalue
        assert exact_permutation_p(a, b)[i] == pytest.approx(ref)
        ref = stats.permutation_test((z,), mean, permutation_type="samples", alternative=alt,
                                     n_resamples=np.inf).pvalue
        assert exact_sign_flip_p(z)[i] == pytest.approx(ref)
    ties = np.array([1.0, 1.0, 1.0])
    assert exact_sign_flip_p(ties)[0] == pytest.approx(1 / 8)
