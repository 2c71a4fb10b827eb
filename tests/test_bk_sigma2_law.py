"""BK-SIG2T: the high-temperature law of sigma_2, its experiment at small sizes, and verdict flips."""

from __future__ import annotations

import numpy as np
import pytest

import dsmlib as d
from dsmlib import claims
from dsmlib.experiments import bk_sigma2_law as bk

SMALL = bk.LawConfig(ns=(8, 12), dsms=(30, 10), q_draws=(50, 20), temperatures=(1.0, 3.0, 10.0, 30.0, 60.0, 100.0))


@pytest.fixture(scope="module")
def small():
    return bk.law_experiment.uncached(SMALL)


# ---------------------------------------------------------------- the law
def test_leading_law_is_one_over_t_sqrt_3n():
    n, T = np.array([16, 64, 256]), np.array([1.0, 10.0, 100.0])
    np.testing.assert_allclose(bk.sigma2_law_leading(n, T), 1 / (T * np.sqrt(3 * n)))
    np.testing.assert_allclose(bk.sigma2_law(n, T, edge=False, second_order=False), 1 / (T * np.sqrt(3 * n)))
    # kappa(n) -> 2 sqrt(n/12): the edge terms vanish relatively like n^(-2/3)
    rel = bk.q_norm_law(10.0**6) / bk.q_norm_law(10.0**6, edge=False) - 1
    assert -1e-4 < rel < 0
    np.testing.assert_allclose(bk.sigma2_law(64, 2.0), bk.q_norm_law(64) / 128 * (1 - 1 / 480))


def test_law_rejects_bad_input():
    with pytest.raises(ValueError, match="n must"):
        bk.q_norm_law(2)
    with pytest.raises(ValueError, match="temperature"):
        bk.sigma2_law(16, 0.0)
    with pytest.raises(ValueError, match="temperature"):
        bk.sigma2_law_leading(16, -1.0)
    with pytest.raises(ValueError, match="n must"):
        bk.sigma2_law_leading(1, 1.0)
    with pytest.raises(ValueError, match="config"):
        bk.law_experiment.uncached(bk.LawConfig(ns=(8,), dsms=(3, 4), q_draws=(5,)))


def test_q_norm_law_matches_simulated_norm_at_moderate_n():
    dd = np.random.default_rng(1).random((400, 48, 48))
    q = d.singular_values(d.q_project(dd))[:, 0].mean()
    assert abs(bk.q_norm_law(48) / q - 1) < 0.03


# ---------------------------------------------------------------- mechanisms behind the derivation
def test_antithetic_costs_are_sinkhorn_at_minus_t():
    dd = np.random.default_rng(2).random((5, 10, 10))
    a = d.sinkhorn(-(1 - dd) / 3.0, tol=1e-13)
    b = d.sinkhorn(dd / 3.0, tol=1e-13)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_first_order_term_is_exact_at_high_temperature():
    dd = np.random.default_rng(3).random((20, 16, 16))
    T = 1e4
    s2 = d.sigma2(d.sinkhorn(-dd / T, tol=1e-15, n_iter=50))
    q = d.singular_values(d.q_project(dd))[:, 0]
    np.testing.assert_allclose(s2 * 16 * T / q, 1.0, atol=1e-5)


def test_small_experiment_shapes_and_reuse_of_costs(small):
    r = small
    assert [s.shape for s in r.sigma2] == [(6, 30), (6, 10)]
    assert [q.shape for q in r.q_big] == [(50,), (20,)]
    assert r.max_err.shape == (2, 6) and r.max_err.max() <= SMALL.tol
    dd = np.random.default_rng((SMALL.seed, 8)).random((30, 8, 8))
    np.testing.assert_allclose(r.q_norm[0], d.singular_values(d.q_project(dd))[:, 0])
    M = d.random_dsm(8, 3.0, size=30, rng=np.random.default_rng((SMALL.seed, 8)), tol=SMALL.tol)
    np.testing.assert_allclose(r.sigma2[0][1], d.sigma2(M))
    s = bk.law_summary(r)
    # the finite-T part is tiny at T = 100; the per-DSM 1/T coefficients have mean ~0 and a spread
    assert np.all(np.abs(s.rho[:, -1]) < 1e-3)
    assert np.all(s.a_sd > 0) and np.all(np.abs(s.a_mean) < 5 * s.a_se + 1e-3)
    assert claims.evaluate("BK-SIG2T", r).verdict in claims.VERDICTS


def test_q_norms_chunks_reproducibly():
    a = bk.q_norms(9, 1000, np.random.default_rng(4))
    dd = np.random.default_rng(4).random((1000, 9, 9))
    np.testing.assert_allclose(a, d.singular_values(d.q_project(dd))[:, 0])


