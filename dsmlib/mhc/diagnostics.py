r"""Depth diagnostics: distance from doubly stochastic, Amax gain and :math:`\sigma_2` of products."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..spectra import sigma2
from .precision import _as_float64

__all__ = ["amax_gain", "ds_error", "product_sigma2"]


def ds_error(H: ArrayLike) -> NDArray[np.float64]:
    r"""Distance from doubly stochastic, :math:`\max(\|H1 - 1\|_\infty, \|H^\top 1 - 1\|_\infty)`.

    Computed in float64 from the given entries (bfloat16 converted exactly). A matrix with
    NaN or infinite entries (an overflowed recipe) has error ``inf``, deliberately: it is
    doubly stochastic at no tolerance.

    Parameters
    ----------
    H : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (...)
    """
    M = _as_float64(H, "H", min_ndim=2, check_finite=False)
    if M.shape[-1] != M.shape[-2] or M.shape[-1] < 2:
        raise ValueError(f"H must have shape (..., n, n) with n >= 2, got {M.shape}")
    with np.errstate(invalid="ignore"):
        err = np.maximum(np.abs(M.sum(-1) - 1).max(-1), np.abs(M.sum(-2) - 1).max(-1))
    return np.where(np.all(np.isfinite(M), axis=(-2, -1)), err, np.inf)


def _running_products(Hs: ArrayLike, transpose: bool) -> NDArray[np.float64]:
    """Products :math:`A_k\\cdots A_1` over the depth axis -3, :math:`A = H` or :math:`H^\\top`."""
    A = _as_float64(Hs, "Hs", min_ndim=3)
    if A.shape[-1] != A.shape[-2] or A.shape[-1] < 2 or A.shape[-3] < 1:
        raise ValueError(f"Hs must have shape (..., L, n, n) with L >= 1 and n >= 2, got {A.shape}")
    if transpose:
        A = np.swapaxes(A, -1, -2)
    out = np.empty_like(A)
    P = np.broadcast_to(np.eye(A.shape[-1]), A.shape[:-3] + A.shape[-2:])
    for k in range(A.shape[-3]):
        P = A[..., k, :, :] @ P
        out[..., k, :, :] = P
    return out


def amax_gain(
    Hs: ArrayLike, side: Literal["forward", "backward"] = "forward", *, transpose: bool = False
) -> NDArray[np.float64]:
    r"""The mHC paper's Amax gain magnitude of the composite maps :math:`P_k = A_k \cdots A_1`.

    Forward: :math:`\max_i \sum_j |(P_k)_{ij}|` (largest absolute row sum); backward:
    :math:`\max_j \sum_i |(P_k)_{ij}|` (column sum). :math:`A_i = H_i`, or :math:`H_i^\top`
    with ``transpose=True`` (pass :attr:`Recipe.transpose_on_apply` to measure the map the
    code applies). Products taken in float64 from the given factors. A product of
    permutation matrices has gain exactly 1; a product of doubly stochastic ones, 1 up to
    rounding; an approximate DSM's error can grow with depth.

    Parameters
    ----------
    Hs : array_like, shape (..., L, n, n)
        Factors in order of application (layer 1 first).
    side : {'forward', 'backward'}
    transpose : bool, default False

    Returns
    -------
    ndarray, shape (..., L)
        Entry ``k`` is the gain of the product of the first ``k + 1`` factors
        (``[..., -1]``: the whole composite map).
    """
    if side not in ("forward", "backward"):
        raise ValueError(f"side must be 'forward' or 'backward', got {side!r}")
    P = np.abs(_running_products(Hs, transpose))
    return P.sum(-1 if side == "forward" else -2).max(-1)


def product_sigma2(Hs: ArrayLike, *, transpose: bool = False) -> NDArray[np.float64]:
    r""":math:`\sigma_2` of the running products :math:`P_k = A_k \cdots A_1` over depth.

    For doubly stochastic factors :math:`\sigma_2(P_k) \le \prod_{i\le k} \sigma_2(A_i)`
    (HT Lemma 2, HT-R2): the non-mean part of the streams contracts, and the product
    tends to :math:`J/n` (:math:`\sigma_2 = 0`) unless the factors stay near permutations.
    Computed by :func:`dsmlib.spectra.sigma2` on the float64 products.

    Parameters
    ----------
    Hs : array_like, shape (..., L, n, n)
        Factors in order of application (layer 1 first).
    transpose : bool, default False
        Multiply :math:`H_i^\top` (:attr:`Recipe.transpose_on_apply`).

    Returns
    -------
    ndarray, shape (..., L)
    """
    return sigma2(_running_products(Hs, transpose))
