"""Chapter 5 experiments at small sizes, and flip tests for every check of the chapter."""

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


# ---------------------------------------------------------------------------------------
# second edition: severity, the rigorous entrywise bound, RC-T2S, RC-T4, RC-T5, RC-LAM
# ---------------------------------------------------------------------------------------
SMALL_T4 = ch.Theorem2Config(n=16, d_model=16, d_qk=4, n_heads=1, n_layers=3, rhos=(0.1, 0.2, 4.0), trials=10)
SMALL_T5 = ch.Theorem2Config(n=16, d_model=16, d_qk=4, n_heads=2, n_layers=1, rhos=(0.1, 0.3, 4.0), trials=10)
SMALL_COL = ch.CollapseConfig(sizes=((16, 16, 4, 2),), n_layers=3, small_rhos=(0.1, 0.2), trials=10)
SMALL_LAM = ch.LambdaConfig(sizes=(("tiny", 12, 16, 2, 8, 3),), draws=6, beta_networks=3)


def test_cross_ratio_spread_brackets_sinkhorn_entries():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(5, 9, 9)) * np.array([0.01, 0.1, 1.0, 3.0, 10.0])[:, None, None]
    d = ch.cross_ratio_spread(A, block=4)
    # brute force over all (i, j, k, l)
    c = A[:, :, None, :, None] - A[:, :, None, None, :] - A[:, None, :, :, None] + A[:, None, :, None, :]
    np.testing.assert_allclose(d, c.max(axis=(1, 2, 3, 4)))
    P = dsmlib_sinkhorn(A)
    n = A.shape[-1]
    assert np.all(P >= np.exp(-d)[:, None, None] / n * (1 - 1e-9))
    assert np.all(P <= np.exp(d)[:, None, None] / n * (1 + 1e-9))
    with pytest.raises(ValueError, match="A must"):
        ch.cross_ratio_spread(np.zeros((3, 4)))
    # rank-one aligned scores u u^T / sqrt(d_qk): closed form used by theorem1_experiment
    u = rng.normal(size=(4, 9))
    np.testing.assert_allclose(ch.cross_ratio_spread(u[:, :, None] * u[:, None, :] / 2.0),
                               np.ptp(u, axis=-1) ** 2 / 2.0)


def dsmlib_sinkhorn(A):
    from dsmlib import sinkhorn

    return sinkhorn(A, tol=1e-13, n_iter=5000, warn=False)


def test_rigorous_bound_never_violated_and_severity(t1):
    assert np.all(t1.lhs <= t1.rigorous_rhs * (1 + 1e-9))
    assert np.all(t1.lhs <= t1.rigorous_cubic_rhs * (1 + 1e-9))
    v = ch.check_rc_t1(t1)
    assert v.severity == "constant"  # constant off by sqrt(n), cubic shape intact
    assert "never violated" in v.holds
    # doctored: LHS above the rigorous bound -> the holds text says it failed
    bad = dataclasses.replace(t1, lhs=t1.rigorous_rhs * 2)
    assert "failed numerically" in ch.check_rc_t1(bad).holds


def test_rc_t2_severity_and_heuristic(t2):
    v = ch.check_rc_t2(t2)
    assert v.severity == "constant"
    assert "first-order statement" in v.holds


@pytest.fixture(scope="module")
def t4():
    return ch.theorem2_experiment.uncached(SMALL_T4)


@pytest.fixture(scope="module")
def t5():
    return ch.theorem2_experiment.uncached(SMALL_T5)


def test_rc_t4_flips(t4):
    v = ch.check_rc_t4(t4)
    assert v.verdict == "refuted" and v.severity == "constant"
    b = ch.bound_summary(t4)
    np.testing.assert_allclose(b.worst_by_layer[0], np.log10(np.sqrt(16)), atol=0.05)
    fixed = dataclasses.replace(t4, log_lhs=t4.log_bound("paper") - 1.0)
    assert ch.check_rc_t4(fixed).verdict == "confirmed"
    with pytest.raises(ValueError, match="n_heads"):
        ch.theorem4_experiment(SMALL_T5)


