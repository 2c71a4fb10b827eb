r"""Chapter 1, the pieces the experiments share: the temperature grids, the (1, inf) norm, the chi mean
and the path sum of a pure attention network (RC Eq. 3). (The seeded Algorithm-1 costs, the norm on
:math:`\mathcal V_\perp` and the Birkhoff DSMs are mechanisms: :mod:`dsmlib.algorithm1`,
:func:`dsmlib.spectra.restricted_norm`, :mod:`dsmlib.birkhoff`.)"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln
from ...._validate import as_float_array

__all__ = ["EIG_TEMPERATURES", "TEMPERATURES", "_decade", "chi_mean", "norm_1inf", "path_sum"]


#: temperatures of the sigma_1 study: from nearly-permutation (0.01) to nearly uniform (10)
TEMPERATURES: tuple[float, ...] = (0.01, 0.02, 0.03, 0.1, 1.0, 10.0)
#: temperatures at which the eigenvalues are computed (the slow part)
EIG_TEMPERATURES: tuple[float, ...] = (0.01, 0.1, 1.0)


def _decade(x: float) -> str:
    """Order of magnitude ``1e<k>`` (rounded up), stable across machines for rounding-level values."""
    x = float(x)
    return "0" if x <= 0 else (str(x) if not np.isfinite(x) else f"1e{int(np.ceil(np.log10(x)))}")


# ----------------------------------------------------------------------------- mechanisms
def norm_1inf(A: ArrayLike) -> NDArray[np.float64]:
    r"""The :math:`\ell_{1,\infty}` quantity of Dong et al. (RC App. E).

    .. math:: \|A\|_{1,\infty} = \sqrt{\|A\|_1\,\|A\|_\infty},\quad
       \|A\|_1 = \max_j\sum_i|a_{ij}|,\ \|A\|_\infty = \max_i\sum_j|a_{ij}|

    Parameters
    ----------
    A : array_like, shape (..., m, n)

    Returns
    -------
    ndarray, shape (...)
    """
    A = np.abs(as_float_array(A, "A", min_ndim=2))
    return np.sqrt(A.sum(axis=-2).max(axis=-1) * A.sum(axis=-1).max(axis=-1))


def chi_mean(k: ArrayLike) -> NDArray[np.float64]:
    r"""Exact mean of the chi distribution, :math:`\mathbb E\|g_k\| = \sqrt2\,\Gamma(\tfrac{k+1}2)/\Gamma(\tfrac k2)`.

    Parameters
    ----------
    k : array_like
        Degrees of freedom, ``> 0``.

    Returns
    -------
    ndarray
    """
    k = np.asarray(k, dtype=np.float64)
    if np.any(~np.isfinite(k)) or np.any(k <= 0):
        raise ValueError("k must be finite and > 0")
    return np.sqrt(2.0) * np.exp(gammaln((k + 1) / 2) - gammaln(k / 2))


def path_sum(X: ArrayLike, P: ArrayLike, W: ArrayLike, *, reverse: bool = False) -> NDArray[np.float64]:
    r"""Sum over all :math:`H^L` attention paths, RC Eq. 3.

    .. math:: \sum_{h_1,\dots,h_L\in[H]} \big(P^L_{h_L}\cdots P^1_{h_1}\big)\, X\,
       \big(W^1_{h_1}\cdots W^L_{h_L}\big)

    The path products are built layer by layer for all paths at once (no loop over paths).

    Parameters
    ----------
    X : array_like, shape (..., n, d)
    P : array_like, shape (L, H, ..., n, n)
        Attention matrices :math:`P^\ell_h`.
    W : array_like, shape (..., L, H, d, d)
        :math:`W^\ell_h = W^\ell_{V,h}(W^\ell_{O,h})^\top`.
    reverse : bool, default False
        Multiply the attention factors in the wrong order :math:`P^1\cdots P^L` (a control).

    Returns
    -------
    terms : ndarray, shape (..., H**L, n, d)
        One term per path (path index ``h_1 h_2 ... h_L`` in base ``H``, ``h_1`` slowest).
    """
    X = as_float_array(X, "X", min_ndim=2)
    P = as_float_array(P, "P", min_ndim=4)
    W = as_float_array(W, "W", min_ndim=4)
    L, H = P.shape[0], P.shape[1]
    if W.shape[-4:-2] != (L, H) or W.shape[-1] != X.shape[-1] or W.shape[-2] != X.shape[-1]:
        raise ValueError(f"W must have shape (..., {L}, {H}, d, d) with d = {X.shape[-1]}, got {W.shape}")
    Pm = np.moveaxis(P, (0, 1), (-4, -3))  # (..., L, H, n, n)
    Pp = Pm[..., 0, :, :, :]  # (..., H, n, n): paths of length 1
    Wp = W[..., 0, :, :, :]
    for layer in range(1, L):
        Pl = Pm[..., layer, :, :, :]
        if reverse:  # P^1 ... P^l (wrong order)
            Pp = np.einsum("...pij,...hjk->...phik", Pp, Pl)
        else:  # P^l (P^{l-1} ... P^1)
            Pp = np.einsum("...hij,...pjk->...phik", Pl, Pp)
        Wp = np.einsum("...pij,...hjk->...phik", Wp, W[..., layer, :, :, :])
        Pp = Pp.reshape(Pp.shape[:-4] + (-1,) + Pp.shape[-2:])
        Wp = Wp.reshape(Wp.shape[:-4] + (-1,) + Wp.shape[-2:])
    return Pp @ X[..., None, :, :] @ Wp
