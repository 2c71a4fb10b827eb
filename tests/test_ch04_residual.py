"""Chapter 4 experiments at small sizes, and a verdict-flip test for every claim."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

import dsmlib
from dsmlib import claims
from dsmlib.experiments import ch04_residual as ch

os.environ.setdefault("DSMLIB_NO_CACHE", "1")

SMALL_DEEP = ch.DeepConfig(n=16, trials=60, depth=16, temperatures=(0.05, 0.3, 1.0), pool=64)
SMALL_ESC = ch.EscapeConfig(n=16, trials=40, depth=8, pool=32)
SMALL_PATH = ch.PathConfig(n=12, d_model=16, d_qk=8, depths=(1, 2, 4, 6), paths=40, scale=2.0)
SMALL_PAIR = ch.NoisyPairConfig(n=16, pairs=40, networks=4, depth=24, temperatures=(1.0, 10.0))
SMALL_ID = ch.IdentityDepthConfig(n=16, trials=40, temperatures=(0.3, 3.0), depths=(128, 256), networks=2,
                                  fixed_matrices=4, fixed_depth=64)


@pytest.fixture(scope="module")
def deep():
    return ch.deep_experiment.uncached(SMALL_DEEP)


@pytest.fixture(scope="module")
def paths():
    return ch.path_experiment.uncached(SMALL_PATH)


@pytest.fixture(scope="module")
def pairs():
    return ch.noisy_pair_experiment.uncached(SMALL_PAIR)


@pytest.fixture(scope="module")
def idres():
    return ch.identity_depth_experiment.uncached(SMALL_ID)


def test_deep_shapes_and_proof_step(deep):
    V, L = len(ch.VARIANTS), SMALL_DEEP.depth
    assert deep.angle0_q.shape == (3, V, L + 1, 3)
    assert deep.violation.shape == (3, V, L)
    assert deep.angle0_at.shape == (3, V, 3, SMALL_DEEP.trials)
    # the bound holds on every mean-free input at layer 1 (Lemma 2 + ReLU contraction)
    perp = [k for k, v in enumerate(ch.VARIANTS) if v[2] == "perp"]
    assert deep.violation[:, perp, 0].max() == 0
    # a skip block doubles the mean: identity + skip with a mean grows ~ x2 per layer
    m = ch.variant_index("skip", "identity", "mean")
    assert np.all(np.abs(deep.lognorm_q[:, m, -1, 1] / L - np.log(2)) < 0.05)
    # LN streams are mean-free
    k = ch.variant_index("skip+LN", "relu", "perp")
    assert deep.meanfrac_q[:, k, 1:, 2].max() < 1e-10


def test_effective_depth():
    assert ch.effective_depth(np.exp(-1.0), eps=np.exp(-3.0)) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        ch.effective_depth(1.2)
    assert ch.measured_depth(np.array([1.0, 0.1, 0.001]), 0.01) == 2.0
    assert ch.measured_depth(np.array([1.0, 0.5]), 0.01) == np.inf


def test_growth_ratio():
    assert ch.growth_ratio(np.full(5, 1.0), np.full(5, 2.0)) == pytest.approx(1.0)
    assert ch.growth_ratio(np.full(5, 1.0), np.full(5, np.sqrt(2))) == pytest.approx(np.sqrt(2) - 1)


def test_inputs():
    x, x2 = ch.make_inputs(16, 5, 0.0, 0.9, np.random.default_rng(0))
    assert np.allclose(x.sum(-1), 0) and np.allclose(x2.sum(-1), 0)
    cos = (x * x2).sum(-1) / np.linalg.norm(x, axis=-1) / np.linalg.norm(x2, axis=-1)
    assert np.allclose(cos, 0.9)


def test_escape_runs():
    e = ch.escape_experiment.uncached(SMALL_ESC)
    assert e.angle0_q.shape == (len(ch.MIXINGS), len(ch.ESC_COLS), SMALL_ESC.depth + 1, 3)
    g = ch.MIXINGS.index("Gaussian")
    d = ch.MIXINGS.index("DSM")
    assert e.lognorm_q[g, 0, -1, 1] > e.lognorm_q[d, 0, -1, 1]


def test_paths(paths):
    assert paths.noskip.shape == (2, 4, 40)
    assert paths.noskip_all.shape == (2, 6, 40)
    assert np.array_equal(paths.noskip_all[:, [0, 1, 3, 5]], paths.noskip)
    assert paths.same_all.shape == (2, 6, 40) and paths.same_lazy.shape == (2, 4, 40)
    assert np.array_equal(paths.same_all[:, 0], paths.noskip_all[:, 0])  # the first factor is shared
    # identical factors: the skip network follows its path-length mixture closely (no cancellation)
    same = ch.mixture_table(paths, "sinkhorn", identical=True)
    assert all(0.5 < r["ratio"] <= 1 + 1e-6 for r in same)
    assert np.all(paths.lengths <= np.array(SMALL_PATH.depths)[None, :, None])
    # the lazy product of (I + P)/2 decays slower than the product of the P
    assert np.all(np.median(paths.lazy[:, -1], axis=-1) > np.median(paths.noskip[:, -1], axis=-1))


# ----------------------------------------------------------------------------- flips
def _doctor_plateau(r: ch.DeepResult) -> ch.DeepResult:
    """Angles that stop growing: theta at L equals theta at L/2, small."""
    a = r.angle0_at.copy()
    a[:] = 0.1 + 0.001 * np.random.default_rng(0).random(a.shape)
    q = r.angle0_q.copy()
    q[:] = 0.1
    return dataclasses.replace(r, angle0_at=a, angle0_q=q)


def _doctor_growing(r: ch.DeepResult) -> ch.DeepResult:
    a = r.angle0_at.copy()
    ck = r.checkpoints
    for i, d in enumerate(ck):
        a[:, :, i] = 0.02 * d * (1 + 0.01 * np.random.default_rng(i).random(a.shape[-1]))
    return dataclasses.replace(r, angle0_at=a)


def test_flip_ht_p1(deep):
    grow = claims.evaluate("HT-P1", _doctor_growing(deep))
    assert grow.verdict == "refuted" and grow.severity == "conclusion" and grow.can_fail
    assert [r.verdict for r in grow.readings] == ["refuted", "qualified"]
    flat = claims.evaluate("HT-P1", _doctor_plateau(deep))
    assert flat.verdict == "qualified"  # step only on V_perp, and the angle stops
    assert flat.severity == "scope"
    viol = flat_viol = deep.violation.copy()
    flat_viol[:] = 0.0
    ok = dataclasses.replace(_doctor_plateau(deep), violation=flat_viol,
                             meanfrac_q=np.zeros_like(deep.meanfrac_q))
    assert claims.evaluate("HT-P1", ok).verdict == "confirmed"
    bad = viol.copy()
    bad[:, ch.variant_index("skip+LN", "relu", "perp"), 3] = 0.5
    step = claims.evaluate("HT-P1", dataclasses.replace(_doctor_plateau(deep), violation=bad))
    assert step.verdict == "refuted" and step.severity == "proof"


def test_mixture_prediction(paths):
    # Bernoulli-skipped paths are exactly the path-length mixture: means agree within noise
    rows = ch.mixture_table(paths, "sinkhorn")
    for r in rows:
        assert r["bernoulli"] == pytest.approx(r["predicted"], rel=0.5)
    # for DSM factors the mixture is an upper bound of the skip network's residual
    assert all(r["measured"] <= r["predicted"] * (1 + 1e-6) for r in rows)
    assert ch.mixture_prediction(paths, "sinkhorn")[0] == pytest.approx(
        (1 + paths.noskip_all[0, 0].mean()) / 2)


def _lazy_as_predicted(paths: ch.PathResult) -> ch.PathResult:
    lazy = paths.lazy.copy()
    pred = ch.mixture_prediction(paths, "sinkhorn")
    lazy[0] = pred[:, None] * (1 + 0.01 * np.random.default_rng(0).standard_normal(lazy.shape[1:]))
    return dataclasses.replace(paths, lazy=lazy)


def test_flip_rc_skip(paths):
    v = claims.evaluate("RC-SKIP", paths)
    assert v.verdict == "confirmed" and v.severity == ""  # skips slow decay; the mixture is a bound
    assert v.can_fail and len(v.readings) == 2 and v.readings[1].verdict == "confirmed"
    ok = claims.evaluate("RC-SKIP", _lazy_as_predicted(paths))
    assert ok.verdict == "confirmed" and ok.severity == ""
    above = dataclasses.replace(paths, lazy=paths.lazy * 2.0)  # the mixture bound flips
    assert claims.evaluate("RC-SKIP", above).readings[1].verdict == "refuted"
    swapped = dataclasses.replace(paths, skip=paths.noskip, noskip=paths.skip)
    bad = claims.evaluate("RC-SKIP", swapped)
    assert bad.verdict == "refuted" and bad.severity == "conclusion"
    same = dataclasses.replace(_lazy_as_predicted(paths), skip=paths.noskip)
    q = claims.evaluate("RC-SKIP", same)
    assert q.verdict == "qualified" and q.severity == "scope"


# ----------------------------------------------------------------------------- HT-RES
def _algorithm1_reference(n, T, size, rng, n_iter=200, tol=1e-6):
    """The chapter's former private Algorithm 1, op for op (the stored outputs depend on it)."""
    A = rng.random((size, n, n))
    np.multiply(A, -1.0 / T, out=A)
    np.exp(A, out=A)
    err = np.full(size, np.inf)
    for _ in range(n_iter):
        A /= A.sum(axis=-1, keepdims=True)
        A /= A.sum(axis=-2, keepdims=True)
        err = np.abs(A.sum(axis=-1) - 1.0).max(axis=-1)
        if err.max() <= tol:
            break
    return A, int((err > tol).sum())