def test_rc_t5_flips(t5):
    v = ch.check_rc_t5(t5)
    assert v.verdict == "refuted" and v.severity == "constant"
    assert abs(ch.bound_summary(t5).exponent[0] - 3) < 0.05
    fixed = dataclasses.replace(t5, log_lhs=t5.log_bound("paper") - 1.0)
    assert ch.check_rc_t5(fixed).verdict == "confirmed"
    # doctored: output grows linearly in the input (exponent 1) and exceeds the bound -> conclusion
    lin = t5.log_lhs.copy()
    lin[..., 1] = lin[..., 0] + 3.0
    assert ch.check_rc_t5(dataclasses.replace(t5, log_lhs=lin)).severity == "conclusion"
    with pytest.raises(ValueError, match="n_layers"):
        ch.theorem5_experiment(SMALL_T4)


def test_san_residual_trace_matches_pure_san():
    from dsmlib.attention import pure_san, random_san_weights
    from dsmlib.projections import res

    rng = np.random.default_rng(0)
    W = random_san_weights(2, 2, 8, 4, size=3, rng=rng)
    X = res(rng.normal(size=(3, 6, 8)))
    lr, am = ch.san_residual_trace(X, W, tol=1e-12)
    Y = pure_san(X, W, tol=1e-12, n_iter=1000, warn=False).outputs
    np.testing.assert_allclose(lr, np.log10(ch.spec_norm(res(Y))).T, rtol=1e-9)
    assert am.shape == (3, 3) and np.all(am[:, :-1] > 0) and np.all(np.isnan(am[:, -1]))
    with pytest.raises(ValueError, match="X must"):
        ch.san_residual_trace(X[0], W)


@pytest.fixture(scope="module")
def col():
    return ch.collapse_experiment.uncached(SMALL_COL)


def test_rc_t2s_flips(col):
    assert col.log_res.shape == (1, 3, 10, 4) and col.local_k.shape == (1, 10, 3)
    assert abs(ch.collapse_exponent(col, 0) - 3) < 0.1
    v = ch.check_rc_t2s(col)
    assert v.verdict in ("confirmed", "qualified") and v.can_fail
    assert sum(r.papers_own for r in v.readings) == 1
    # doctored: each layer squares instead of cubing (log r_l+1 = 2 log r_l - 0.5): decrement ratio 2 -> refuted
    sq = col.log_res.copy()
    for ell in range(1, sq.shape[-1]):
        sq[..., ell] = 2 * sq[..., ell - 1] - 0.5
    w = ch.check_rc_t2s(dataclasses.replace(col, log_res=sq))
    assert w.verdict == "refuted" and w.severity == "conclusion"
    # doctored: the standard regime decays exponentially (constant factor per layer) -> refuted
    ex = col.log_res.copy()
    ex[:, 0] = ex[:, 0, :, :1] - 1.5 * np.arange(ex.shape[-1])
    am = col.amax_in.copy()
    am[:, 0, :, :-1] = 1.0  # never first-order, always resolvable
    assert ch.check_rc_t2s(dataclasses.replace(col, log_res=ex, amax_in=am)).verdict == "refuted"
    # doctored: an exact cubic trajectory with first-order inputs from layer 1 on -> confirmed;
    # the same with local exponents 2 -> qualified (the rate, not the shape, fails)
    cub = col.log_res.copy()
    for ell in range(1, cub.shape[-1]):
        cub[:, 0, :, ell] = 3 * cub[:, 0, :, ell - 1] - 1.0
    am2 = col.amax_in.copy()
    am2[:, 0, :, 1:-1] = 1e-3
    am2[:, 0, :, 0] = 1.0
    good = dataclasses.replace(col, log_res=cub, amax_in=am2, local_k=np.full_like(col.local_k, 3.0))
    assert ch.check_rc_t2s(good).verdict == "confirmed"
    two = ch.check_rc_t2s(dataclasses.replace(good, local_k=np.full_like(col.local_k, 2.0)))
    assert two.verdict == "qualified" and two.severity == "constant"
    with pytest.raises(ValueError, match="local exponents"):
        ch.check_rc_t2s(dataclasses.replace(col, local_k=None))


