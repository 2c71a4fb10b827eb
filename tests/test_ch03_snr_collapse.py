"""Chapter 3 experiments at small sizes, and a verdict-flip test for every claim."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from dsmlib import claims
from dsmlib.experiments import ch03_snr_collapse as ch

os.environ.setdefault("DSMLIB_NO_CACHE", "1")

SMALL_L3 = ch.Lemma3Config(n=8, trials=200, n_r=9, n_starts=1, full_every=4)
SMALL_SNR = ch.SNRConfig(n=16, temperatures=(0.1, 1.0), seeds=(0, 1), per_seed=20, noise_samples=2000)
SMALL_LEVY = ch.LevyConfig(n=16, pairs=5000)
SMALL_T1 = ch.Theorem1Config(n=16, gammas=(0.0, 0.05, 0.125, 0.5), eps=(0.2, 0.5, 0.8), seeds=(0,), per_seed=50,
                             noise_reps=4)
SMALL_E2 = ch.CollapseConfig(n=64, temperatures=(0.1, 10.0), seeds=(0, 1), per_seed=150)
SMALL_AFF = ch.AffineConfig(n=16, temperatures=(10.0, 0.1), seeds=(0, 1, 2), train=200, test=200)
SMALL_W = ch.WedinConfig(n=16, samples=200, gammas=(0.1, 1.0), seeds=(0, 1), search_trials=200)
SMALL_PROOF = ch.ProofConfig(n=64, gammas=(0.0, 0.05, 0.125), eps=(0.2, 0.4, 0.6), seeds=(0,), per_seed=50, noise_reps=20)
SMALL_IRREV = ch.IrrevConfig(n=16, temperatures=(0.1, 10.0), seeds=(0, 1), per_seed=20)
SMALL_E2P = ch.E2Config(n=64, seeds=(0, 1), dsms_per_seed=300, pairs_per_dsm=5, high_per_seed=50)


@pytest.fixture(scope="module")
def l3():
    return ch.lemma3_experiment.uncached(SMALL_L3)


@pytest.fixture(scope="module")
def snr():
    return ch.snr_experiment.uncached(SMALL_SNR)


@pytest.fixture(scope="module")
def levy():
    return ch.levy_experiment.uncached(SMALL_LEVY)


@pytest.fixture(scope="module")
def t1():
    return ch.theorem1_experiment.uncached(SMALL_T1)


@pytest.fixture(scope="module")
def e2():
    return ch.collapse_experiment.uncached(SMALL_E2)


def test_collapse_experiment_shapes(e2):
    assert e2.cos_out.shape == (2, 300) and np.all(np.abs(e2.cos_out) <= 1 + 1e-12)
    i = e2.config.temperatures.index(e2.config.t_high)
    assert e2.cos_out[i].mean() > 0.5  # high SNR keeps the similarity


@pytest.fixture(scope="module")
def aff():
    return ch.affine_experiment.uncached(SMALL_AFF)


@pytest.fixture(scope="module")
def proof():
    return ch.theorem1_proof_experiment.uncached(SMALL_PROOF)


@pytest.fixture(scope="module")
def irrev():
    return ch.irrev_experiment.uncached(SMALL_IRREV)


@pytest.fixture(scope="module")
def e2p():
    return ch.e2_prereg_experiment.uncached(SMALL_E2P)


@pytest.fixture(scope="module")
def wd():
    return ch.wedin_experiment.uncached(SMALL_W)


# ---------------------------------------------------------------- mechanisms
def test_lemma3_sup_closed_form():
    r = np.array([0.1, 0.5, 1.0, 2.0])
    sup = ch.lemma3_sup(r)
    assert sup[1] == pytest.approx(4 * np.sin(np.pi / 12))
    assert sup[2] == pytest.approx(np.sqrt(2))
    assert sup[3] == pytest.approx(1.0)
    assert np.all(ch.lemma3_sup(np.logspace(-3, 3, 200)) <= 2 + 1e-12)
    with pytest.raises(ValueError):
        ch.lemma3_sup(0.0)


def test_unit_detail_and_dsm_batch():
    x = ch.unit_detail(np.random.default_rng(0), (5,), 7)
    np.testing.assert_allclose(x.sum(-1), 0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(x, axis=-1), 1)
    M = ch.dsm_batch(6, 1.0, (0, 1), 3)
    assert M.shape == (6, 6, 6) and not M.flags.writeable
    np.testing.assert_allclose(M.sum(-1), 1, atol=1e-6)
    with pytest.raises(ValueError):
        ch.dsm_batch(6, 1.0, (), 3)


def test_clopper_pearson_covers():
    lo, hi = ch.clopper_pearson(np.array([0, 5, 10]), 10)
    assert lo[0] == 0 and hi[2] == 1 and lo[1] < 0.5 < hi[1]


def test_top_right_2x2_matches_svd():
    B = np.random.default_rng(1).standard_normal((50, 2, 2))
    v = ch._top_right_2x2(B)
    ref = np.linalg.svd(B)[2][:, 0]
    np.testing.assert_allclose(np.abs(np.einsum("ti,ti->t", v, ref)), 1, atol=1e-9)


def test_collapse_pairs_validates():
    M = ch.dsm_batch(8, 1.0, (0,), 4)
    with pytest.raises(ValueError):
        ch.collapse_pairs(M, 0.1, 1.5, np.random.default_rng(0))


# ---------------------------------------------------------------- experiments + verdicts
def test_l3(l3):
    assert np.all(l3.ratio_random <= 2 + 1e-9)
    np.testing.assert_allclose(l3.ratio_opt, ch.lemma3_sup(l3.r), atol=1e-6)
    assert claims.evaluate("HT-L3", l3).verdict == "confirmed"
    bad = l3.ratio_random.copy()
    bad[0, 0] = 4.5  # r[0] is inside the side condition
    assert claims.evaluate("HT-L3", dataclasses.replace(l3, ratio_random=bad)).verdict == "refuted"


def test_snr(snr):
    ratio = snr.gamma_exact / snr.gamma_approx
    assert np.all(ratio <= snr.config.nu / snr.e_norm * (1 + 1e-9))
    assert claims.evaluate("HT-SNR", snr).verdict == "qualified"
    # doctored: the approximation is exact for every input
    exact = dataclasses.replace(snr, gamma_exact=snr.gamma_approx.copy())
    assert claims.evaluate("HT-SNR", exact).verdict == "confirmed"
    # doctored: the exact gamma exceeds the Lemma 2 bound
    over = dataclasses.replace(snr, gamma_exact=snr.gamma_approx * 1.5)
    assert claims.evaluate("HT-SNR", over).verdict == "refuted"


def test_levy(levy):
    assert claims.evaluate("HT-LEVY", levy).verdict == "confirmed"
    bad = levy.exact.copy()
    bad[-10] = 1.0
    assert claims.evaluate("HT-LEVY", dataclasses.replace(levy, exact=bad)).verdict == "refuted"


def test_t1(t1):
    cells = ch.theorem1_cells(t1)
    assert cells["status"].shape == (4, 3)
    assert np.all(cells["status"][-1] == -1)  # gamma = 0.5 is outside the theorem
    assert claims.evaluate("HT-T1", t1).verdict == "confirmed"
    cos = t1.cos.copy()
    cos[0, : cos.shape[1] // 2] = 0.9  # gamma = 0: half the pairs far above eps = 0.5 and 0.8 ... bound tiny
    assert claims.evaluate("HT-T1", dataclasses.replace(t1, cos=cos)).verdict == "refuted"


def test_e2_prereg(e2p):
    v = claims.evaluate("HT-E2", e2p)
    # 3000 pairs cannot meet a Kolmogorov margin of 0.02 (the DKW band alone is 0.025): not all equivalent
    assert v.verdict in ("qualified", "refuted") and v.severity
    rng = np.random.default_rng(0)
    n = e2p.config.n
    a = (n - 2) / 2
    exact = 2 * rng.beta(a, a, size=(len(e2p.config.t_low), 20_000, 10)) - 1  # the collapsed law, R = 2e5
    good = dataclasses.replace(e2p, cos_low=exact, gamma_low=np.full(exact.shape, 0.01))
    assert claims.evaluate("HT-E2", good).verdict == "confirmed"
    shifted = dataclasses.replace(good, cos_low=exact + 0.05)  # Gaussian-like shape, mean far outside the margin
    v = claims.evaluate("HT-E2", shifted)
    assert v.verdict == "refuted" and v.severity == "conclusion"
    half = exact.copy()
    half[0] = np.clip(half[0] * 1.3, -1, 1)  # first setting: sd 30 % too large
    v = claims.evaluate("HT-E2", dataclasses.replace(good, cos_low=half))
    assert v.verdict == "qualified" and v.severity == "scope"
    assert claims.evaluate("HT-E2", dataclasses.replace(good, gamma_low=good.gamma_low + 0.2)).verdict == "not-tested"


def test_e2_stats_detects_shapes():
    rng = np.random.default_rng(1)
    a = 31.0
    x = 2 * rng.beta(a, a, size=(20_000, 10)) - 1
    st = ch.e2_stats(x, 64)
    assert st["eq_mean"] and st["eq_sd"] and st["eq_beta"] and st["eq_gauss"]
    assert st["kurt"] < 0 and abs(st["deff"] - 1) < 0.2 and st["d_beta_gauss"] < 0.005
    u = rng.uniform(-0.22, 0.22, size=(20_000, 10))  # right sd, wrong shape
    assert not ch.e2_stats(u, 64)["eq_beta"]
    with pytest.raises(ValueError):
        ch.e2_stats(np.zeros(5), 64)


def test_t1p(proof):
    st = ch.proof_steps(proof)
    assert st["step4_viol"] == 0  # the triangle inequality is deterministic
    assert np.all(np.abs(st["p2"] - 0.75) < 0.05)  # a noise norm below its mean: ~ 1 - 1/4
    np.testing.assert_allclose(st["p3"], st["p3_exact"], atol=0.02)
    np.testing.assert_allclose(st["p1"], st["p1_exact"], atol=0.02)
    v = claims.evaluate("HT-T1P", proof)
    assert v.verdict == "refuted" and v.severity == "constant"
    # doctored: noise norms never below their mean and step 3 quoting the stated exponent -> the proof goes through
    e = np.asarray(proof.config.eps)
    fixed = dataclasses.replace(proof, xi_norm=np.maximum(proof.xi_norm, proof.e_norm),
                                xi2_norm=np.maximum(proof.xi2_norm, proof.e_norm),
                                levy_bound=2 * np.exp(-proof.config.n * e**2 / 2))
    assert claims.evaluate("HT-T1P", fixed).verdict == "confirmed"
    # doctored: the statement itself fails -> severity conclusion
    bad = dataclasses.replace(proof, cos=np.ones_like(proof.cos) * 0.99)
    assert claims.evaluate("HT-T1P", bad).severity == "conclusion"


def test_detail_basis_and_lmmse():
    U = ch.detail_basis(7)
    np.testing.assert_allclose(U.T @ U, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(U.sum(0), 0, atol=1e-12)
    s = np.array([[1.0, 0.5, 0.0]])
    assert ch.lmmse_recovered_fraction(s, 4, 0.0)[0] == pytest.approx(2 / 3)
    assert ch.lmmse_recovered_fraction(s, 4, 1e6)[0] < 1e-9
    with pytest.raises(ValueError):
        ch.detail_basis(1)
    with pytest.raises(ValueError):
        ch.lmmse_recovered_fraction(s, 4, -1.0)


def test_irrev(irrev):
    assert np.all(irrev.rec_err < 1e-6) and np.all(irrev.cond < ch.COND_MAX)
    v = claims.evaluate("HT-IRREV", irrev)
    assert v.verdict == "qualified" and v.severity == "scope"
    sing = dataclasses.replace(irrev, cond=irrev.cond * 1e14, rec_err=irrev.rec_err + 1.0)
    assert claims.evaluate("HT-IRREV", sing).verdict == "confirmed"
    kept = dataclasses.replace(irrev, r2=np.ones_like(irrev.r2) * 0.9)
    v = claims.evaluate("HT-IRREV", kept)
    assert v.verdict == "refuted" and v.severity == "conclusion"


def test_severities_of_existing_checks(l3, snr, wd):
    assert claims.evaluate("HT-SNR", snr).severity == "constant"
    assert claims.evaluate("HT-WEDIN", wd).severity == "conclusion"
    bad = l3.ratio_random.copy()
    bad[0, 0] = 4.5
    assert claims.evaluate("HT-L3", dataclasses.replace(l3, ratio_random=bad)).severity == "constant"


def test_aff(aff):
    assert claims.evaluate("HT-AFF", aff).verdict == "confirmed"
    # scalar gain never changes a cosine
    np.testing.assert_allclose(aff.align[..., 1], aff.align[..., 0], atol=1e-12)
    al = aff.align.copy()
    al[0, :, 2] = al[0, :, 0] + 0.5  # doctored: per-coordinate affine recovers the direction
    assert claims.evaluate("HT-AFF", dataclasses.replace(aff, align=al)).verdict == "refuted"


def test_wedin(wd):
    assert np.all(wd.search_lhs <= wd.search_rhs_corr * (1 + 1e-9))
    assert claims.evaluate("HT-WEDIN", wd).verdict == "refuted"
    ok = dataclasses.replace(wd, search_lhs=np.minimum(wd.search_lhs, wd.search_rhs))
    assert claims.evaluate("HT-WEDIN", ok).verdict == "qualified"  # holds but vacuous (RHS > 1)
    small = dataclasses.replace(ok, rhs_data=wd.rhs_data * 0 + 0.9, rhs_cov=wd.rhs_cov * 0 + 0.9,
                                sin_data=wd.sin_data * 0, sin_cov=wd.sin_cov * 0)
    assert claims.evaluate("HT-WEDIN", small).verdict == "confirmed"


def test_wedin_stated_form_counterexample():
    """A = diag(1, 0), E = diag(-0.6, 0.6): the top singular vector turns by 90 degrees, ||E||/Delta = 0.6."""
    B = np.diag([1.0, 0.0]) + np.diag([-0.6, 0.6])
    v = ch._top_right_2x2(B[None])[0]
    assert abs(v[1]) == pytest.approx(1.0)  # sin Theta = 1 > 0.6
    assert abs(v[1]) <= 0.6 / (1 - 0.6)  # corrected bound holds