def test_algorithm1_batch_is_bit_identical():
    from dsmlib.projections import layer_norm_inplace
    from dsmlib.sinkhorn import algorithm1_batch

    for seed, (n, T, size) in enumerate([(64, 0.3, 20), (64, 10.0, 20), (16, 0.05, 9), (16, 1.0, 3)]):
        A, nf = algorithm1_batch(n, T, size, np.random.default_rng(seed))
        B, nb = _algorithm1_reference(n, T, size, np.random.default_rng(seed))
        assert np.array_equal(A, B) and nf == nb
    Y = np.random.default_rng(9).standard_normal((3, 16, 5))
    ref = Y - Y.mean(axis=1, keepdims=True)
    ref *= np.sqrt(16) / np.linalg.norm(ref, axis=1, keepdims=True)
    assert np.array_equal(layer_norm_inplace(Y, axis=1), ref)
    assert np.allclose(ref.transpose(0, 2, 1), dsmlib.layer_norm(ref.transpose(0, 2, 1)))
    with pytest.raises(ValueError):
        layer_norm_inplace([1.0, 2.0])


def test_algorithm1_batch_matches_random_dsm():
    from dsmlib.sinkhorn import algorithm1_batch

    A, nf = algorithm1_batch(16, 1.0, 5, np.random.default_rng(3))
    B = dsmlib.random_dsm(16, 1.0, size=5, rng=np.random.default_rng(3))
    assert nf == 0 and np.abs(A - B).max() < 1e-6
    assert np.allclose(A.sum(-2), 1) and np.abs(A.sum(-1) - 1).max() <= 1e-6
    for bad in (dict(n=1), dict(size=0), dict(temperature=0.0), dict(temperature=np.nan),
                dict(temperature=1e-4), dict(rng=3), dict(tol=-1.0), dict(n_iter=0)):
        kw = dict(n=8, temperature=1.0, size=2, rng=np.random.default_rng(0)) | bad
        with pytest.raises(ValueError):
            algorithm1_batch(**kw)


