r"""Deep mixing networks with and without residual connections (HT Sec. 4, RC Sec. 4.1).

The block studied by HT Proposition 1 is

.. math:: x_{\ell+1} = \mathrm{N}\big(s\,x_\ell + \alpha\,\phi(M_\ell x_\ell)\big),

with a skip flag :math:`s\in\{0,1\}`, a branch scale :math:`\alpha` (1 in the paper; a
"learnable expansive scaling" otherwise), :math:`\phi\in\{\mathrm{ReLU},\mathrm{id}\}` and
:math:`\mathrm N` the identity, the LayerNorm of HT Assumption 3, or the centring
:math:`\mathcal P_\perp`.

:func:`forward` runs many such networks at once: a batch of trials, and for every trial
several *columns* (inputs x variants) that share the trial's mixing matrices but may each
use their own :math:`\phi`, skip flag, LayerNorm flag and :math:`\alpha`. The mixing
matrices are given as a pool ``(P, n, n)`` plus an index ``(B, L)`` of which pool matrix
trial ``b`` uses at layer ``l`` (so that a large number of independent-looking layers does
not need ``L * B`` matrices in memory).

:func:`path_products` gives RC's chained products of stochastic matrices along paths with
and without skipped layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_float_array, as_square_batch

__all__ = ["PHIS", "Trajectory", "angle", "forward", "gaussian_mixing", "path_products"]

#: activations understood by :func:`forward`
PHIS = ("relu", "identity")


@dataclass(frozen=True)
class Trajectory:
    """Per-layer statistics of :func:`forward` (``L`` layers, ``B`` trials, ``C`` columns).

    Attributes
    ----------
    norm : ndarray, shape (L + 1, B, C)
        :math:`\\|x_\\ell\\|_2`.
    mean : ndarray, shape (L + 1, B, C)
        Norm of the mean component,
        :math:`|\\bar x_\\ell|\\sqrt n = \\|x_\\ell - \\mathcal P_\\perp x_\\ell\\|`.
    detail : ndarray, shape (L + 1, B, C)
        :math:`\\|\\mathcal P_\\perp x_\\ell\\|_2`.
    update : ndarray, shape (L, B, C)
        Branch norm :math:`\\|\\phi(M_\\ell x_\\ell)\\|_2` (before the scale :math:`\\alpha`).
    cos0 : ndarray, shape (L + 1, B, C)
        :math:`\\cos\\angle(x_\\ell, x_0)`.
    cos_pair : ndarray, shape (L + 1, B, C)
        :math:`\\cos\\angle(x_\\ell^{(c)}, x_\\ell^{(\\mathrm{partner}[c])})`.
    final : ndarray, shape (B, n, C)
        :math:`x_L`.
    """

    norm: NDArray[np.float64]
    mean: NDArray[np.float64]
    detail: NDArray[np.float64]
    update: NDArray[np.float64]
    cos0: NDArray[np.float64]
    cos_pair: NDArray[np.float64]
    final: NDArray[np.float64]


def angle(a: ArrayLike, b: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    r"""Angle :math:`\arccos\frac{\langle a,b\rangle}{\|a\|\|b\|}\in[0,\pi]` in radians along ``axis``.

    Parameters
    ----------
    a, b : array_like, broadcastable shapes (..., n, ...)
    axis : int
        Axis holding the vector coordinates.

    Returns
    -------
    ndarray
        NaN where a vector is zero.
    """
    a = as_float_array(a, "a", min_ndim=1)
    b = as_float_array(b, "b", min_ndim=1)
    num = (a * b).sum(axis=axis)
    den = np.linalg.norm(a, axis=axis) * np.linalg.norm(b, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.arccos(np.clip(num / den, -1.0, 1.0))


def _flags(x: object, C: int, name: str, dtype) -> NDArray:
    arr = np.broadcast_to(np.asarray(x), (C,)).astype(dtype) if np.ndim(x) == 0 else np.asarray(x)
    if arr.shape != (C,):
        raise ValueError(f"{name} must be a scalar or have shape ({C},), got shape {arr.shape}")
    return arr.astype(dtype)


def forward(
    pool: ArrayLike,
    index: ArrayLike,
    x0: ArrayLike,
    *,
    phi: str | tuple[str, ...] = "relu",
    skip: bool | ArrayLike = True,
    layer_norm: bool | ArrayLike = False,
    center: bool | ArrayLike = False,
    alpha: float | ArrayLike = 1.0,
    partner: ArrayLike | None = None,
) -> Trajectory:
    r"""Run ``B x C`` deep networks :math:`x_{\ell+1} = \mathrm N(s x_\ell + \alpha\phi(M_\ell x_\ell))`.

    Parameters
    ----------
    pool : array_like, shape (P, n, n)
        Mixing matrices (DSMs from :func:`dsmlib.random_dsm`, or any other mixing).
    index : array_like of int, shape (B, L)
        Trial ``b`` uses ``pool[index[b, l]]`` at layer ``l``.
    x0 : array_like, shape (B, n, C)
        Inputs: ``C`` columns per trial.
    phi : {'relu', 'identity'} or tuple of those of length C
    skip : bool or array_like of bool, shape (C,)
        Residual connection :math:`s`.
    layer_norm : bool or array_like of bool, shape (C,)
        Apply HT's LayerNorm :math:`\sqrt n\,\mathcal P_\perp y/\|\mathcal P_\perp y\|` after
        each block (post-LN).
    center : bool or array_like of bool, shape (C,)
        Project onto :math:`\mathcal V_\perp` after each block (no rescaling). For a
        mean-free input and :math:`\phi = \mathrm{id}` this changes nothing in exact
        arithmetic; it removes the rounding-level mean component, which a skip block
        doubles at every layer (:math:`(I + M)\mathbf 1 = 2\cdot\mathbf 1`).
    alpha : float or array_like, shape (C,)
        Branch scale :math:`\alpha` (finite).
    partner : array_like of int, shape (C,), optional
        Column with which ``cos_pair`` is computed (default: the column itself).

    Returns
    -------
    Trajectory

    Raises
    ------
    ValueError
        On shape mismatches, unknown ``phi``, out-of-range indices, or a LayerNorm of a
        vector without detail component.
    """
    P = as_square_batch(pool, "pool")
    if P.ndim != 3:
        raise ValueError(f"pool must have shape (P, n, n), got {P.shape}")
    n = P.shape[-1]
    idx = np.asarray(index)
    if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"index must be an integer array of shape (B, L), got {idx.dtype} {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= P.shape[0]):
        raise ValueError("index out of range for the pool")
    X = as_float_array(x0, "x0", min_ndim=3)
    if X.ndim != 3 or X.shape[0] != idx.shape[0] or X.shape[1] != n:
        raise ValueError(f"x0 must have shape ({idx.shape[0]}, {n}, C), got {X.shape}")
    if X.shape[2] < 1:
        raise ValueError(f"x0 must have C >= 1 columns, got shape {X.shape}")
    B, L = idx.shape
    C = X.shape[2]
    phis = (phi,) * C if isinstance(phi, str) else tuple(phi)
    if len(phis) != C or any(p not in PHIS for p in phis):
        raise ValueError(f"phi must be one of {PHIS} or a tuple of them of length {C}, got {phi!r}")
    relu = np.array([p == "relu" for p in phis])
    s = _flags(skip, C, "skip", bool).astype(np.float64)
    ln = _flags(layer_norm, C, "layer_norm", bool)
    cen = _flags(center, C, "center", bool) & ~ln
    a = _flags(alpha, C, "alpha", np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("alpha must be finite")
    part = np.arange(C) if partner is None else np.asarray(partner)
    if part.shape != (C,) or not np.issubdtype(part.dtype, np.integer) or part.min() < 0 or part.max() >= C:
        raise ValueError(f"partner must be integers in [0, {C}) of shape ({C},)")

    shape = (L + 1, B, C)
    norm, mean, detail, cos0, cos_pair = (np.empty(shape) for _ in range(5))
    update = np.empty((L, B, C))
    sqn = np.sqrt(n)

    x0n = np.sqrt(np.einsum("bnc,bnc->bc", X, X))

    def record(l: int, Y: NDArray[np.float64]) -> None:
        sq = np.einsum("bnc,bnc->bc", Y, Y)
        m = Y.sum(axis=1) / sqn  # = mean * sqrt(n)
        nrm = np.sqrt(sq)
        norm[l] = nrm
        mean[l] = np.abs(m)
        detail[l] = np.sqrt(np.maximum(sq - m * m, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            cos0[l] = np.clip(np.einsum("bnc,bnc->bc", Y, X) / (nrm * x0n), -1.0, 1.0)
            dot = np.einsum("bnc,bnc->bc", Y, Y[:, :, part])
            cos_pair[l] = np.clip(dot / (nrm * nrm[:, part]), -1.0, 1.0)

    Y = X.copy()
    record(0, Y)
    for l in range(L):
        Z = np.matmul(P[idx[:, l]], Y)  # (B, n, C)
        Z[:, :, relu] = np.maximum(Z[:, :, relu], 0.0)
        update[l] = np.sqrt(np.einsum("bnc,bnc->bc", Z, Z))
        Y = s * Y + a * Z
        if cen.any():
            Y[:, :, cen] -= Y[:, :, cen].mean(axis=1, keepdims=True)
        if ln.any():
            Yl = Y[:, :, ln]
            c = Yl - Yl.mean(axis=1, keepdims=True)
            cn = np.linalg.norm(c, axis=1, keepdims=True)
            if np.any(cn <= 1e-12 * np.linalg.norm(Yl, axis=1, keepdims=True)) or np.any(cn == 0):
                raise ValueError(f"LayerNorm of a vector without detail component at layer {l}")
            Y[:, :, ln] = sqn * c / cn
        record(l + 1, Y)
    return Trajectory(norm, mean, detail, update, cos0, cos_pair, Y)


def gaussian_mixing(n: int, size: int, rng: np.random.Generator) -> NDArray[np.float64]:
    r"""Gaussian mixing matrices with i.i.d. :math:`\mathcal N(0, 1/n)` entries (a non-DSM control).

    Parameters
    ----------
    n : int
    size : int
        Number of matrices.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (size, n, n)
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy Generator")
    if int(n) < 2 or int(size) < 1:
        raise ValueError("need n >= 2 and size >= 1")
    return rng.normal(scale=1.0 / np.sqrt(n), size=(int(size), int(n), int(n)))