def test_decrement_ratios_and_local_exponents():
    from dsmlib.attention import random_san_weights
    from dsmlib.projections import res

    cfg = ch.CollapseConfig(sizes=((8, 8, 4, 1),), n_layers=3, small_rhos=(0.1,), trials=2)
    X = np.zeros((1, 2, 2, 4))
    X[..., 0] = 0.0
    for ell in range(1, 4):
        X[..., ell] = 3 * X[..., ell - 1] - 1.0  # r_l+1 = 0.1 r_l^3
    r = ch.CollapseResult(cfg, X[None], np.full((1, 2, 2, 4), 1.0))
    np.testing.assert_allclose(ch.decrement_ratios(r, 0), 3.0)
    # a single layer on small centred inputs cubes its residual: local exponent 3
    rng = np.random.default_rng(0)
    W = random_san_weights(2, 2, 8, 4, size=3, rng=rng)
    R = res(rng.normal(size=(3, 6, 8)))
    k = ch.local_exponents(1e-2 * R, W)
    np.testing.assert_allclose(k[:, 0], 3.0, atol=1e-3)  # deeper layers: scores below rounding
    assert np.all(ch.local_exponents(30 * R, W)[:, 0] < 2.5)  # saturated attention: not cubic
    with pytest.raises(ValueError, match="h must"):
        ch.local_exponents(R, W, h=1.5)


def test_rate_ratios():
    t = np.arange(1, 21)
    np.testing.assert_allclose(ch.rate_ratios(np.exp(-0.3 - 0.8 * t)[None], t), [1.0])
    assert ch.rate_ratios(np.exp(-0.01 * 3.0**t), t) > 10
    with pytest.raises(ValueError, match="depths"):
        ch.rate_ratios(np.ones((2, 5)), t)


SMALL_MIX = ch.MixingConfig(n=12, d_model=16, d_qk=4, depth=8, n_products=6, scales=(1.0, 3.0), chunk=4)
SMALL_P3L = ch.LambdaDependenceConfig(n=12, d_model=16, d_qk=4, draws=5)


def test_rc_mix_flips():
    r = ch.mixing_experiment.uncached(SMALL_MIX)
    assert r.dist.shape == (2, 6, 8) and r.perm_dist.shape == (6, 8)
    assert np.all(r.dist <= r.bound * (1 + 1e-6))
    np.testing.assert_allclose(r.perm_dist, 1.0)
    v = ch.check_rc_mix(r)
    assert v.verdict == "confirmed" and v.can_fail
    assert [x.verdict for x in v.readings] == ["confirmed", "refuted"]
    # doctored: products that stop mixing (distance constant) -> refuted, conclusion
    stuck = dataclasses.replace(r, dist=np.broadcast_to(r.dist[..., :1], r.dist.shape).copy())
    w = ch.check_rc_mix(stuck)
    assert w.verdict == "refuted" and w.severity == "conclusion"


def test_rc_p3l_flips():
    r = ch.lambda_dependence_experiment.uncached(SMALL_P3L)
    assert r.lam_theorem.shape == (3, 5)
    np.testing.assert_allclose(r.lam_theorem, 1.0, atol=1e-12)  # centred R: Q(A) = A
    v = ch.check_rc_p3l(r)
    assert v.verdict == "qualified" and v.severity == "proof"
    # doctored: lambda the same for every matrix -> confirmed
    flat = dataclasses.replace(r, lam_theorem=r.lam_theorem * 0 + 0.7, lam_raw=r.lam_raw * 0 + 0.7)
    assert ch.check_rc_p3l(flat).verdict == "confirmed"
    assert ch.frobenius_lambda(np.ones((3, 3))) == 0.0
    with pytest.raises(ValueError, match="Y must"):
        ch.frobenius_lambda(np.ones((3, 4)))