def test_noisy_pairs(pairs):
    c = SMALL_PAIR
    A = len(ch.RES_ARCHS)
    assert A == 4 and pairs.net_mean_cos.shape == (2, A, c.depth + 1, c.networks)
    assert pairs.cos_final.shape == (2, A, c.pairs) and pairs.net_angle0.shape == (2, A, c.depth + 1, c.networks)
    assert np.allclose(pairs.net_mean_cos[:, :, 0], c.pair_cos) and np.allclose(pairs.net_angle0[:, :, 0], 0)
    # skips keep the pair close to the noise-only law; without skips it decorrelates at T = 10
    assert np.all(np.abs(pairs.net_mean_cos[:, 0, -1].mean(-1) - ch.skip_pair_law(c, c.depth)) < 0.02)
    assert abs(pairs.net_mean_cos[1, 1, -1].mean()) < 0.1
    # a skip around HT's block loses more alignment at T = 10 than at T = 1
    assert pairs.net_mean_cos[1, 2, -1].mean() < pairs.net_mean_cos[0, 2, -1].mean()


def test_cluster_ci():
    mu, lo, hi = ch.cluster_ci(np.array([[1.0, 2.0, 3.0]]))
    assert mu[0] == 2.0 and lo[0] < 2.0 < hi[0]
    with pytest.raises(ValueError):
        ch.cluster_ci(np.ones((2, 1)))