def path_products(factors: ArrayLike, keep: ArrayLike) -> NDArray[np.float64]:
    r"""Chained products :math:`P_t=\prod_{i=1}^t A_i^{k_i}` with :math:`A^0 = I` (skipped factor).

    Factors are multiplied in increasing layer order, :math:`P_t = A_1^{k_1}\cdots A_t^{k_t}`
    (RC Eq. 10); a skipped factor (``keep`` False) is replaced by the identity, as in the
    path expansion of :math:`\prod_\ell (I + A_\ell)` (RC Sec. 4.1, App. G).

    Parameters
    ----------
    factors : array_like, shape (m, t, n, n)
        ``m`` paths of ``t`` factors.
    keep : array_like of bool, shape (m, t)

    Returns
    -------
    ndarray, shape (m, n, n)
    """
    A = as_float_array(factors, "factors", min_ndim=4)
    if A.ndim != 4 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"factors must have shape (m, t, n, n), got {A.shape}")
    k = np.asarray(keep, dtype=bool)
    if k.shape != A.shape[:2]:
        raise ValueError(f"keep must have shape {A.shape[:2]}, got {k.shape}")
    n = A.shape[-1]
    eye = np.eye(n)
    out = np.broadcast_to(eye, (A.shape[0], n, n)).copy()
    for i in range(A.shape[1]):
        F = np.where(k[:, i, None, None], A[:, i], eye)
        out = out @ F
    return out
