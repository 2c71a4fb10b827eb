"""BK-MHCTRAIN: the four-stream mHC ViT (numpy vs JAX), the per-model summaries, and verdict flips."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from dsmlib import claims
from dsmlib.experiments.ch07_mhc import trained as tr
from dsmlib.mhc import coefficients, permutation_matrices
from dsmlib.trained import mhc_model as mm


# ------------------------------------------------------------------ pieces
def test_product_summaries_on_known_factors():
    n, K = 4, 6
    eye = np.broadcast_to(np.eye(n), (3, K, n, n))
    s, g, c = tr.product_summaries(eye)
    assert np.allclose(s, 1) and np.allclose(g, 1) and np.allclose(c, 0)
    J = np.full((2, K, n, n), 1 / n)
    s, g, c = tr.product_summaries(J)
    assert np.all(s < 1e-12) and np.all(g < 1e-12) and np.allclose(c, 1)
    # a lazy mixer (1 - e) I + e J/n: sigma_2 = 1 - e per factor, (1 - e)^k for the product
    e = 0.1
    H = np.broadcast_to((1 - e) * np.eye(n) + e / n, (1, K, n, n))
    s, g, _ = tr.product_summaries(H)
    assert np.allclose(s, 1 - e) and np.allclose(g, (1 - e) ** np.arange(1, K + 1))
    # permutations keep everything
    P = permutation_matrices(n)[[5, 7, 11, 3, 2, 9]][None]
    assert np.allclose(tr.product_summaries(P)[1], 1)
    with pytest.raises(ValueError, match="shape"):
        tr.product_summaries(np.eye(4))


def test_half_depth():
    k = np.arange(1, 17)
    assert tr.half_depth(0.9 ** k) == pytest.approx(np.log(0.5) / np.log(0.9))
    assert tr.half_depth(np.ones(16)) == np.inf
    with pytest.raises(ValueError):
        tr.half_depth(np.array([0.5, -1.0]))


def test_config_validation():
    with pytest.raises(ValueError, match="arm"):
        mm.MHCConfig(arm="hc")
    with pytest.raises(ValueError, match="n_layers"):
        mm.MHCConfig(n_layers=0)
    c = mm.MHCConfig(arm="mhc_lite")
    assert c.n_res == 24 and c.n_coef == 32 and c.n_sites == 16
    assert mm.param_shapes(c)["hc_phi"] == (8, 2, 32, 256)


def _random_params(c: mm.MHCConfig, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    p = {k: rng.normal(0, 0.3, s) for k, s in mm.param_shapes(c).items()}
    p.update({k: v + (rng.normal(0, 0.5, v.shape) if k != "hc_alpha" else 0.5) for k, v in mm.init_hc(c).items()})
    return p


@pytest.mark.parametrize("arm", ["identity", "mhc", "mhc_lite"])
def test_numpy_forward_matches_jax_training_forward(arm):
    """The analysis' float64 forward (dsmlib.mhc.coefficients) and the trainer's float32 JAX forward agree."""
    pytest.importorskip("jax")
    from dsmlib.trained import mhc_train as mt

    c = mm.MHCConfig(arm=arm, n_layers=2, d_model=16, heads=2, d_head=8, patch_dim=4)
    p = _random_params(c)
    x = np.random.default_rng(1).normal(size=(3, 16, 4))
    ref = mm.forward(p, c, x)
    p32 = {k: np.asarray(v, np.float32) for k, v in p.items()}
    logits, H = mt.jax_forward(p32, c, x.astype(np.float32), record=True)
    assert np.allclose(np.asarray(logits), ref.logits, rtol=2e-3, atol=2e-3)
    if arm == "identity":
        assert H is None and np.allclose(ref.h_res, np.eye(4))
    else:  # (L, 2, B, T, n, n) -> (B, T, 2L, n, n)
        Hj = np.moveaxis(np.asarray(H).reshape((-1,) + H.shape[2:]), 0, 2)
        assert np.allclose(Hj, ref.h_res, atol=1e-4)
    # the JAX site coefficients are dsmlib.mhc's recipe
    xs = np.random.default_rng(2).normal(size=(5, 4, 16))
    sp = {k: p32[k][1, 0] for k in ("hc_phi", "hc_alpha", "hc_bias")}
    pre, post, res = mt.site(xs.astype(np.float32), sp, c)
    rp, rq, rr = mm.site_coefficients(xs, p, 1, 0, c)
    assert np.allclose(pre, rp, atol=1e-5) and np.allclose(post, rq, atol=1e-5)
    if res is not None:
        assert np.allclose(res, rr, atol=1e-5)


def test_initialisation_is_the_recipes():
    c = mm.MHCConfig(arm="mhc")
    hc = mm.init_hc(c)
    assert np.all(hc["hc_phi"] == 0) and np.all(hc["hc_alpha"] == 0.01)
    x = np.random.default_rng(0).normal(size=(4, 64))
    pre, post, res = coefficients(x, hc["hc_phi"][0, 0], hc["hc_alpha"][0, 0], hc["hc_bias"][0, 0], "mhc_lite_sinkhorn")
    assert np.allclose(pre, 1 / (1 + np.exp(-np.array([1, -1, -1, -1]))))
    assert np.allclose(np.diag(res), 1 - 3 * np.exp(-8), atol=1e-6)


# ------------------------------------------------------------------ verdict flips
def _summary(arm: str, seed: int, g_end: float, acc: float = 0.95, h_end: float = 0.9) -> tr.MHCSummary:
    K = 16
    g = np.exp(np.log(g_end) * np.arange(1, K + 1) / K) if arm != "identity" else np.ones(K)
    return tr.MHCSummary(name=mm.model_name("digits", arm, seed), arm=arm, seed=seed, sha256="0" * 64, n_test=359,
                         acc=acc, acc_log=acc, s=np.full(K, g[0]), g=g, c=np.zeros(K), h=np.full(K + 1, h_end),
                         ds_err=0.0, cpu_s=120.0, wall_s=130.0)


def _fake(g_mhc, g_lite, missing=()) -> tr.TrainedResult:
    models = []
    for s in tr.SEEDS:
        models.append(_summary("identity", s, 1.0, acc=0.95 + 0.002 * s))
        models.append(_summary("mhc", s, g_mhc[s], acc=0.94 + 0.003 * s))
        models.append(_summary("mhc_lite", s, g_lite[s], acc=0.945 + 0.002 * s))
    keep = [m for m in models if m.name not in missing]
    return tr.TrainedResult(tuple(keep), tuple(missing))


BITES = [0.1, 0.12, 0.08, 0.11, 0.09]
KEEPS = [0.95, 0.96, 0.94, 0.97, 0.955]


def test_verdict_flips():
    assert tr.check(_fake(BITES, BITES)).verdict == "confirmed"
    v = tr.check(_fake(KEEPS, KEEPS))
    assert (v.verdict, v.severity) == ("refuted", "conclusion")
    v = tr.check(_fake(BITES, KEEPS))
    assert (v.verdict, v.severity) == ("qualified", "scope")
    assert tr.check(_fake([0.3, 0.8, 0.45, 0.6, 0.5], BITES)).verdict == "inconclusive"
    v = tr.check(_fake(BITES, BITES, missing=("digits_mhc_s4",)))
    assert v.verdict == "inconclusive" and "not stored" in v.holds


def test_registry_routes_to_this_check():
    assert claims.check_for("BK-MHCTRAIN") is tr.check
    assert claims.evaluate("BK-MHCTRAIN", _fake(KEEPS, KEEPS)).verdict == "refuted"
    assert claims.CLAIMS["BK-MHCTRAIN"].chapter == "07b_mhc_trained"
    assert tr.registered_names()[:3] == ("digits_identity_s0", "digits_mhc_s0", "digits_mhc_lite_s0")


def test_views_render():
    r = _fake(BITES, KEEPS)
    assert tr.runs_table(r).count("\n") == 2 + len(r.models) - 1
    import matplotlib

    matplotlib.use("Agg")
    tr.fig_depth(r)
    tr.fig_streams(r)


# ------------------------------------------------------------------ end to end: train, store, verify
def test_train_store_summarise_and_verify(tmp_path, monkeypatch):
    pytest.importorskip("jax")
    from dsmlib.trained import mhc_train as mt

    monkeypatch.setenv("DSMLIB_MHC_WEIGHTS_DIR", str(tmp_path))
    mt.main(["--dataset", "digits", "--arm", "mhc", "--seed", "0", "--epochs", "1", "--layers", "1",
             "--max-train", "200", "--out", str(tmp_path)])
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert set(man) == {"digits_mhc_s0"} and man["digits_mhc_s0"]["arm"] == "mhc"
    m = tr.model_summary.uncached("digits_mhc_s0")
    assert m.arm == "mhc" and m.g.shape == (2,) and m.n_test == 359 and 0 < m.g[-1] <= 1
    assert abs(m.acc - m.acc_log) < 0.02  # float64 numpy vs float32 JAX
    f = tmp_path / "digits_mhc_s0.npz"
    f.write_bytes(f.read_bytes()[:-1] + b"x")
    with pytest.raises(ValueError, match="sha256"):
        tr.model_summary("digits_mhc_s0")
    r = replace(tr.TrainedResult((m,), ()), missing=("digits_mhc_s1",))
    assert tr.check(r).verdict == "inconclusive"