def _doctor_pairs(r: ch.NoisyPairResult, skip: float, noskip: float, other: float = 0.95) -> ch.NoisyPairResult:
    """Final mean cosines: ``skip`` for the skip around HT's block, ``other`` for the other skips."""
    g = r.net_mean_cos.copy()
    noise = 0.001 * np.random.default_rng(0).standard_normal(g.shape[-1])
    g[:, 2, -1] = skip + noise
    g[:, 1, -1] = noskip + noise
    g[:, 0, -1] = g[:, 3, -1] = other + noise
    return dataclasses.replace(r, net_mean_cos=g)


def test_flip_ht_res(pairs):
    refuted = claims.evaluate("HT-RES", _doctor_pairs(pairs, 0.95, 0.0))
    assert refuted.verdict == "refuted" and refuted.severity == "conclusion" and refuted.can_fail
    ok = claims.evaluate("HT-RES", _doctor_pairs(pairs, 0.0, 0.0))
    assert ok.verdict == "confirmed" and [r.verdict for r in ok.readings] == ["confirmed", "refuted", "refuted"]
    part = claims.evaluate("HT-RES", _doctor_pairs(pairs, 0.5, 0.0))
    assert part.verdict == "qualified" and part.severity == "scope"
    none = claims.evaluate("HT-RES", _doctor_pairs(pairs, 0.95, 0.5))
    assert none.verdict == "inconclusive" and none.severity == ""
    other = claims.evaluate("HT-RES", _doctor_pairs(pairs, 0.0, 0.0, other=0.0))
    assert [r.verdict for r in other.readings] == ["confirmed"] * 3
    assert ch.res_states(_doctor_pairs(pairs, 0.5, 0.0)).shape == (2, 4)




# ----------------------------------------------------------------------------- HT-DEEP
def test_identity_depth(idres):
    c = SMALL_ID
    K = idres.checkpoints.size
    assert idres.fresh_q.shape == (2, K, 3) and idres.fresh_net_med.shape == (2, K, c.networks)
    assert np.isnan(idres.fresh_q[0, idres.checkpoints > c.depths[0]]).all()
    assert idres.fixed_q.shape == (2, idres.fixed_checkpoints.size, 3)
    fits = ch.walk_fits(idres)
    # random walk: exponent ~ 1/2, theta ~ kappa sigma2 sqrt(L) with kappa ~ 1/2
    for f in fits:
        assert 0.3 < f.beta < 0.7 and 0.3 < f.kappa < 0.8
        assert 0.3 < f.kappa_fixed < 0.8
    assert ch.identity_depth_law(0.01, 0.5, theta_deg=np.degrees(0.1)) == pytest.approx(400.0)
    assert ch.identity_depth_law(0.01, 0.5, theta_deg=np.degrees(0.1), fixed=True) == pytest.approx(20.0)
    with pytest.raises(ValueError):
        ch.identity_depth_law(0.0, 0.5)
    assert list(ch._checkpoints(16)) == [1, 2, 3, 4, 6, 8, 11, 16]


def _doctor_theta(r: ch.IdentityDepthResult, law) -> ch.IdentityDepthResult:
    q = r.fresh_q.copy()
    L = r.checkpoints.astype(float)
    for t in range(q.shape[0]):
        ok = np.isfinite(q[t, :, 1])
        q[t, ok] = law(L[ok], t)[:, None] * np.array([0.9, 1.0, 1.1])
    return dataclasses.replace(r, fresh_q=q)


