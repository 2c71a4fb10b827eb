"""Unit tests of dsmlib.residual."""

from __future__ import annotations

import numpy as np
import pytest

import dsmlib
from dsmlib.residual import angle, forward, gaussian_mixing, path_products


def _setup(B=5, n=8, L=4, C=3, seed=0):
    rng = np.random.default_rng(seed)
    pool = dsmlib.random_dsm(n, 0.3, size=10, rng=rng)
    idx = np.argsort(rng.random((B, 10)), axis=1)[:, :L]
    x0 = rng.normal(size=(B, n, C))
    return pool, idx, x0


def test_forward_matches_loop():
    pool, idx, x0 = _setup()
    tr = forward(pool, idx, x0, phi=("relu", "identity", "relu"), skip=[True, True, False],
                 layer_norm=[False, True, False])
    for b in range(2):
        for c, (ph, s, ln) in enumerate([("relu", 1, 0), ("identity", 1, 1), ("relu", 0, 0)]):
            x = x0[b, :, c].copy()
            for l in range(idx.shape[1]):
                z = pool[idx[b, l]] @ x
                z = np.maximum(z, 0) if ph == "relu" else z
                x = s * x + z
                if ln:
                    x = dsmlib.layer_norm(x)
            assert np.allclose(tr.final[b, :, c], x)
            assert np.isclose(tr.norm[-1, b, c], np.linalg.norm(x))


def test_identity_skip_mean_doubles():
    pool, idx, _ = _setup()
    x0 = np.ones((5, 8, 1))
    tr = forward(pool, idx, x0, phi="identity")
    assert np.allclose(tr.norm[-1] / tr.norm[0], 2.0 ** idx.shape[1])
    assert np.allclose(tr.cos0, 1.0)


def test_center_keeps_perp():
    pool, idx, x0 = _setup()
    x0 = x0 - x0.mean(axis=1, keepdims=True)
    tr = forward(pool, idx, x0, phi="relu", center=True)
    assert tr.mean.max() < 1e-12


def test_forward_validation():
    pool, idx, x0 = _setup()
    with pytest.raises(ValueError):
        forward(pool, idx, x0, phi="tanh")
    with pytest.raises(ValueError):
        forward(pool, idx + 100, x0)
    with pytest.raises(ValueError):
        forward(pool, idx, x0[:, :5])
    with pytest.raises(ValueError):
        forward(pool, idx, x0, skip=[True, False])
    with pytest.raises(ValueError):
        forward(pool, idx.astype(float), x0)


def test_angle():
    assert angle([1.0, 0.0], [0.0, 2.0]) == pytest.approx(np.pi / 2)
    assert angle([1.0, 1.0], [2.0, 2.0]) == pytest.approx(0.0, abs=1e-7)


def test_path_products_and_gaussian():
    rng = np.random.default_rng(0)
    A = dsmlib.random_dsm(5, 0.3, size=(3, 4), rng=rng)
    keep = np.array([[1, 1, 1, 1], [0, 0, 0, 0], [1, 0, 1, 0]], bool)
    P = path_products(A, keep)
    assert np.allclose(P[0], A[0, 0] @ A[0, 1] @ A[0, 2] @ A[0, 3])
    assert np.allclose(P[1], np.eye(5))
    assert np.allclose(P[2], A[2, 0] @ A[2, 2])
    with pytest.raises(ValueError):
        path_products(A, keep[:, :2])
    G = gaussian_mixing(6, 4, rng)
    assert G.shape == (4, 6, 6)
    with pytest.raises(ValueError):
        gaussian_mixing(6, 4, 0)