def test_interval_outcome():
    out = bk.interval_outcome([0.0, 0.019, 0.05, 0.021], [0.001, 0.001, 0.001, 0.002], -0.02, 0.02)
    assert list(out) == ["pass", "undecided", "fail", "undecided"]
    with pytest.raises(ValueError):
        bk.interval_outcome(0.0, -1.0, 0, 1)


def test_check_is_registered():
    assert claims.check_for("BK-SIG2T") is bk.check_bk_sig2t
    assert claims.CLAIMS["BK-SIG2T"].chapter == "08_sigma2_law"


def test_tables_and_figures(small):
    s = bk.law_summary(small)
    for t in (bk.law_table(small, s), bk.order_table(s), bk.kappa_table()):
        lines = t.splitlines()
        assert lines[0].startswith("| $n$") and len({line.count("|") for line in lines}) == 1
    for fig in (bk.law_figure(s), bk.order_figure(s)):
        assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


# ---------------------------------------------------------------- verdict flips on doctored results
def _fake(*, scale=1.0, c1=0.0, c2=bk.C2, spread=0.01, a_sd=0.01, ns=(16, 64, 256), R=400, Nq=4000, seed=0):
    """A result that follows the law exactly, up to the doctoring knobs (independent DSMs)."""
    rng = np.random.default_rng(seed)
    T = np.array(bk.LAW_TEMPERATURES)
    s2s, qs, qbs = [], [], []
    for n in ns:
        q = bk.q_norm_law(n) * (1 + spread * rng.standard_normal(R))
        qb = bk.q_norm_law(n) * (1 + spread * rng.standard_normal(Nq))
        a = c1 + a_sd * rng.standard_normal(R)  # per-DSM 1/T term (mean c1)
        s2s.append(scale * q / (n * T[:, None]) * (1 + a / T[:, None] + c2 / T[:, None] ** 2))
        qs.append(scale * q)
        qbs.append(scale * qb)
    cfg = bk.LawConfig(ns=tuple(ns), dsms=(R,) * len(ns), q_draws=(Nq,) * len(ns))
    return bk.LawResult(cfg, T, tuple(s2s), tuple(qs), tuple(qbs), np.zeros((len(ns), T.size)))


def test_bk_sig2t_flips():
    ok = claims.evaluate("BK-SIG2T", _fake())
    assert ok.verdict == "confirmed" and not ok.severity and ok.can_fail
    # a 1/T term in the mean (as costs whose law is not symmetric under d -> 1 - d have) -> refuted
    v = claims.evaluate("BK-SIG2T", _fake(c1=0.01))
    assert v.verdict == "refuted" and v.severity == "conclusion"
    # the mean does not converge to ||Q(d)||_2/(nT) at all -> refuted
    v = claims.evaluate("BK-SIG2T", _doctor_offset(_fake(), 1e-3))
    assert v.verdict == "refuted"
    # the closed-form constant off by 10 %: shape right -> qualified, severity constant
    v = claims.evaluate("BK-SIG2T", _fake(scale=1.10))
    assert v.verdict == "qualified" and v.severity == "constant"
    # off by 3 %: cosmetic
    v = claims.evaluate("BK-SIG2T", _fake(scale=1.03))
    assert v.verdict == "qualified" and v.severity == "cosmetic"
    # the 1/T^2 coefficient six times the predicted one -> qualified, constant
    v = claims.evaluate("BK-SIG2T", _fake(c2=6 * bk.C2))
    assert v.verdict == "qualified" and v.severity == "constant" and "coefficient" in v.holds
    # the constant right at the margin's edge: the interval straddles it -> inconclusive
    v = claims.evaluate("BK-SIG2T", _fake(scale=1 / 1.02))
    assert v.verdict == "inconclusive" and not v.severity
    # too noisy to decide, or Sinkhorn not converged -> not-tested
    assert claims.evaluate("BK-SIG2T", _fake(spread=0.2, R=10, Nq=10)).verdict == "not-tested"
    r = _fake()
    bad = bk.LawResult(r.config, r.temperatures, r.sigma2, r.q_norm, r.q_big, r.max_err + 1e-6)
    assert claims.evaluate("BK-SIG2T", bad).verdict == "not-tested"


def _doctor_offset(r: bk.LawResult, eps: float) -> bk.LawResult:
    """Multiply every sigma_2 (not ||Q(d)||_2) by 1 + eps: the first-order term is then wrong."""
    return bk.LawResult(r.config, r.temperatures, tuple(s * (1 + eps) for s in r.sigma2), r.q_norm, r.q_big,
                        r.max_err)