def test_rc_t1p_flips(t1):
    v = ch.check_rc_t1p(t1)
    assert v.verdict == "refuted" and v.severity == "proof"
    # doctored: LHS a decade under every bound -> the chain yields a valid bound -> confirmed
    assert ch.check_rc_t1p(dataclasses.replace(t1, lhs=t1.lhs / 1e3)).verdict == "confirmed"


def test_rc_beta_flips(lam):
    v = ch.check_rc_beta(lam)
    own = [r for r in v.readings if r.papers_own][0]
    assert own.name.startswith(ch.RC_INIT) and v.verdict == own.verdict
    big = ch.check_rc_beta(dataclasses.replace(lam, beta=lam.beta * 0 + 100.0))
    assert big.verdict == "refuted" and big.severity == "constant"
    ok = ch.check_rc_beta(dataclasses.replace(lam, beta=lam.beta * 0 + 1.0))
    assert ok.verdict == "confirmed"


@pytest.fixture(scope="module")
def lam():
    return ch.lambda_experiment.uncached(SMALL_LAM)


def test_init_weights_scales():
    rng = np.random.default_rng(0)
    for init, var in (("torch-linear", 1 / 3 / 64), ("xavier", 1 / 64), ("normal-0.02", 4e-4)):
        W = ch.init_weights(init, 64, (64, 64), rng)
        np.testing.assert_allclose(W.W_Q.var(), var, rtol=0.1)
    with pytest.raises(ValueError, match="init"):
        ch.init_weights("he", 8, (8, 8), rng)


def test_rc_lam_flips(lam):
    assert lam.beta.shape == (1, 4, 3) and lam.res_norm.shape == (1, 4, 6)
    assert np.all((lam.lam > 0) & (lam.lam <= 1 + 1e-12))
    v = ch.check_rc_lam(lam)
    assert v.verdict in ("confirmed", "qualified")
    # doctored: tiny scores and tokens -> in the first-order regime, bound decays -> confirmed
    ok = dataclasses.replace(lam, score_max=lam.score_max * 0 + 1e-4, res_norm=lam.res_norm * 0 + 1.0)
    assert ch.check_rc_lam(ok).verdict == "confirmed"
    # doctored: beta blown up so the coefficient exceeds 1 -> refuted
    big = dataclasses.replace(lam, beta=lam.beta * 1e6)
    w = ch.check_rc_lam(big)
    assert w.verdict == "refuted" and w.severity == "conclusion"
    # doctored: scores of order one -> qualified, scope
    sat = dataclasses.replace(ok, score_max=ok.score_max + 1.0)
    u = ch.check_rc_lam(sat)
    assert u.verdict == "qualified" and u.severity == "scope"


def test_rc_g_severity(rp):
    fast = rp.residual.copy()
    fast[:, 1] = fast[:, 0] ** 2
    assert ch.check_rc_g(dataclasses.replace(rp, residual=fast)).severity == "conclusion"
    v = ch.check_rc_g(rp)
    assert (v.verdict == "confirmed") == (v.severity == "")


