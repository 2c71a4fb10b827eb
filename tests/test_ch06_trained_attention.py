"""Chapter 6: pieces of the trained-attention analysis, and flip tests for its checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dsmlib.attention import chained_product
from dsmlib.experiments import ch06_trained_attention as ch
from dsmlib.trained import model as tm

T, M, L, B, N, H = 24, 30, 24, 10, 20, 4


def _fake(seed: int = 0) -> ch.TrainedResult:
    """A result with the right shapes: Softmax and Sinkhorn identical up to seed noise."""
    rng = np.random.default_rng(seed)
    names = ch.model_names()
    K = len(names)
    t = np.arange(1, T + 1)
    noise = lambda *s: np.exp(0.05 * rng.normal(size=s))  # noqa: E731
    path = np.exp(-0.3 * t)[None, None, :, None] * noise(K, len(ch.READINGS), T, M)
    corr = np.exp(-0.3 * t)[None, None, None, :, None] * noise(K, 3, 2, T, M)
    rand = np.exp(-0.1 * t)[None, None, :, None] * noise(K, 2, T, M)
    out = 0.5 * noise(K, 4, L, B)
    ent = 2.0 + 0.01 * rng.normal(size=(K, N, H))
    E = 9
    col = np.full((K, E), np.nan)
    col[:] = np.linspace(0.2, 0.3, E)
    conv = np.full((K, 4, 50), 1e-7)
    cfg = ch.TrainedConfig(names, tuple("0" * 64 for _ in names))
    z = np.zeros((K, E))
    return ch.TrainedResult(
        cfg, t, path, corr, rand, np.ones(K), out, ent, ent / 4, np.zeros((K, 17, 17)), np.zeros((K, 8, 8)), conv,
        np.zeros((K, 200, 3)), np.ones(K), np.ones(K), np.ones(K), np.tile(np.arange(E, dtype=float), (K, 1)), z,
        z, col, z, z, z, np.repeat(col[:, :, None], L, -1), np.ones(K), np.ones(K),
    )


def _is(r: ch.TrainedResult, norm: str) -> np.ndarray:
    return np.array([f"_{norm}_" in m for m in r.config.models])


def _boost(r, field, factor, norm="sinkhorn", sl=(slice(None),)):
    a = getattr(r, field).copy()
    idx = np.flatnonzero(_is(r, norm))
    for i in idx:
        a[(i,) + sl] = a[(i,) + sl] * factor
    return dataclasses.replace(r, **{field: a})


@pytest.fixture(scope="module")
def fake():
    return _fake()


def test_path_products_match_chained_product():
    rng = np.random.default_rng(0)
    A = rng.random((5, 3, 2, 4, 4))  # (L, B, H, n, n)
    A /= A.sum(-1, keepdims=True)
    ly, hd, bi, skip, order = ch.path_indices(5, 2, 3, 7, seed=1)
    r = ch.path_products(A, ly, hd, bi)
    for t in (1, 3, 5):
        P = chained_product(np.swapaxes(A, 1, 2), ly[t - 1, :, :t], hd[t - 1, :, :t], bi[t - 1, :, :t])
        np.testing.assert_allclose(r[t - 1], np.linalg.svd(P, compute_uv=False)[:, 1] / np.linalg.svd(P, compute_uv=False)[:, 0])
    assert np.all(skip.sum(-1) == np.arange(1, 6)[:, None] // 2)
    # all factors replaced by I -> identity products, residual 1; (I+P)/2 keeps more rank than P
    rI = ch.path_products(A, ly, hd, bi, skipmask=ly >= 0)
    np.testing.assert_allclose(rI, 1.0)
    assert np.median(ch.path_products(A, ly, hd, bi, half=True)[-1]) > np.median(r[-1])


def test_marginals_entropy_and_mean_row_residual():
    S = np.random.default_rng(1).normal(size=(6, 5, 5))
    tr = ch.marginal_trace(S, 60)
    e = ch.marginal_error(tm.fast_sinkhorn(S, 60))
    np.testing.assert_allclose(tr[-1, 2], e.max(), rtol=1e-6, atol=1e-15)
    assert tr[0, 0] > tr[-1, 0]
    np.testing.assert_allclose(ch.row_entropy(np.full((2, 4, 4), 0.25)), np.log(4))
    X = np.ones((3, 5, 4))
    assert np.all(ch.mean_row_residual(X) < 1e-12)


def test_rc_f3_flips(fake):
    assert ch.check_rc_f3(fake).verdict == "refuted"
    v = ch.check_rc_f3(_boost(fake, "path_residual", 10.0))
    assert v.verdict == "confirmed"
    k = ch.READINGS.index(ch.SKIP_READING)
    q = ch.check_rc_f3(_boost(fake, "path_residual", 10.0, sl=(k,)))
    assert q.verdict == "qualified" and q.severity == "scope"


def test_rc_mech_flips(fake):
    assert ch.check_rc_mech(fake).verdict == "refuted"
    k = ch.READINGS.index(ch.SKIP_READING)
    assert ch.check_rc_mech(_boost(fake, "path_residual", 10.0, sl=(k,))).verdict == "confirmed"
    # advantage of equal size with and without skips: no amplification
    assert ch.check_rc_mech(_boost(fake, "path_residual", 10.0)).verdict == "refuted"


def test_rc_f1_flips(fake):
    assert ch.check_rc_f1(fake).verdict == "refuted"
    up = fake.entropy_l1.copy()
    up[_is(fake, "sinkhorn")] += 0.5
    assert ch.check_rc_f1(dataclasses.replace(fake, entropy_l1=up)).verdict == "confirmed"


def test_rc_f4_flips(fake):
    assert ch.check_rc_f4(fake).verdict == "confirmed"
    assert ch.check_rc_f4(_boost(fake, "output_ratio", 5.0)).verdict == "qualified"
    low = fake.output_ratio.copy()
    low[..., -1, :] = 1e-3
    assert ch.check_rc_f4(dataclasses.replace(fake, output_ratio=low)).verdict == "refuted"


def test_rc_ds_flips(fake):
    assert ch.check_rc_ds(fake).verdict == "refuted"  # the deviation grows in the fake
    down = fake.hist_col_dev.copy()
    down[:] = np.linspace(0.3, 0.05, down.shape[1])
    assert ch.check_rc_ds(dataclasses.replace(fake, hist_col_dev=down)).verdict == "confirmed"
    mild = fake.hist_col_dev.copy()
    mild[:] = np.linspace(0.3, 0.25, mild.shape[1])
    assert ch.check_rc_ds(dataclasses.replace(fake, hist_col_dev=mild)).verdict == "qualified"


def test_rc_gt_flips(fake):
    # trained exp(-0.3 t) vs random exp(-0.1 t): faster, but exponential -> qualified
    v = ch.check_rc_gt(fake)
    assert v.verdict == "qualified"
    t = np.arange(1, T + 1)
    dexp = fake.path_residual.copy()
    dexp[:] = np.exp(-0.05 * 1.3 ** t)[None, None, :, None]
    assert ch.check_rc_gt(dataclasses.replace(fake, path_residual=dexp)).verdict == "confirmed"
    slow = fake.path_residual.copy()
    slow[:] = np.exp(-0.01 * t)[None, None, :, None] * np.exp(0.05 * np.random.default_rng(3).normal(size=slow.shape))
    assert ch.check_rc_gt(dataclasses.replace(fake, path_residual=slow)).verdict == "refuted"


def test_rc_conv_flips(fake):
    assert ch.check_rc_conv(fake).verdict == "confirmed"
    bad = fake.conv_err.copy()
    bad[:, 0] = 1e-2
    bad[:, 3] = 1e-2
    assert ch.check_rc_conv(dataclasses.replace(fake, conv_err=bad)).verdict == "qualified"
    bad[:] = 1e-2
    assert ch.check_rc_conv(dataclasses.replace(fake, conv_err=bad)).verdict == "refuted"


def test_experiment_on_stored_digits_models():
    names = [m for m in ch.model_names(datasets=("digits",), seeds=(0,)) if m in tm.read_manifest()]
    if len(names) < 2:
        pytest.skip("stored digits models missing")
    man = tm.read_manifest()
    cfg = ch.TrainedConfig(tuple(names), tuple(man[m]["weights"]["sha256"] for m in names), n_batch=20,
                           n_paths=10, trace_half_steps=60)
    r = ch.trained_experiment.uncached(cfg)
    assert r.path_residual.shape == (2, len(ch.READINGS), 24, 10)
    # the numpy float64 forward reproduces the JAX float32 model's test accuracy
    from dsmlib.trained import data

    sp = data.load("digits")
    for m in names:
        params, c, entry = tm.load_model(m)
        acc = float((tm.forward(params, c, sp.x_test).logits.argmax(-1) == sp.y_test).mean())
        assert abs(acc - entry["final_test_acc"]) <= 0.005
    k = list(ch.SETTINGS).index("pure")
    assert np.all(r.output_ratio[:, k, -1] < 1e-6)  # the pure SAN collapses
    with pytest.raises(ValueError, match="shas"):
        ch.trained_experiment.uncached(dataclasses.replace(cfg, shas=("0" * 64,) * 2))
