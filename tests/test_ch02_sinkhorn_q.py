"""Chapter 2 experiments at small sizes, and a verdict-flip test for every claim."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import dsmlib as d
from dsmlib.experiments import ch02_sinkhorn_q as ch
clopper_pearson = ch.clopper_pearson


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
    assert ch.check_ht_e1(sweep).verdict in ("confirmed", "qualified")


def test_spectral_verdicts(spec):
    v = ch.check_ht_r2(spec)
    assert v.verdict == "confirmed" and v.can_fail
    own = [r for r in v.readings if r.papers_own]
    assert own[0].verdict == "confirmed" and {r.verdict for r in v.readings} == {"confirmed", "qualified"}
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
    assert v.severity == "constant"  # wrong by a factor n
    assert "C o R" not in v.evidence  # RC-L1 no longer rests on Prop. 4


def test_attention_verdicts(att):
    assert ch.check_rc_f1(att).verdict in ("confirmed", "qualified")
    assert ch.check_rc_conv(att).verdict == "qualified"


# ---------------------------------------------------------------- flip tests (doctored results)
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
    v = ch.check_ht_r2(literal)
    assert v.verdict == "confirmed" and all(r.verdict == "confirmed" for r in v.readings)
    normal = dataclasses.replace(spec, henrici=spec.henrici * 0)
    assert ch.check_ht_r2(normal).verdict == "refuted"


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


def test_unregistered_context_claims():
    """RC-F1 and RC-CONV are judged in chapter 6: chapter 2 registers no check for them."""
    from dsmlib import claims

    for cid in ("RC-F1", "RC-CONV"):
        entry = claims.check_entry(cid)
        assert entry is None or not entry[1].__module__.startswith(ch.__name__)


def test_every_qualified_or_refuted_has_severity(sweep, spec, scaling, qres, expansion):
    for v in (ch.check_ht_e1(sweep), ch.check_ht_t2(spec), ch.check_ht_r2(spec), ch.check_rc_l1(expansion)):
        if v.verdict in ("qualified", "refuted"):
            assert v.severity
    bad = dataclasses.replace(qres, ratio=qres.ratio * 1.2)
    assert ch.check_rc_p3(bad).severity == "constant"


# ================================================================ second edition
SMALL_ALG1 = ch.Alg1Config(n=16, temperatures=(0.004, 0.02, 0.2, 1.0), blocks=2, seeds_per_block=2, per_seed=20)
SMALL_AGG = ch.AggConfig(n=16, temperatures=(0.02, 0.1, 1.0, 10.0), seeds=(0, 1), per_seed=50)
SMALL_GRAD = ch.GradConfig(
    n=12, temperatures=(0.02, 0.05, 0.1, 1.0), seeds=(0,), per_seed=20, n_lanczos=20,
    fd_temperatures=(0.1, 1.0), fd_matrices=2,
)
SMALL_P4 = ch.P4Config(n=16, trials=30)
SMALL_SKA = ch.SkaConfig(n=24, trials=8, n_iter=400, record=(4, 40, 400))
SMALL_ENT = ch.EntropyOrderConfig(n=12, d_model=16, d_qk=4, scales=(2.0,), spreads=(0.0, 2.0), trials=60)


@pytest.fixture(scope="module")
def alg1():
    return ch.alg1_experiment.uncached(SMALL_ALG1)


@pytest.fixture(scope="module")
def agg():
    return ch.agg_experiment.uncached(SMALL_AGG)


@pytest.fixture(scope="module")
def grad():
    return ch.grad_experiment.uncached(SMALL_GRAD)


@pytest.fixture(scope="module")
def p4():
    return ch.p4_experiment.uncached(SMALL_P4)


@pytest.fixture(scope="module")
def ska():
    return ch.ska_experiment.uncached(SMALL_SKA)


def test_clopper_pearson():
    lo, hi = clopper_pearson(np.array([0, 5, 10]), 10)
    assert lo[0] == 0 and hi[2] == 1 and 0 < lo[1] < 0.5 < hi[1] < 1
    np.testing.assert_allclose(hi[0], 1 - 0.025 ** (1 / 10))
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


def test_alg1_blocks(alg1):
    assert alg1.failed.shape == (4, 2) and alg1.total == 80
    assert alg1.failed[0].sum() > 0 and alg1.failed[-1].sum() == 0  # T = 0.004 is too cold for K = 200
    v = ch.check_ht_alg1(alg1)
    assert v.verdict == "qualified" and v.severity == "scope"
    assert SMALL_ALG1.block_seeds(1) == (2, 3)


def test_flip_ht_alg1(alg1):
    none = dataclasses.replace(alg1, failed=alg1.failed * 0)
    assert ch.check_ht_alg1(none).verdict == "confirmed"
    top = dataclasses.replace(alg1, failed=np.minimum(alg1.failed + 1, alg1.block_size))
    v = ch.check_ht_alg1(top)
    assert v.verdict == "refuted" and v.severity == "conclusion"


def test_agg_identities(agg):
    # every DSM run converged (the cap is generous); sigma_2 <= 1 for a DSM; ||UPU|| <= ||PU||
    assert agg.converged.all() and agg.alg1_gain.shape == agg.dsm_gain.shape
    assert np.all(agg.dsm_gain <= 1 + 1e-9)
    assert np.all(agg.sm_gain <= agg.sm_gain_all + 1e-12)
    assert np.all(agg.sm_leak >= 0)


def test_agg_outcome_rules():
    r = np.array([[0.5] * 200, [1.0] * 200, [1.5] * 200, [0.5, 1.5] * 100])
    assert list(ch.agg_outcome(r)) == ["dsm", "equivalent", "softmax", "undecided"]
    with pytest.raises(ValueError):
        ch.agg_outcome(np.ones(3))


def test_flip_ht_agg(agg):
    v = ch.check_ht_agg(agg)
    assert v.can_fail and sum(r.papers_own for r in v.readings) == 1
    strong = dataclasses.replace(agg, dsm_gain=0.5 * agg.sm_gain)
    assert ch.check_ht_agg(strong).verdict == "confirmed"
    unconverged = dataclasses.replace(agg, converged=~agg.converged)
    assert ch.check_ht_agg(unconverged).verdict == "not-tested"
    weak = dataclasses.replace(agg, dsm_gain=agg.sm_gain)
    v = ch.check_ht_agg(weak)
    assert v.verdict == "refuted" and v.severity == "conclusion"
    some = dataclasses.replace(agg, dsm_gain=agg.sm_gain * np.array([0.5, 1, 1, 1])[:, None])
    v = ch.check_ht_agg(some)
    assert v.verdict == "qualified" and v.severity == "scope"


def test_sinkhorn_jacobian_dense_and_fd():
    rng = np.random.default_rng(0)
    n, T = 5, 0.3
    S = rng.standard_normal((n, n))
    M = d.sinkhorn(S / T, n_iter=100000, tol=1e-15, warn=False)
    E = np.eye(n * n).reshape(n * n, n, n)
    J = np.stack([ch.sinkhorn_jacobian_apply(M, e, T) for e in E]).reshape(n * n, n * n)
    np.testing.assert_allclose(J, J.T, atol=1e-12)  # symmetric
    ev = np.linalg.eigvalsh(J)
    assert ev[0] > -1e-12 and ev[-1] <= M.max() / T  # PSD, bounded by max M / T
    lo, hi = ch.jacobian_norm_bounds(M[None], T, 20, rng)
    np.testing.assert_allclose(lo, ev[-1], rtol=1e-8)
    V = rng.standard_normal((n, n))
    h = 1e-6
    kw = dict(n_iter=100000, tol=1e-15, warn=False)
    fd = (d.sinkhorn((S + h * V) / T, **kw) - d.sinkhorn((S - h * V) / T, **kw)) / (2 * h)
    np.testing.assert_allclose(ch.sinkhorn_jacobian_apply(M, V, T), fd, atol=1e-7)
    with pytest.raises(ValueError):
        ch.sinkhorn_jacobian_apply(M, V, -1.0)
    with pytest.raises(ValueError):
        ch.sinkhorn_jacobian_apply(M * 0, V, T)


def test_grad_verdict(grad):
    assert grad.fd_err.max() < 1e-4
    assert np.all(grad.jac_lower <= grad.jac_upper * (1 + 1e-9))
    # the logit Jacobian T ||J|| is bounded by max M <= 1 at every temperature
    assert np.all(grad.jac_lower * grad.temperatures[:, None] <= 1 + 1e-9)
    v = ch.check_ht_grad(grad)
    assert v.verdict == "confirmed" and not v.severity and v.can_fail
    assert len(v.readings) == 3 and v.readings[0].papers_own
    # an unconverged output has row sums off 1, so ||M 1||/sqrt(n) > 1 (Cauchy-Schwarz): the premise
    bad = ~grad.alg1_converged
    assert np.all(grad.alg1_norm_lo[bad] > 1)


def test_flip_ht_grad(grad):
    off = dataclasses.replace(grad, norm_hi=grad.norm_hi + 0.1)
    v = ch.check_ht_grad(off)
    assert v.verdict == "refuted" and v.severity == "conclusion"
    wrong = dataclasses.replace(grad, fd_err=grad.fd_err + 1)
    assert ch.check_ht_grad(wrong).verdict == "not-tested"
    above = dataclasses.replace(grad, jac_lower=grad.jac_upper * 2)
    assert ch.check_ht_grad(above).verdict == "not-tested"


def test_p4_verdict_and_flip(p4):
    v = ch.check_rc_p4(p4)
    assert v.verdict == "confirmed"
    assert abs(ch.p4_summary(p4)["intercept"] - 1) < 1e-3
    n = p4.config.n
    sinkhorn_like = dataclasses.replace(p4, coef=p4.coef * n)  # the coefficient Sinkhorn has
    v = ch.check_rc_p4(sinkhorn_like)
    assert v.verdict == "refuted" and v.severity == "constant"
    flat = dataclasses.replace(p4, remainder=np.ones_like(p4.remainder))
    assert ch.check_rc_p4(flat).verdict == "qualified"


def test_support_structure_known_cases():
    Y = np.array([
        [[1.0, 1.0], [0.0, 1.0]],  # support, no total support
        [[1.0, 1.0], [1.0, 1.0]],  # positive: total support
        [[0.0, 1.0], [1.0, 0.0]],  # a permutation: total support
        [[1.0, 1.0], [1.0, 0.0]],  # total support? (1,1),(0,1),(1,0): (0,0) on no diagonal
    ])
    sup, tot = ch.support_structure(Y)
    assert list(sup) == [True, True, True, True]
    assert list(tot) == [False, True, True, False]
    no = np.array([[[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    assert list(ch.support_structure(no)[0]) == [False]


def test_patterns_have_the_intended_structure():
    rng = np.random.default_rng(3)
    expect = {"total support": (True, True), "triangular": (True, False), "zero block": (True, False),
              "no support": (False, False)}
    for kind, (s, t) in expect.items():
        Y = ch.nonnegative_patterns(kind, 24, 5, rng)
        sup, tot = ch.support_structure(Y)
        assert np.all(sup == s) and np.all(tot == t), kind
    with pytest.raises(ValueError):
        ch.nonnegative_patterns("dense", 24, 5, rng)


def test_alternating_normalisation():
    M, tr = ch.alternating_normalisation(np.array([[1.0, 1.0], [0.0, 1.0]]), 100, (10, 100))
    assert M[1, 0] == 0 and 0 < M[0, 1] < 0.02  # positive entry -> 0 like 1/k
    assert tr["min_support"][1] < tr["min_support"][0]
    with pytest.raises(ValueError):
        ch.alternating_normalisation(np.array([[1.0, 0.0], [1.0, 0.0]]), 10)
    with pytest.raises(ValueError):
        ch.alternating_normalisation(-np.ones((2, 2)), 10)


def test_ska_verdict_and_flip(ska):
    v = ch.check_rc_ska(ska)
    assert v.verdict == "qualified" and v.severity == "scope" and v.can_fail
    assert [r.verdict for r in v.readings] == ["qualified", "confirmed", "confirmed"]
    conv, scaled = ch.ska_outcome(ska)
    assert np.all(scaled[ska.total_support]) and not np.any(scaled[~ska.total_support])
    ms = ska.min_support.copy()
    ms[:, :] = ms[:, -1:]  # no positive entry vanishes anywhere
    err = np.zeros_like(ska.err)
    assert ch.check_rc_ska(dataclasses.replace(ska, min_support=ms, err=err)).verdict == "confirmed"
    stuck = dataclasses.replace(ska, err=np.ones_like(ska.err))
    assert ch.check_rc_ska(stuck).verdict == "refuted"


def test_entropy_order():
    sm, sk = ch.two_token_example(6.0)
    assert sk < sm
    r = ch.entropy_order_experiment.uncached(SMALL_ENT)
    assert r.rowH_softmax.shape == (1, 2, 60)
    assert r.share_lower[0, 0] < 0.5


# ------------------------------------------------------------ the stored benchmark run


def _bench_run():
    impl = {
        "dsmlib": {"cpu_seconds": 1.5, "wall_seconds": 0.9, "sigma2_cpu_seconds": 0.9, "runs": 3, "cpu_vs_dsmlib": 1.0},
        "pot_loop": {"cpu_seconds": 13.5, "wall_seconds": 13.6, "sigma2_cpu_seconds": 3.2, "runs": 3,
                     "cpu_vs_dsmlib": 9.0},
        "loop": {"cpu_seconds": 60.0, "wall_seconds": 61.0, "sigma2_cpu_seconds": 4.0, "runs": 1,
                 "cpu_vs_dsmlib": 40.0},
    }
    return {
        "implementations": impl,
        "agreement": {"per_implementation": {"pot_loop": {"converged": 15440, "max_mean_diff_per_T": 3e-8}}},
        "floor": {"compute_floor_cpu_seconds": 0.3, "dsmlib_over_floor": 5.0, "gemm_gflops": 68.0,
                  "sweep_gflop": {"total": 20.0}},
        "growth": {"n=64,R=1000": {"n": 64, "R": 1000, "cpu": 1.5}, "n=128,R=250": {"n": 128, "R": 250, "cpu": 2.0},
                   "n=64,R=10000": {"n": 64, "R": 10000, "cpu": 15.0}, "exponent_n_at_const_Rn2": 0.4,
                   "exponent_R_at_n64": 1.0},
        "compile_seconds": {"numba_cold": 10.0, "numba_first_call_this_process": {"sinkhorn": 0.1, "sigma2": 0.05}},
    }


def test_benchmark_table_and_summary_read_the_stored_run(tmp_path):
    b = _bench_run()
    table = ch.benchmark_table(b)
    lines = table.splitlines()
    assert len(lines) == 2 + 3 and "dsmlib (compiled kernels)" in lines[2]  # sorted by CPU time
    assert "| 9.0x |" in table and "3.0e-08" in table and "n/a" in lines[2]  # no agreement row for dsmlib
    s = ch.benchmark_summary(b)
    assert s["vs_pot_loop"] == "9.0" and s["vs_loop"] == "40.0" and s["sigma2_share"] == "60"
    assert s["over_floor"] == "5.0" and s["vs_ott"] == "n/a" and s["numba_load"] == "0.15"
    assert ch.load_benchmark(tmp_path / "missing.json") == {}
    assert "make bench" in ch.benchmark_table({})
    assert all(v == "n/a" for k, v in ch.benchmark_summary({}).items() if k != "iterations_identical")


def test_benchmark_figure():
    import matplotlib.pyplot as plt

    fig = ch.benchmark_figure(_bench_run())
    assert fig is not None and len(fig.axes) == 2
    assert fig.axes[0].get_xscale() == "log" and fig.axes[1].get_xscale() == "log"
    assert fig.get_size_inches()[0] <= 7.5
    plt.close(fig)
    assert ch.benchmark_figure({}) is None


# ================================================================ third edition: RC-L1P and RC-LOG
SMALL_SKETCH = ch.SketchConfig(ns=(6, 10), trials=8)
SMALL_LOG = ch.LogDomainConfig(ns=(8,), scales=(1.0, 40.0, 400.0), trials=10, d_model=16, d_qk=4, n_iter=30,
                               record=(1, 10, 30), ref_n_iter=300)


@pytest.fixture(scope="module")
def sketch():
    return ch.sketch_experiment.uncached(SMALL_SKETCH)


@pytest.fixture(scope="module")
def logd():
    return ch.logdomain_experiment.uncached(SMALL_LOG)


def test_first_order_coefficient_of_known_maps():
    Y = np.random.default_rng(0).standard_normal((4, 5, 5))
    # F(Z) = J/n + Z/7 has coefficient 1/7 along Q(Y) (the J/n and non-Q parts drop out)
    c = ch.first_order_coefficient(lambda Z: 1 / 5 + d.q_project(Z) / 7 + Z.mean(-1, keepdims=True), Y, 1e-3)
    np.testing.assert_allclose(c, 1 / 7, rtol=1e-12)


def test_sketch_coefficients(sketch):
    ns = np.array(SMALL_SKETCH.ns)
    # k compositions of softmaxes: coefficient 1/n^(2k); normalisations and Sinkhorn: 1/n
    np.testing.assert_allclose(sketch.softmax, 1.0, atol=1e-3)
    np.testing.assert_allclose(sketch.normalise, 1.0, atol=1e-3)
    np.testing.assert_allclose(sketch.sinkhorn, 1.0, atol=1e-3)
    assert sketch.softmax.shape == (ns.size, 3, SMALL_SKETCH.trials)


def test_rc_l1p_verdict_and_flip(sketch):
    v = ch.check_rc_l1p(sketch)
    assert v.verdict == "refuted" and v.severity == "proof" and v.can_fail
    assert v.readings[0].papers_own and v.readings[0].verdict == "refuted"
    ns = np.array(SMALL_SKETCH.ns)[:, None, None]
    ks = np.array(SMALL_SKETCH.compositions)[None, :, None]
    # a world where composing keeps 1/n^2 and Sinkhorn has 1/n^2: the sketch would be right
    keeps = dataclasses.replace(sketch, softmax=sketch.softmax * ns ** (2 * ks - 2),
                                sinkhorn=sketch.sinkhorn / ns[:, 0])
    assert ch.check_rc_l1p(keeps).verdict == "confirmed"
    # Sinkhorn with neither coefficient: the conclusion itself fails
    odd = dataclasses.replace(sketch, sinkhorn=sketch.sinkhorn * 3)
    assert ch.check_rc_l1p(odd).severity == "conclusion"


def test_plain_and_log_iterates_agree_where_representable():
    rng = np.random.default_rng(1)
    S = rng.standard_normal((3, 6, 6))
    P, L = ch.plain_iterates(S, 20, (1, 20)), ch.log_iterates(S, 20, (1, 20))
    for k in (1, 20):
        np.testing.assert_allclose(P[k], L[k], atol=1e-13)
    np.testing.assert_allclose(L[20], d.sinkhorn(S, n_iter=20, tol=0.0, warn=False), atol=1e-12)
    # a span beyond the float range: the plain kernel underflows to zero rows, the log domain is finite
    S[0, 0] = 2000.0
    assert not np.isfinite(ch.plain_iterates(S, 5, (5,))[5][0]).all()
    assert np.isfinite(ch.log_iterates(S, 5, (5,))[5]).all()


def test_rc_log_verdict_and_flip(logd):
    assert logd.underflow.any() and (~logd.underflow).any()
    v = ch.check_rc_log(logd)
    assert v.verdict == "confirmed" and v.can_fail
    assert [r.verdict for r in v.readings] == ["confirmed", "qualified"]
    v = ch.check_rc_log(dataclasses.replace(logd, diff=logd.diff + 1e-3))  # the iterations part
    assert v.verdict == "refuted" and v.severity == "conclusion"
    broken = dataclasses.replace(logd, log_err=logd.log_err * np.inf)
    assert ch.check_rc_log(broken).verdict == "refuted"


def test_new_figures_have_labelled_axes(alg1, grad, logd):
    import matplotlib

    matplotlib.use("Agg")
    for fig in (ch.alg1_figure(alg1), ch.grad_figure(grad), ch.logdomain_figure(logd)):
        assert fig.axes and all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
        assert all(ax.get_legend() is not None for ax in fig.axes)


def test_result_tables(agg, spec, scaling, ska, qres, expansion, p4, att):
    tables = (ch.agg_table(agg), ch.depth_table(spec), ch.r2_table(spec), ch.scaling_table(scaling),
              ch.ska_table(ska), ch.p2_table(qres), ch.p3_table(qres), ch.expansion_table(expansion),
              ch.p4_table(p4), ch.attention_table(att))
    for t in tables:
        lines = t.splitlines()
        assert len(lines) >= 3 and len({line.count(" | ") for line in lines}) == 1, t
        assert "||" not in t and "lambda_2|" not in t.replace(r"|\lambda_2|", "")
