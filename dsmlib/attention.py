r"""Pure self-attention mechanisms of RC (Sinkhorn rank collapse), batched and vectorised.

* :func:`attention_scores` -- RC Eq. 1 (scores with biases, scaled by :math:`\sqrt{d_{qk}}`);
* :func:`attention_matrix` -- Sinkhorn (doubly stochastic) or Softmax (row-stochastic)
  normalisation of the scores;
* :func:`attention_head` -- the single head :math:`\mathrm{SA}_h(X) = PXW_V + \mathbf 1 b_V^\top`
  (RC Eq. 2);
* :func:`pure_san` -- a multi-head, multi-layer pure self-attention network (RC Eq. 3, one
  layer being :math:`X \mapsto \sum_h P_h X W_h`), optionally with skip connections;
* :func:`random_attention_scores`, :func:`random_san_weights` -- random attention-like scores
  and random network weights;
* :func:`sample_paths`, :func:`chained_product`, :func:`prefix_products` -- the attention
  paths of RC Sec. 4.1 (Eq. 10).

Shapes follow numpy's batching rules: leading axes ``...`` broadcast.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_float_array, as_square_batch, check_dimension, check_positive_scalar
from .sinkhorn import _generator, row_softmax, sinkhorn

__all__ = [
    "SANTrace",
    "SANWeights",
    "attention_head",
    "attention_matrix",
    "attention_scores",
    "chained_product",
    "prefix_products",
    "pure_san",
    "random_attention_scores",
    "random_san_weights",
    "sample_paths",
]

_METHODS = ("sinkhorn", "softmax")


def _check_method(method: object) -> str:
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    return str(method)


def _check_count(x: object, name: str, minimum: int = 1) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or int(x) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return int(x)


def _shape(size: int | tuple[int, ...]) -> tuple[int, ...]:
    shape = (size,) if isinstance(size, (int, np.integer)) and not isinstance(size, bool) else size
    if not isinstance(shape, tuple) or any(
        isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape
    ):
        raise ValueError(f"size must be a non-negative int or tuple of ints, got {size!r}")
    return tuple(int(s) for s in shape)


def attention_scores(
    X: ArrayLike,
    W_Q: ArrayLike,
    W_K: ArrayLike,
    b_Q: ArrayLike | None = None,
    b_K: ArrayLike | None = None,
) -> NDArray[np.float64]:
    r"""Attention scores of RC Eq. 1 (before normalisation).

    .. math::

        S = \frac{(XW_Q + \mathbf 1 b_Q^\top)(XW_K + \mathbf 1 b_K^\top)^\top}{\sqrt{d_{qk}}}

    Parameters
    ----------
    X : array_like, shape (..., n, d)
        Token matrix.
    W_Q, W_K : array_like, shape (..., d, d_qk)
        Query and key weights.
    b_Q, b_K : array_like, shape (..., d_qk), optional
        Query and key biases (zero if omitted).

    Returns
    -------
    ndarray, shape (..., n, n)

    Raises
    ------
    ValueError
        On non-finite input or mismatched dimensions.
    """
    X = as_float_array(X, "X", min_ndim=2)
    W_Q = as_float_array(W_Q, "W_Q", min_ndim=2)
    W_K = as_float_array(W_K, "W_K", min_ndim=2)
    if W_Q.shape[-2] != X.shape[-1] or W_K.shape[-2] != X.shape[-1]:
        raise ValueError(
            f"W_Q and W_K must have d = X.shape[-1] = {X.shape[-1]} rows, got {W_Q.shape} and {W_K.shape}"
        )
    if W_Q.shape[-1] != W_K.shape[-1]:
        raise ValueError(f"W_Q and W_K must share d_qk, got {W_Q.shape} and {W_K.shape}")
    d_qk = W_Q.shape[-1]
    Q = X @ W_Q
    K = X @ W_K
    for name, b, M in (("b_Q", b_Q, "Q"), ("b_K", b_K, "K")):
        if b is None:
            continue
        b = as_float_array(b, name, min_ndim=1)
        if b.shape[-1] != d_qk:
            raise ValueError(f"{name} must have length d_qk = {d_qk}, got shape {b.shape}")
        if M == "Q":
            Q = Q + b[..., None, :]
        else:
            K = K + b[..., None, :]
    return (Q @ np.swapaxes(K, -1, -2)) / np.sqrt(d_qk)


def attention_matrix(
    scores: ArrayLike,
    method: str = "sinkhorn",
    *,
    n_iter: int = 200,
    tol: float = 1e-6,
    warn: bool = True,
) -> NDArray[np.float64]:
    r"""Normalise attention scores: Sinkhorn (doubly stochastic) or row Softmax.

    Parameters
    ----------
    scores : array_like, shape (..., n, n)
    method : {'sinkhorn', 'softmax'}
    n_iter, tol, warn
        Passed to :func:`dsmlib.sinkhorn` (ignored for Softmax).

    Returns
    -------
    ndarray, shape (..., n, n)
    """
    method = _check_method(method)
    S = as_square_batch(scores, "scores")
    if method == "softmax":
        return row_softmax(S)
    return sinkhorn(S, n_iter=n_iter, tol=tol, warn=warn)


def attention_head(
    X: ArrayLike,
    W_Q: ArrayLike,
    W_K: ArrayLike,
    W_V: ArrayLike,
    b_Q: ArrayLike | None = None,
    b_K: ArrayLike | None = None,
    b_V: ArrayLike | None = None,
    *,
    method: str = "sinkhorn",
    n_iter: int = 200,
    tol: float = 1e-6,
    warn: bool = True,
) -> NDArray[np.float64]:
    r"""Single self-attention head, RC Eq. 2: :math:`\mathrm{SA}_h(X) = P X W_V + \mathbf 1 b_V^\top`.

    :math:`P` is :func:`attention_matrix` of :func:`attention_scores` (RC Eq. 1).

    Parameters
    ----------
    X : array_like, shape (..., n, d)
    W_Q, W_K : array_like, shape (..., d, d_qk)
    W_V : array_like, shape (..., d, d_v)
    b_Q, b_K : array_like, shape (..., d_qk), optional
    b_V : array_like, shape (..., d_v), optional
    method : {'sinkhorn', 'softmax'}
    n_iter, tol, warn
        Passed to :func:`dsmlib.sinkhorn`.

    Returns
    -------
    ndarray, shape (..., n, d_v)
    """
    W_V = as_float_array(W_V, "W_V", min_ndim=2)
    X = as_float_array(X, "X", min_ndim=2)
    if W_V.shape[-2] != X.shape[-1]:
        raise ValueError(f"W_V must have d = {X.shape[-1]} rows, got shape {W_V.shape}")
    P = attention_matrix(attention_scores(X, W_Q, W_K, b_Q, b_K), method, n_iter=n_iter, tol=tol, warn=warn)
    out = P @ X @ W_V
    if b_V is not None:
        b_V = as_float_array(b_V, "b_V", min_ndim=1)
        if b_V.shape[-1] != W_V.shape[-1]:
            raise ValueError(f"b_V must have length d_v = {W_V.shape[-1]}, got shape {b_V.shape}")
        out = out + b_V[..., None, :]
    return out


@dataclass(frozen=True)
class SANWeights:
    r"""Weights of a pure self-attention network (RC Eq. 3, biases dropped).

    Attributes
    ----------
    W_Q, W_K : ndarray, shape (..., L, H, d, d_qk)
        Query and key weights.
    W_V, W_O : ndarray, shape (..., L, H, d, d_v)
        Value and output weights; head ``h`` of layer ``l`` maps :math:`X \mapsto P X W_h`
        with :math:`W^\ell_h = W^\ell_{V,h} (W^\ell_{O,h})^\top` of shape ``(d, d)``.
    """

    W_Q: NDArray[np.float64]
    W_K: NDArray[np.float64]
    W_V: NDArray[np.float64]
    W_O: NDArray[np.float64]

    @property
    def W_h(self) -> NDArray[np.float64]:
        r""":math:`W_h = W_V W_O^\top`, shape (..., L, H, d, d)."""
        return self.W_V @ np.swapaxes(self.W_O, -1, -2)

    @property
    def beta(self) -> NDArray[np.float64]:
        r""":math:`\max_{\ell,h} \|W_Q W_K^\top\|_2 \|W_h\|_2`, shape (...) (RC Thm. 2's :math:`\beta`)."""
        return (_lowrank_norm(self.W_Q, self.W_K) * _lowrank_norm(self.W_V, self.W_O)).max(axis=(-2, -1))


def _lowrank_norm(A: NDArray[np.float64], B: NDArray[np.float64]) -> NDArray[np.float64]:
    """Spectral norm of ``A @ B.T`` for tall ``A, B`` of shape (..., d, k), via thin QR (k x k SVD)."""
    Ra = np.linalg.qr(A, mode="r")
    Rb = np.linalg.qr(B, mode="r")
    return np.linalg.svd(Ra @ np.swapaxes(Rb, -1, -2), compute_uv=False)[..., 0]


@dataclass(frozen=True)
class SANTrace:
    """Forward pass of :func:`pure_san`.

    Attributes
    ----------
    outputs : ndarray, shape (L + 1, ..., n, d)
        ``outputs[0]`` is the input, ``outputs[l]`` the output of layer ``l``.
    attention : ndarray, shape (L, H, ..., n, n)
        The attention matrices :math:`P^\\ell_h`.
    """

    outputs: NDArray[np.float64]
    attention: NDArray[np.float64]


def random_san_weights(
    n_layers: int,
    n_heads: int,
    d_model: int,
    d_qk: int,
    *,
    size: int | tuple[int, ...] = (),
    qk_gain: float = 1.0,
    v_gain: float = 1.0,
    rng: np.random.Generator | int | None = None,
) -> SANWeights:
    r"""Gaussian weights of a pure SAN at a standard initialisation scale.

    :math:`W_Q, W_K, W_V \sim \mathcal N(0, 1/d)` entrywise (``d = d_model``), shape
    ``(d, d_qk)`` (``d_v = d_qk``); :math:`W_O \sim \mathcal N(0, 1/(H d_v))`, shape
    ``(d, d_v)``; :math:`W_h = W_V W_O^\top`. ``qk_gain`` multiplies :math:`W_Q` and
    :math:`W_K`, ``v_gain`` multiplies :math:`W_h`.

    Parameters
    ----------
    n_layers, n_heads, d_model, d_qk : int
    size : int or tuple of int
        Leading batch shape (independent networks).
    qk_gain, v_gain : float, > 0
    rng : numpy.random.Generator, int or None

    Returns
    -------
    SANWeights
        Arrays of shape ``size + (L, H, d, d_qk)``.
    """
    L = _check_count(n_layers, "n_layers")
    H = _check_count(n_heads, "n_heads")
    d = _check_count(d_model, "d_model")
    dqk = _check_count(d_qk, "d_qk")
    gq = check_positive_scalar(qk_gain, "qk_gain")
    gv = check_positive_scalar(v_gain, "v_gain")
    shape = _shape(size) + (L, H)
    g = _generator(rng)
    W_Q = g.normal(scale=gq / np.sqrt(d), size=shape + (d, dqk))
    W_K = g.normal(scale=gq / np.sqrt(d), size=shape + (d, dqk))
    W_V = g.normal(scale=1 / np.sqrt(d), size=shape + (d, dqk))
    W_O = g.normal(scale=1 / np.sqrt(H * dqk), size=shape + (d, dqk))
    return SANWeights(W_Q, W_K, gv * W_V, W_O)


def pure_san(
    X: ArrayLike,
    weights: SANWeights,
    *,
    method: str = "sinkhorn",
    skip: bool = False,
    n_iter: int = 200,
    tol: float = 1e-6,
    warn: bool = True,
) -> SANTrace:
    r"""Forward pass of a multi-head multi-layer pure self-attention network (RC Eq. 3).

    Layer :math:`\ell` maps :math:`X \mapsto \sum_{h=1}^H P^\ell_h(X)\, X\, W^\ell_h`
    (plus :math:`X` itself if ``skip``), with
    :math:`P^\ell_h(X) = \operatorname{normalise}(X W^\ell_{Q,h} (X W^\ell_{K,h})^\top/\sqrt{d_{qk}})`.

    Parameters
    ----------
    X : array_like, shape (..., n, d)
        Inputs; ``...`` must broadcast with the batch shape of ``weights``.
    weights : SANWeights
        Arrays of shape ``(..., L, H, d, d_qk)`` (``W_Q, W_K``) and ``(..., L, H, d, d_v)``
        (``W_V, W_O``).
    method : {'sinkhorn', 'softmax'}
    skip : bool, default False
        Add the skip connection :math:`X + \mathrm{SA}(X)`.
    n_iter, tol, warn
        Passed to :func:`dsmlib.sinkhorn`.

    Returns
    -------
    SANTrace
    """
    method = _check_method(method)
    X = as_float_array(X, "X", min_ndim=2)
    if not isinstance(weights, SANWeights):
        raise ValueError(f"weights must be a SANWeights, got {type(weights).__name__}")
    W_Q, W_K, W_V, W_O = weights.W_Q, weights.W_K, weights.W_V, weights.W_O
    if W_Q.ndim < 4 or W_Q.shape != W_K.shape or W_V.shape[:-1] != W_Q.shape[:-1] or W_O.shape != W_V.shape:
        raise ValueError(
            "weights must have shapes (..., L, H, d, d_qk) for W_Q, W_K and (..., L, H, d, d_v) for "
            f"W_V, W_O, got {W_Q.shape}, {W_K.shape}, {W_V.shape}, {W_O.shape}"
        )
    if W_Q.shape[-2] != X.shape[-1]:
        raise ValueError(f"weights must act on d = X.shape[-1] = {X.shape[-1]}")
    L, H = W_Q.shape[-4], W_Q.shape[-3]
    outs = [X]
    atts = []
    for layer in range(L):
        Xh = X[..., None, :, :]  # (..., 1, n, d) broadcast over heads
        S = attention_scores(Xh, W_Q[..., layer, :, :, :], W_K[..., layer, :, :, :])
        P = attention_matrix(S, method, n_iter=n_iter, tol=tol, warn=warn)  # (..., H, n, n)
        V = Xh @ W_V[..., layer, :, :, :]  # (..., H, n, d_v)
        Y = ((P @ V) @ np.swapaxes(W_O[..., layer, :, :, :], -1, -2)).sum(axis=-3)
        X = X + Y if skip else Y
        outs.append(X)
        atts.append(np.moveaxis(P, -3, 0))
    return SANTrace(np.stack(np.broadcast_arrays(*outs)), np.stack(atts))


def random_attention_scores(
    n: int,
    *,
    d_model: int = 128,
    d_qk: int = 32,
    scale: float = 1.0,
    size: int | tuple[int, ...] = (),
    rng: np.random.Generator | int | None = None,
) -> NDArray[np.float64]:
    r"""Random attention-like scores :math:`c\, X W_Q W_K^\top X^\top / \sqrt{d_{qk}}`.

    :math:`X \in \mathbb R^{n\times d}` has i.i.d. :math:`\mathcal N(0,1)` entries and
    :math:`W_Q, W_K \in \mathbb R^{d\times d_{qk}}` i.i.d. :math:`\mathcal N(0, 1/d)`, so each
    score has standard deviation close to :math:`c` = ``scale``. Every matrix of the batch
    is independent (RC App. G: "no correlation between the stochastic matrices").

    Parameters
    ----------
    n : int
        Tokens (``>= 2``).
    d_model, d_qk : int
    scale : float, > 0
        Score scale :math:`c` (an inverse temperature).
    size : int or tuple of int
    rng : numpy.random.Generator, int or None

    Returns
    -------
    ndarray, shape (*size, n, n)
    """
    n = check_dimension(n)
    d = _check_count(d_model, "d_model")
    dqk = _check_count(d_qk, "d_qk")
    c = check_positive_scalar(scale, "scale")
    shape = _shape(size)
    g = _generator(rng)
    X = g.normal(size=shape + (n, d))
    W_Q = g.normal(scale=1 / np.sqrt(d), size=shape + (d, dqk))
    W_K = g.normal(scale=1 / np.sqrt(d), size=shape + (d, dqk))
    return c * attention_scores(X, W_Q, W_K)


def sample_paths(
    n_layers: int,
    n_heads: int,
    batch: int,
    depth: int,
    n_paths: int,
    *,
    rng: np.random.Generator | int | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    r"""Random attention paths of RC Sec. 4.1.

    Each path draws ``depth`` distinct layers uniformly without replacement, sorted
    increasingly, and for each of them one head and one batch element uniformly.

    Parameters
    ----------
    n_layers, n_heads, batch : int
        Sizes of the pool of attention matrices ``(L, H, B, n, n)``.
    depth : int
        Path depth :math:`t`, ``1 <= depth <= n_layers``.
    n_paths : int
    rng : numpy.random.Generator, int or None

    Returns
    -------
    layers, heads, batch_idx : ndarray of int, each of shape (n_paths, depth)
        ``layers`` is strictly increasing along each row.
    """
    L = _check_count(n_layers, "n_layers")
    H = _check_count(n_heads, "n_heads")
    B = _check_count(batch, "batch")
    t = _check_count(depth, "depth")
    m = _check_count(n_paths, "n_paths")
    if t > L:
        raise ValueError(f"depth must be <= n_layers = {L}, got {t}")
    g = _generator(rng)
    layers = np.sort(np.argsort(g.random((m, L)), axis=-1)[:, :t], axis=-1)
    heads = g.integers(0, H, size=(m, t))
    bidx = g.integers(0, B, size=(m, t))
    return layers.astype(np.int64), heads.astype(np.int64), bidx.astype(np.int64)


def chained_product(
    attention: ArrayLike,
    layers: ArrayLike,
    heads: ArrayLike,
    batch_idx: ArrayLike,
) -> NDArray[np.float64]:
    r"""Chained attention product of RC Eq. 10: :math:`P_t = \prod_{i=1}^t P^{\ell_i}_{h_{\ell_i}, b}`.

    Factors are multiplied in increasing layer order, left to right
    (:math:`P^{\ell_1} P^{\ell_2}\cdots P^{\ell_t}`), as Eq. 10 is written.

    Parameters
    ----------
    attention : array_like, shape (L, H, B, n, n)
    layers, heads, batch_idx : array_like of int, shape (m, t)
        As returned by :func:`sample_paths`.

    Returns
    -------
    ndarray, shape (m, n, n)
    """
    P = as_float_array(attention, "attention", min_ndim=5)
    if P.ndim != 5:
        raise ValueError(f"attention must have shape (L, H, B, n, n), got {P.shape}")
    idx = [np.asarray(a) for a in (layers, heads, batch_idx)]
    if any(a.ndim != 2 or a.shape != idx[0].shape for a in idx):
        raise ValueError("layers, heads and batch_idx must be integer arrays of the same shape (m, t)")
    if any(not np.issubdtype(a.dtype, np.integer) for a in idx):
        raise ValueError("layers, heads and batch_idx must be integer arrays")
    if idx[0].shape[1] < 1:
        raise ValueError(f"layers, heads and batch_idx must hold paths of length t >= 1, got {idx[0].shape}")
    for a, lim, name in zip(idx, P.shape[:3], ("layers", "heads", "batch_idx")):
        if a.size and (a.min() < 0 or a.max() >= lim):
            raise ValueError(f"{name} must lie in [0, {lim}), got range [{a.min()}, {a.max()}]")
    order = np.argsort(idx[0], axis=-1, kind="stable")
    ly, hd, bi = (np.take_along_axis(a, order, axis=-1) for a in idx)
    out = P[ly[:, 0], hd[:, 0], bi[:, 0]]
    for i in range(1, ly.shape[1]):
        out = out @ P[ly[:, i], hd[:, i], bi[:, i]]
    return out


def prefix_products(factors: ArrayLike) -> NDArray[np.float64]:
    r"""All prefix products :math:`F_1, F_1F_2, \dots, F_1\cdots F_T` along axis ``-3``.

    Parameters
    ----------
    factors : array_like, shape (..., T, n, n)

    Returns
    -------
    ndarray, shape (..., T, n, n)
        ``out[..., t, :, :] = factors[..., 0, :, :] @ ... @ factors[..., t, :, :]``.
    """
    F = as_square_batch(factors, "factors")
    if F.ndim < 3:
        raise ValueError(f"factors must have shape (..., T, n, n), got {F.shape}")
    if F.shape[-3] < 1:
        raise ValueError(f"factors must hold T >= 1 factors along axis -3, got shape {F.shape}")
    out = np.empty_like(F)
    out[..., 0, :, :] = F[..., 0, :, :]
    for t in range(1, F.shape[-3]):
        out[..., t, :, :] = out[..., t - 1, :, :] @ F[..., t, :, :]
    return out
