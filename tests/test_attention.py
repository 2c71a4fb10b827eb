"""Properties of dsmlib.attention (small sizes, fast)."""

from __future__ import annotations

import numpy as np
import pytest

import dsmlib as d
from dsmlib import attention as a


def _weights(rng, n=6, dm=5, dqk=3):
    X = rng.normal(size=(2, n, dm))
    return X, rng.normal(size=(dm, dqk)), rng.normal(size=(dm, dqk)), rng.normal(size=(dm, 4))


def test_scores_match_formula_and_bias_shift_invariance():
    rng = np.random.default_rng(0)
    X, WQ, WK, WV = _weights(rng)
    bq, bk = rng.normal(size=3), rng.normal(size=3)
    S = a.attention_scores(X, WQ, WK, bq, bk)
    ref = (X @ WQ + bq) @ (X @ WK + bk).swapaxes(-1, -2) / np.sqrt(3)
    np.testing.assert_allclose(S, ref)
    # RC Eq. 19: the biases only add row-constant and column-constant terms, which Sinkhorn ignores
    P1 = d.sinkhorn(S, tol=1e-12, n_iter=5000)
    P0 = d.sinkhorn(a.attention_scores(X, WQ, WK), tol=1e-12, n_iter=5000)
    np.testing.assert_allclose(P1, P0, atol=1e-9)


def test_head_is_PXWV_and_residual_identity():
    rng = np.random.default_rng(1)
    X, WQ, WK, WV = _weights(rng)
    out = a.attention_head(X, WQ, WK, WV, tol=1e-12, n_iter=5000)
    P = d.sinkhorn(a.attention_scores(X, WQ, WK), tol=1e-12, n_iter=5000)
    np.testing.assert_allclose(out, P @ X @ WV)
    # res(SA_h(X)) = U P res(X) W_V for a doubly stochastic P; SA_h depends on X only via res(X)
    np.testing.assert_allclose(d.res(out), d.res(P @ d.res(X) @ WV), atol=1e-9)
    bv = rng.normal(size=4)
    np.testing.assert_allclose(a.attention_head(X, WQ, WK, WV, b_V=bv, method="softmax"),
                               d.row_softmax(a.attention_scores(X, WQ, WK)) @ X @ WV + bv)


def test_pure_san_equals_layerwise_sum_over_heads():
    rng = np.random.default_rng(2)
    W = a.random_san_weights(2, 3, 5, 2, rng=rng)
    X = rng.normal(size=(4, 6, 5))
    tr = a.pure_san(X, W, method="softmax")
    assert tr.outputs.shape == (3, 4, 6, 5) and tr.attention.shape == (2, 3, 4, 6, 6)
    Y = X
    for l in range(2):
        Y = sum(d.row_softmax(a.attention_scores(Y, W.W_Q[l, h], W.W_K[l, h])) @ Y @ W.W_h[l, h] for h in range(3))
    np.testing.assert_allclose(tr.outputs[-1], Y, rtol=1e-10, atol=1e-12)
    sk = a.pure_san(X, W, method="softmax", skip=True).outputs
    np.testing.assert_allclose(sk[1], X + tr.outputs[1])


def test_beta_matches_direct_norms():
    W = a.random_san_weights(2, 2, 6, 3, size=4, rng=0)
    qk = np.linalg.norm(W.W_Q @ W.W_K.swapaxes(-1, -2), 2, axis=(-2, -1))
    h = np.linalg.norm(W.W_h, 2, axis=(-2, -1))
    np.testing.assert_allclose(W.beta, (qk * h).max(axis=(-2, -1)))


def test_random_scores_scale_and_seed():
    S = a.random_attention_scores(32, scale=2.0, size=(50,), rng=0)
    assert S.shape == (50, 32, 32)
    assert 1.7 < S.std() < 2.3
    np.testing.assert_array_equal(S, a.random_attention_scores(32, scale=2.0, size=(50,), rng=0))


def test_sample_paths_distinct_sorted_layers():
    ly, hd, bi = a.sample_paths(24, 4, 8, 10, 100, rng=0)
    assert ly.shape == hd.shape == bi.shape == (100, 10)
    assert np.all(np.diff(ly, axis=1) > 0)
    assert ly.min() >= 0 and ly.max() < 24 and hd.max() < 4 and bi.max() < 8
    ly1, *_ = a.sample_paths(24, 4, 8, 24, 5, rng=1)
    np.testing.assert_array_equal(ly1, np.tile(np.arange(24), (5, 1)))


def test_chained_product_order_and_prefix_products():
    rng = np.random.default_rng(3)
    P = rng.random((5, 2, 3, 4, 4))
    ly = np.array([[3, 0, 1]])  # unsorted input is multiplied in increasing layer order
    hd = np.array([[1, 0, 1]])
    bi = np.array([[2, 1, 0]])
    out = a.chained_product(P, ly, hd, bi)
    np.testing.assert_allclose(out[0], P[0, 0, 1] @ P[1, 1, 0] @ P[3, 1, 2])
    F = rng.random((2, 4, 3, 3))
    pp = a.prefix_products(F)
    np.testing.assert_allclose(pp[1, 3], F[1, 0] @ F[1, 1] @ F[1, 2] @ F[1, 3])


def test_product_of_dsms_is_dsm():
    F = d.sinkhorn(a.random_attention_scores(8, size=(6,), rng=0), tol=1e-12, n_iter=5000)
    P = a.prefix_products(F)[-1]
    np.testing.assert_allclose(P.sum(-1), 1, atol=1e-9)
    np.testing.assert_allclose(P.sum(-2), 1, atol=1e-9)


@pytest.mark.parametrize(
    "call",
    [
        lambda: a.attention_scores(np.ones((3, 4)), np.ones((5, 2)), np.ones((4, 2))),
        lambda: a.attention_scores(np.ones((3, 4)), np.ones((4, 2)), np.ones((4, 3))),
        lambda: a.attention_scores(np.ones((3, 4)), np.ones((4, 2)), np.ones((4, 2)), b_Q=np.ones(3)),
        lambda: a.attention_scores([[np.nan, 1], [1, 1]], np.ones((2, 2)), np.ones((2, 2))),
        lambda: a.attention_matrix(np.ones((3, 3)), "relu"),
        lambda: a.attention_matrix(np.ones((3, 4))),
        lambda: a.attention_head(np.ones((3, 4)), np.ones((4, 2)), np.ones((4, 2)), np.ones((5, 2))),
        lambda: a.random_san_weights(0, 1, 4, 2),
        lambda: a.random_san_weights(1, 1, 4, 2, qk_gain=-1.0),
        lambda: a.random_attention_scores(1),
        lambda: a.random_attention_scores(4, scale=0.0),
        lambda: a.random_attention_scores(4, size=(-1,)),
        lambda: a.sample_paths(4, 1, 1, 5, 3),
        lambda: a.sample_paths(4, 1, 1, 0, 3),
        lambda: a.chained_product(np.ones((2, 1, 1, 3, 3)), [[0, 2]], [[0, 0]], [[0, 0]]),
        lambda: a.chained_product(np.ones((2, 1, 1, 3, 3)), [[0.0, 1.0]], [[0, 0]], [[0, 0]]),
        lambda: a.chained_product(np.ones((2, 3, 3)), [[0]], [[0]], [[0]]),
        lambda: a.prefix_products(np.ones((3, 3))),
        lambda: a.pure_san(np.ones((3, 4)), "weights"),
        lambda: a.pure_san(np.ones((3, 5)), a.random_san_weights(1, 1, 4, 2, rng=0)),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