def _exact_cubic_collapse(layer_offsets, seed=0):
    """A CollapseResult that follows r_{l+1} = c_{i,l} r_l^3 exactly: two rescaled regimes
    enter at layer 0, a 'standard' regime only at layer 2 (as in the real experiment)."""
    rng = np.random.default_rng(seed)
    m, L = 50, 3
    logc = np.asarray(layer_offsets)[None, :] + 0.05 * rng.standard_normal((m, L))
    X = np.empty((3, m, L + 1))
    X[1, :, 0], X[2, :, 0] = np.log10(0.25), np.log10(0.5)
    X[0, :, :3] = [1.3, 0.7, -1.6]
    for ell in range(L):
        X[1:, :, ell + 1] = logc[:, ell] + 3 * X[1:, :, ell]
    X[0, :, 3] = logc[:, 2] + 3 * X[0, :, 2]
    am = np.full((3, m, L + 1), 1.0)  # scores of order one: not first-order
    am[1:, :, 0] = 1e-3  # rescaled inputs: first-order at layer 0
    am[1:, :, 1:] = 1e-12  # ... then unresolvable
    am[0, :, 2] = 1e-3  # standard tokens: first-order at layer 2 only
    am[..., -1] = np.nan
    cfg = ch.CollapseConfig(sizes=((16, 16, 4, 2),), n_layers=L, small_rhos=(0.25, 0.5), trials=m)
    return ch.CollapseResult(cfg, X[None], am[None])


def test_pooled_exponent_biased_by_layer_constants():
    # exact cubic law; the layer-2 constant is half a decade smaller than the layer-0 one
    biased = _exact_cubic_collapse([-3.3, -3.5, -3.9])
    assert abs(ch.collapse_exponent(biased, 0) - 3) < 1e-9
    assert ch.pooled_exponent(biased, 0) > 3.3
    # the same constant at every layer (networks still differ): both estimators find 3
    flat = _exact_cubic_collapse([-3.5, -3.5, -3.5])
    assert abs(ch.pooled_exponent(flat, 0) - 3) < 0.1
    assert abs(ch.collapse_exponent(flat, 0) - 3) < 1e-9


def test_synthetic_cubic_collapse_and_estimator_check(col):
    syn = ch.synthetic_cubic_collapse(col, 0, seed=1)
    assert syn.log_res.shape == col.log_res.shape
    np.testing.assert_array_equal(syn.reliable, col.reliable)
    # every first-order transition of the synthetic copy is exactly cubic
    assert abs(ch.collapse_exponent(syn, 0) - 3) < 1e-9
    again = ch.synthetic_cubic_collapse(col, 0, seed=1)
    np.testing.assert_array_equal(again.log_res, syn.log_res)  # seeded
    e = ch.estimator_check(col, 0, seed=1)
    assert abs(e.per_network_synthetic - 3) < 1e-9
    assert np.isfinite(e.pooled_real) and np.isfinite(e.pooled_synthetic)
    with pytest.raises(ValueError, match="size"):
        ch.synthetic_cubic_collapse(col, 5)


def test_tables_and_figures(col, t1, t2):
    import matplotlib

    matplotlib.use("Agg")
    from dsmlib.experiments.ch05_rank_decay import figures as chf

    tab = ch.collapse_table(col)
    lines = tab.splitlines()
    assert len(lines) == 2 + col.config.n_layers * len(col.config.sizes)
    assert all(line.count("|") == lines[0].count("|") for line in lines)  # no stray pipe from maths
    assert r"\vert" in lines[0]
    for tab in (ch.t1_table(t1), ch.gap_table(t2), ch.rigorous_table(t1),
                ch.bound_table({"Thm 2": t2})):
        rows = [x for x in tab.splitlines() if x.startswith("|")]
        assert len({x.count("|") for x in rows}) == 1
    for fig in (chf.fig_local_exponents(col), chf.fig_collapse(col), chf.fig_thm1(t1, d_qk=4), chf.fig_thm2(t2)):
        for ax in fig.axes:
            assert ax.get_xlabel()
        matplotlib.pyplot.close(fig)
    mix = ch.mixing_experiment.uncached(SMALL_MIX)
    fig = chf.fig_mixing(mix)
    assert fig.axes[0].get_ylabel() and fig.axes[0].get_yscale() == "log"
    s = ch.summary([ch.check_rc_mix(mix)])
    assert s.splitlines()[2].startswith("| {prf:ref}`RC-MIX")
    with pytest.raises(ValueError, match="verdicts must include"):
        ch.findings([ch.check_rc_mix(mix)])