def test_flip_ht_deep(idres):
    v = claims.evaluate("HT-DEEP", idres)
    assert v.can_fail and v.readings[1].verdict == "refuted"  # literal: beta ~ 1/2
    # practical reading (the paper's own): flat small angles stay the identity at every T
    flat = claims.evaluate("HT-DEEP", _doctor_theta(idres, lambda L, t: np.full_like(L, 0.05)))
    assert flat.verdict == "confirmed" and flat.severity == "" and flat.readings[1].verdict == "confirmed"
    mixed = claims.evaluate("HT-DEEP", _doctor_theta(
        idres, lambda L, t: np.full_like(L, 0.05) if t == 0 else 0.01 * np.sqrt(L)))
    assert mixed.verdict == "qualified" and mixed.severity == "scope"
    grow = claims.evaluate("HT-DEEP", _doctor_theta(idres, lambda L, t: 0.01 * L))
    assert grow.verdict == "refuted" and grow.severity == "conclusion"
    shallow = dataclasses.replace(_doctor_theta(idres, lambda L, t: np.full_like(L, 0.05)),
                                  config=dataclasses.replace(idres.config, depths=(64, 256)))
    assert claims.evaluate("HT-DEEP", shallow).verdict == "qualified"  # a run too shallow decides nothing
    slow = claims.evaluate("HT-DEEP", _doctor_theta(idres, lambda L, t: 1e-3 * np.sqrt(L)))
    assert slow.verdict == "confirmed" and slow.readings[1].verdict == "refuted"


# ----------------------------------------------------------------------------- HT-VPERP, HT-ACC
SMALL_ACC = ch.DetailDecayConfig(n=16, trials=50, depth=8, temperatures=(0.3, 1.0, 10.0), pool=64)


@pytest.fixture(scope="module")
def acc():
    return ch.detail_decay_experiment.uncached(SMALL_ACC)


def test_flip_ht_vperp(deep):
    v = claims.evaluate("HT-VPERP", deep)
    assert v.verdict == "qualified" and v.severity == "scope" and v.can_fail
    assert [r.verdict for r in v.readings] == ["qualified", "confirmed"]
    mf = deep.meanfrac_q.copy()
    for arch in ("skip", "noskip"):
        mf[:, ch.variant_index(arch, "relu", "perp")] = 0.0
    assert claims.evaluate("HT-VPERP", dataclasses.replace(deep, meanfrac_q=mf)).verdict == "confirmed"
    mf[:, ch.variant_index("skip+LN", "relu", "perp"), 3] = 0.2
    bad = claims.evaluate("HT-VPERP", dataclasses.replace(deep, meanfrac_q=mf))
    assert bad.verdict == "refuted" and bad.severity == "conclusion"


def test_detail_decay(acc):
    c = SMALL_ACC
    assert acc.logdec.shape == (3, c.depth, c.trials) and acc.perm_logdec.shape == (c.depth, c.trials)
    assert np.abs(acc.perm_logdec).max() < 1e-12  # permutations keep the norm
    rows = ch.detail_rates(acc)
    assert all(r["violations"] == 0 and r["rate"] >= r["bound_rate"] for r in rows)


