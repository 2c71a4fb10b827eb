"""Chapter 5 experiments at small sizes, and flip tests for RC-T1, RC-T2, RC-G, RC-EXP."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dsmlib.experiments import ch05_rank_decay as ch

SMALL_RP = ch.RandomProductsConfig(n=16, d_model=32, d_qk=8, depth=10, n_products=30, scales=(1.0, 3.0))
SMALL_T1 = ch.Theorem1Config(ns=(8, 16), d_qks=(4,), d_model=16, rhos=(0.01, 0.1, 1.0, 10.0), trials=10)
SMALL_T2 = ch.Theorem2Config(n=16, d_model=16, d_qk=4, n_heads=2, n_layers=3, rhos=(0.5, 4.0), trials=10)


@pytest.fixture(scope="module")
def rp():
    return ch.random_products_experiment.uncached(SMALL_RP)


@pytest.fixture(scope="module")
def t1():
    return ch.theorem1_experiment.uncached(SMALL_T1)


@pytest.fixture(scope="module")
def t2():
    return ch.theorem2_experiment.uncached(SMALL_T2)


def test_random_products_shapes_and_range(rp):
    assert rp.residual.shape == (2, 2, 2, 30, 10)
    assert np.all((rp.residual >= 0) & (rp.residual <= 1 + 1e-12))
    # residual of a product never exceeds that of its prefix by much (sigma2/sigma1 contracts on average)
    med = np.median(rp.residual[:, :, 0], axis=-2)
    assert np.all(med[..., -1] < med[..., 0])


def test_decay_rates_recover_known_slope():
    t = np.arange(1, 11)
    r = np.exp(-0.7 * t)[None] * np.array([[1.0], [2.0]])
    np.testing.assert_allclose(ch.decay_rates(r, t), [0.7, 0.7])
    r2 = r.copy()
    r2[:, 5:] = 1e-16  # floored points are excluded
    np.testing.assert_allclose(ch.decay_rates(r2, t), [0.7, 0.7])


def test_fit_laws_tells_the_two_laws_apart():
    t = np.arange(1, 9, dtype=float)
    assert ch.fit_laws(t, np.exp(-1.0 - 0.9 * t)).preferred == "exponential"
    t5 = t[:5]
    assert ch.fit_laws(t5, np.exp(-0.2 * 3.0**t5)).preferred == "doubly exponential"


def test_rc_g_flips(rp):
    v = ch.check_rc_g(rp)
    # doctored: Sinkhorn residuals := Softmax residuals -> identical rates -> confirmed
    same = rp.residual.copy()
    same[:, 1] = same[:, 0]
    assert ch.check_rc_g(dataclasses.replace(rp, residual=same)).verdict == "confirmed"
    # doctored: Sinkhorn residuals squared -> rates doubled everywhere -> refuted
    fast = rp.residual.copy()
    fast[:, 1] = fast[:, 0] ** 2
    assert ch.check_rc_g(dataclasses.replace(rp, residual=fast)).verdict == "refuted"
    assert v.verdict in ("confirmed", "qualified", "refuted")


def test_rc_exp_flips(rp):
    t = rp.depths.astype(float)
    expo = np.broadcast_to(np.exp(-0.5 - 1.2 * t), rp.residual.shape).copy()
    expo *= np.exp(0.1 * np.random.default_rng(0).normal(size=expo.shape))
    assert ch.check_rc_exp(dataclasses.replace(rp, residual=expo)).verdict == "confirmed"
    dexp = np.broadcast_to(np.exp(-0.01 * 3.0**t), rp.residual.shape).copy()
    assert ch.check_rc_exp(dataclasses.replace(rp, residual=dexp)).verdict == "refuted"


def test_theorem1_first_order_and_flip(t1):
    # aligned instances in the linear regime: LHS / paper RHS = sqrt(n), LHS / corrected RHS = 1
    ratio_p = t1.lhs[1] / t1.paper_rhs[1]
    np.testing.assert_allclose(ratio_p[0, 0, 0, 0], np.sqrt(8), rtol=1e-3)
    np.testing.assert_allclose(ratio_p[1, 0, 0, 0], np.sqrt(16), rtol=1e-3)
    lin = t1.amax < 1e-3
    np.testing.assert_allclose((t1.lhs / t1.first_order)[lin], 1, rtol=1e-2) if lin[1].any() else None
    assert np.all(t1.lhs <= t1.trivial_rhs * (1 + 1e-9))
    assert ch.check_rc_t1(t1).verdict == "refuted"
    # doctored: LHS shrunk by the missing sqrt(n) and a margin -> the paper's bound holds
    small = dataclasses.replace(t1, lhs=t1.lhs / 100)
    assert ch.check_rc_t1(small).verdict == "confirmed"


def test_theorem2_cubic_and_flip(t2):
    assert abs(ch.cubic_exponent(t2, 1) - 3) < 0.1
    assert ch.check_rc_t2(t2).verdict == "refuted"
    # doctored: LHS placed one decade under the paper's bound -> confirmed (cubic exponent kept)
    fixed = dataclasses.replace(t2, log_lhs=t2.log_bound("paper") - 1.0)
    v = ch.check_rc_t2(fixed)
    assert v.verdict in ("confirmed", "qualified")
    assert v.verdict != ch.check_rc_t2(t2).verdict


def test_path_sampling_small():
    r = ch.path_sampling_experiment.uncached(ch.PathConfig(n=8, d_model=16, d_qk=4, n_heads=2, n_layers=5, batch=3, n_paths=7))
    assert r.residual.shape == (2, 2, 5, 7)
    assert np.all(r.residual[..., 0, :] <= 1 + 1e-12)


def test_san_decay_small():
    r = ch.san_decay_experiment.uncached(ch.SANDecayConfig(n=8, d_model=16, d_qk=4, n_heads=2, n_layers=4, n_inputs=5))
    assert r.residual.shape == (2, 5, 5)
    assert np.all(np.median(r.residual[:, :, -1], axis=1) < np.median(r.residual[:, :, 0], axis=1))
