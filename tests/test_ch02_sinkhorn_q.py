"""Chapter 2 experiments at small sizes, and a verdict-flip test for every claim."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import dsmlib as d
from dsmlib.experiments import ch02_sinkhorn_q as ch


SMALL_SWEEP = ch.SweepConfig(n=16, temperatures=(0.005, 0.05, 0.2, 1.0), seeds=(0, 1), per_seed=20)
SMALL_SPEC = ch.SpectralConfig(n=16, temperatures=(0.05, 0.3, 2.0), seeds=(0,), per_seed=30, max_depth=300)
SMALL_SCALE = ch.ScalingConfig(n=12, trials=30, n_pot=3, attn_n=10, attn_d_model=16, attn_d_qk=4)
SMALL_Q = ch.QConfig(n=12, trials=20, ranks=(1, 3, 12), n_explicit=4)
SMALL_EXP = ch.ExpansionConfig(ns=(6, 12), trials=10)
SMALL_ATT = ch.AttentionConfig(n=12, d_model=16, d_qk=4, scales=(0.5, 2.0, 16.0), trials=40, trace_iter=60)


@pytest.fixture(scope="module")
def sweep():
    return ch.sweep_experiment.uncached(SMALL_SWEEP)


@pytest.fixture(scope="module")
def spec():
    return ch.spectral_experiment.uncached(SMALL_SPEC)


@pytest.fixture(scope="module")
def scaling():
    return ch.scaling_experiment.uncached(SMALL_SCALE)


@pytest.fixture(scope="module")
def qres():
    return ch.q_experiment.uncached(SMALL_Q)


@pytest.fixture(scope="module")
def expansion():
    return ch.expansion_experiment.uncached(SMALL_EXP)


@pytest.fixture(scope="module")
def att():
    return ch.attention_experiment.uncached(SMALL_ATT)


# ---------------------------------------------------------------- mechanisms
def test_algorithm1_costs_seeded_blocks():
    a = ch.algorithm1_costs(5, (3, 4), 2)
    assert a.shape == (4, 5, 5)
    np.testing.assert_array_equal(a[2:], np.random.default_rng(4).random((2, 5, 5)))
    with pytest.raises(ValueError):
        ch.algorithm1_costs(1, (0,), 2)


def test_marginal_error_trace_matches_sinkhorn():
    S = np.random.default_rng(0).normal(scale=3, size=(4, 7, 7))
    tr = ch.marginal_error_trace(S, 12)
    for k in (1, 5, 12):
        _, info = d.sinkhorn(S, n_iter=k, tol=0.0, return_info=True, warn=False)
        np.testing.assert_allclose(tr[k - 1], info.err, rtol=1e-6, atol=1e-15)
    with pytest.raises(ValueError):
        ch.marginal_error_trace(S, 0)
    with pytest.raises(ValueError):
        ch.marginal_error_trace(np.ones((3, 4)), 3)


def test_column_softmax_columns_sum_to_one():
    C = ch.column_softmax(np.random.default_rng(1).normal(size=(2, 5, 5)))
    np.testing.assert_allclose(C.sum(-2), 1.0)
    with pytest.raises(ValueError):
        ch.column_softmax(np.ones(3))


def test_attention_scores_shapes_and_scale():
    A, (X, WQ, WK, bQ, bK) = ch.attention_scores(20, 64, 16, 50, np.random.default_rng(2))
    assert A.shape == (50, 20, 20) and np.all(bQ == 0)
    assert 0.8 < A.std() < 1.2


def test_story_figure(sweep):
    import matplotlib

    matplotlib.use("Agg")
    fig = ch.story_figure(sweep)
    assert fig.axes and fig.axes[0].get_xscale() == "log"


# ---------------------------------------------------------------- experiments + natural verdicts
def test_sweep_shapes_and_verdicts(sweep):
    assert sweep.sigma2.shape == (4, 40)
    np.testing.assert_allclose(sweep.sigma1[sweep.converged], 1.0, atol=1e-5)
    assert ch.check_ht_alg1(sweep).verdict == "qualified"  # T = 0.005 does not converge
    assert ch.check_ht_e1(sweep).verdict in ("confirmed", "qualified")


def test_spectral_verdicts(spec):
    assert ch.check_ht_r2(spec).verdict == "qualified"
    assert ch.check_ht_t2(spec).verdict in ("qualified", "confirmed")
    assert np.all(spec.depth_fixed[spec.converged] <= np.ceil(spec.depth_sigma[spec.converged] - 1e-9))


def test_scaling_verdicts(scaling):
    assert ch.check_rc_sk(scaling).verdict == "confirmed"
    assert ch.check_rc_shift(scaling).verdict == "confirmed"


def test_q_verdicts(qres):
    assert ch.check_rc_p2(qres).verdict == "confirmed"
    assert ch.check_rc_p3(qres).verdict == "confirmed"
    assert qres.rank_ok


def test_expansion_verdict(expansion):
    v = ch.check_rc_l1(expansion)
    assert v.verdict == "refuted" and "1/n" in v.holds


def test_attention_verdicts(att):
    assert ch.check_rc_f1(att).verdict in ("confirmed", "qualified")
    assert ch.check_rc_conv(att).verdict == "qualified"


# ---------------------------------------------------------------- flip tests (doctored results)
def test_flip_ht_alg1(sweep):
    doctored = dataclasses.replace(sweep, converged=np.ones_like(sweep.converged), err=sweep.err * 0)
    assert ch.check_ht_alg1(doctored).verdict == "confirmed"
    none = dataclasses.replace(sweep, converged=np.zeros_like(sweep.converged))
    assert ch.check_ht_alg1(none).verdict == "refuted"


def test_flip_ht_e1(sweep):
    up = dataclasses.replace(sweep, sigma2=sweep.sigma2[::-1].copy(), entropy=sweep.entropy)
    assert ch.check_ht_e1(up).verdict == "refuted"


def test_flip_ht_t2(spec):
    exact = dataclasses.replace(
        spec,
        depth_fixed=np.ceil(spec.depth_sigma - 1e-9),
        depth_product=np.broadcast_to(np.ceil(spec.depth_sigma_product - 1e-9)[:, None], spec.depth_fixed.shape),
    )
    assert ch.check_ht_t2(exact).verdict == "confirmed"
    deep = dataclasses.replace(spec, depth_fixed=3 * np.ceil(spec.depth_sigma) + 5)
    assert ch.check_ht_t2(deep).verdict == "refuted"


def test_flip_ht_r2(spec):
    bad = dataclasses.replace(spec, power_norms=spec.power_norms * 1.5)
    assert ch.check_ht_r2(bad).verdict == "refuted"
    k = np.array(spec.config.powers)
    literal = dataclasses.replace(
        spec, full_power_norms=np.stack([0.5 * spec.sigma2[..., None] ** k] * 2, axis=-1)
    )
    assert ch.check_ht_r2(literal).verdict == "confirmed"


def test_flip_rc_sk_and_shift(scaling):
    bad = dataclasses.replace(scaling, diff_scaled=scaling.diff_scaled + 1e-4)
    assert ch.check_rc_sk(bad).verdict == "refuted"
    assert ch.check_rc_shift(bad).verdict == "refuted"
    bad19 = dataclasses.replace(scaling, diff_eq19=scaling.diff_eq19 + 1e-3)
    assert ch.check_rc_shift(bad19).verdict == "refuted"


def test_flip_rc_p2(qres):
    p2 = dict(qres.p2)
    p2["idempotent |Q(Q(Y)) - Q(Y)|"] = 1e-3
    assert ch.check_rc_p2(dataclasses.replace(qres, p2=p2)).verdict == "refuted"


def test_flip_rc_p3(qres):
    assert ch.check_rc_p3(dataclasses.replace(qres, ratio=qres.ratio * 1.2)).verdict == "refuted"


def test_flip_rc_l1(expansion):
    swapped = dataclasses.replace(expansion, res_n2=expansion.res_n, res_n=expansion.res_n2)
    assert ch.check_rc_l1(swapped).verdict == "confirmed"
    neither = dataclasses.replace(swapped, res_n2=expansion.res_n2)
    assert ch.check_rc_l1(neither).verdict == "refuted" and "neither" in ch.check_rc_l1(neither).holds


def test_flip_rc_f1(att):
    swapped = dataclasses.replace(att, rowH_softmax=att.rowH_sinkhorn, rowH_sinkhorn=att.rowH_softmax)
    assert ch.check_rc_f1(swapped).verdict == "refuted"


def test_flip_rc_conv(att):
    fast = dataclasses.replace(att, trace=att.trace * 0)
    assert ch.check_rc_conv(fast).verdict == "confirmed"
    slow = dataclasses.replace(att, trace=att.trace * 0 + 1.0)
    assert ch.check_rc_conv(slow).verdict == "refuted"