def test_flip_ht_acc(acc):
    v = claims.evaluate("HT-ACC", acc)
    assert v.verdict == "confirmed" and v.can_fail and v.readings[1].verdict == "refuted"
    d, b = acc.logdec.copy(), acc.logbound.copy()
    d[[0, 2]], b[[0, 2]] = d[[2, 0]], b[[2, 0]]  # bounds still hold, rates no longer ordered by sigma2
    q = claims.evaluate("HT-ACC", dataclasses.replace(acc, logdec=d, logbound=b))
    assert q.verdict == "qualified" and q.severity == "scope"
    perm = claims.evaluate("HT-ACC", dataclasses.replace(acc, perm_logdec=acc.perm_logdec + 0.1))
    assert perm.verdict == "qualified"
    viol = claims.evaluate("HT-ACC", dataclasses.replace(acc, logbound=acc.logbound + 5.0))
    assert viol.verdict == "refuted" and viol.severity == "proof"
    late = acc.logdec.copy()
    late[:, acc.config.depth // 2:] *= 2.0
    assert claims.evaluate("HT-ACC", dataclasses.replace(acc, logdec=late)).readings[1].verdict == "confirmed"


# ----------------------------------------------------------------------------- presentation
_ASCII_MATHS = ("||", "sqrt(", "<=", ">=", "sigma2", "sigma_2 ", "nu^2", "+-", "e+0", "e-0", "V_perp",
                "theta_L", "kappa ", "L_id")


def _outside_maths(text: str) -> str:
    return "".join(p for i, p in enumerate(text.split("$")) if i % 2 == 0)


def test_tex_numbers_keep_their_digits():
    assert ch._tex(620.0) == r"6.2\times10^{2}" and ch._tex(0.51) == "0.51"
    assert ch._tex(4443.6, 3) == r"4.44\times10^{3}"
    assert ch._num(9.1e-17, ".1e") == r"$9.1\times10^{-17}$" and ch._num(607.0, ".3g") == "$607$"


def test_findings_and_summary(deep, paths, pairs, idres, acc):
    results = {"HT-P1": deep, "HT-VPERP": deep, "HT-ACC": acc, "HT-DEEP": idres, "HT-RES": pairs,
               "RC-SKIP": paths}
    vs = [claims.evaluate(cid, results[cid]) for cid in ch.FINDING_IDS]
    f = ch.findings(vs)
    assert f.count("\n- ") == len(ch.FINDING_IDS) and all(f"<{c.lower()}>" in f for c in ch.FINDING_IDS)
    md = ch.summary_markdown(vs)
    assert md.count("\n") == len(vs) + 1 and "deciding number" in md
    with pytest.raises(ValueError):
        ch.findings(vs[:2])
    assert ch.skip_test_table(paths).count("< 10^{-12}") >= 0
    assert ch._num_floor(9.1e-17, ".1e") == r"$< 10^{-12}$" and ch._num_floor(0.5, ".1e") == r"$5.0\times10^{-1}$"


def test_verdict_strings_are_myst(deep, paths, pairs, idres, acc):
    """Evidence and 'what holds' carry maths as $...$, never ASCII maths, in every branch."""
    flips = [deep, _doctor_plateau(deep), paths, _lazy_as_predicted(paths),
             dataclasses.replace(paths, skip=paths.noskip, noskip=paths.skip), pairs,
             _doctor_pairs(pairs, 0.5, 0.0), _doctor_pairs(pairs, 0.95, 0.0), idres, deep, acc]
    ids = ["HT-P1", "HT-P1", "RC-SKIP", "RC-SKIP", "RC-SKIP", "HT-RES", "HT-RES", "HT-RES", "HT-DEEP",
           "HT-VPERP", "HT-ACC"]
    for cid, r in zip(ids, flips):
        v = claims.evaluate(cid, r)
        for text in (v.evidence, v.holds, v.can_fail, *(r.name + r.number for r in v.readings)):
            assert text.count("$") % 2 == 0, text
            prose = _outside_maths(text)
            assert not [a for a in _ASCII_MATHS if a in prose], (cid, prose)


def test_tables_are_markdown(deep, paths, pairs, idres):
    for md, rows in [(ch.pool_table(deep), len(SMALL_DEEP.temperatures)),
                     (ch.violation_table(deep), len(ch.VARIANTS)),
                     (ch.depth_table(deep), len(SMALL_DEEP.temperatures)),
                     (ch.skip_test_table(paths), len(SMALL_PATH.depths)),
                     (ch.mixture_markdown(paths), len(ch.mixture_table(paths))),
                     (ch.walk_table(idres), len(SMALL_ID.temperatures)),
                     (ch.vperp_table(deep), sum(v[2] == "perp" for v in ch.VARIANTS)),
                     (ch.detail_table(ch.detail_decay_experiment.uncached(SMALL_ACC)), len(SMALL_ACC.temperatures)),
                     (ch.pair_table(pairs), len(ch.RES_ARCHS))]:
        lines = md.split("\n\n")[0].split("\n")
        assert lines[1].startswith("|---") and len(lines) == rows + 2
        assert "e+" not in md and "e-0" not in md


def test_figures_fit_the_page(deep, paths, pairs, idres):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = [ch.proof_step_figure(deep, 1), ch.angle_figure(deep, "relu"), ch.path_figure(paths),
            ch.pair_figure(pairs), ch.walk_figure(idres), ch.frame_figure(deep, SMALL_DEEP.temperatures[1]),
            ch.escape_figure(ch.escape_experiment.uncached(SMALL_ESC)),
            ch.detail_figure(ch.detail_decay_experiment.uncached(SMALL_ACC))]
    for fig in figs:
        assert fig.get_size_inches()[0] <= 7.5
        for text in fig.findobj(matplotlib.text.Text):
            if text.get_text():
                assert text.get_fontsize() >= 9, text.get_text()
        plt.close(fig)


def test_detail_config_refuses_bad_temperatures():
    for bad in ((0.0,), (1.0, -1.0), (np.inf,)):
        with pytest.raises(ValueError):
            ch.DetailDecayConfig(temperatures=bad)
