r"""Batched spectra and entropy: :math:`\sigma_i(M)`, :math:`\sigma_2(M)` and :math:`H(M)`."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernels
from ._parallel import map_matrices
from ._validate import as_float_array, as_square_batch, pow2_scale

__all__ = ["entropy", "rank_one_residual", "restricted_norm", "sigma2", "singular_values"]


def singular_values(M: ArrayLike) -> NDArray[np.float64]:
    r"""Singular values in non-increasing order, batched (LAPACK ``gesdd``, threads across the batch).

    Parameters
    ----------
    M : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (..., n)
        :math:`\sigma_1 \ge \sigma_2 \ge \dots \ge \sigma_n \ge 0`.
    """
    M = as_square_batch(M, "M")
    c = pow2_scale(M, axis=(-2, -1))  # exact power-of-two scaling: no over/underflow
    return map_matrices(lambda b: np.linalg.svd(b, compute_uv=False), M / c) * c[..., 0]


def sigma2(M: ArrayLike) -> NDArray[np.float64]:
    r"""Second singular value :math:`\sigma_2(M)`, batched.

    For a doubly stochastic :math:`M` this is the operator norm of :math:`M` on the
    detail subspace :math:`\mathcal V_\perp` (HT Lemma 2).

    Computed as :math:`\sqrt{\lambda_{n-1}(MM^\top)}` with LAPACK ``syevd`` on the Gram
    matrix (threaded across the batch), about 1.5x faster than a full SVD. The absolute
    error of :math:`\sigma_2^2` that way is of order :math:`\epsilon\,\sigma_1^2`, so
    matrices with :math:`\sigma_2 < 10^{-3}\sigma_1` are recomputed by SVD: the relative
    error stays below ~1e-10 everywhere (~1e-14 for :math:`\sigma_2 > 10^{-1}\sigma_1`).
    Matrices whose largest entry lies outside :math:`[2^{-256}, 2^{256}]` are first scaled
    by an exact power of two, so the Gram matrix neither underflows nor overflows.

    With numba (:mod:`dsmlib._kernels`) the same route runs compiled, one matrix at a time
    in cache: the Gram product (register-blocked, its lower triangle), a fused Householder
    tridiagonalisation and only the two largest eigenvalues (Laguerre's method with
    Sturm-count certificates), with the same SVD fallback; about 3x faster than batched
    ``syevd``, agreeing with the SVD to ~1e-14 relative for :math:`\sigma_2 > 10^{-1}\sigma_1`
    and to better than 1e-10 above the fallback threshold (``tests/test_kernels.py``).

    Parameters
    ----------
    M : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (...)
    """
    M = as_square_batch(M, "M", check_finite=not _kernels.ENABLED)
    if _kernels.ENABLED and M.size:  # compiled: the same Gram route, top two eigenvalues only
        return _kernels.sigma2(M, "M")  # (also the NaN/inf check, while forming M M^T)

    def second(b: NDArray[np.float64]) -> NDArray[np.float64]:
        ev = np.linalg.eigvalsh(b @ np.swapaxes(b, -1, -2))
        s2 = np.sqrt(np.maximum(ev[..., -2], 0.0))
        small = ev[..., -2] < 1e-6 * ev[..., -1]  # Gram route loses accuracy: use the SVD
        if small.any():
            s2[small] = np.linalg.svd(b[small], compute_uv=False)[..., 1]
        return s2

    c = pow2_scale(M, axis=(-2, -1))
    return map_matrices(second, M / c) * c[..., 0, 0]


def restricted_norm(M: ArrayLike) -> NDArray[np.float64]:
    r"""Operator norm of :math:`M` on the detail subspace, :math:`\|M\mathcal P_\perp\|_2`.

    .. math:: \|M\|_{\mathcal V_\perp} = \sup_{x\perp\mathbf 1,\ \|x\|=1}\|Mx\|_2 = \sigma_1(M\mathcal P_\perp)

    (HT Lemma 2's left-hand side.)

    Parameters
    ----------
    M : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (...)
    """
    M = as_square_batch(M, "M")
    MP = M - M.mean(axis=-1, keepdims=True)  # M (I - 11^T/n): subtract the row means
    return np.linalg.svd(MP, compute_uv=False)[..., 0]


def entropy(M: ArrayLike) -> NDArray[np.float64]:
    r"""Entropy :math:`H(M) = -\sum_{ij} M_{ij}\log M_{ij}` (HT Algorithm 1, line 11), with :math:`0\log 0 = 0`.

    For an :math:`n\times n` DSM (entries summing to :math:`n`), :math:`0 \le H(M) \le n\log n`, the maximum at
    :math:`J/n`.

    Parameters
    ----------
    M : array_like, shape (..., n, m)
        Non-negative matrices.

    Returns
    -------
    ndarray, shape (...)

    Raises
    ------
    ValueError
        If ``M`` has negative or non-finite entries.
    """
    M = as_float_array(M, "M", min_ndim=2)
    if np.any(M < 0):
        raise ValueError("M has negative entries; entropy needs a non-negative matrix")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(M > 0, M * np.log(np.where(M > 0, M, 1.0)), 0.0)
    return -terms.sum(axis=(-2, -1))


def rank_one_residual(P: ArrayLike) -> NDArray[np.float64]:
    r"""Normalised distance to the best rank-one approximation, RC Eq. 11.

    .. math:: \frac{\|P - \sigma_1 u_1 v_1^\top\|_2}{\|P\|_2} = \frac{\sigma_2(P)}{\sigma_1(P)}

    (Eckart-Young: the spectral-norm error of the truncated SVD is :math:`\sigma_2`.)

    Parameters
    ----------
    P : array_like, shape (..., n, m)

    Returns
    -------
    ndarray, shape (...)
        0 for an exactly rank-one matrix; NaN for a zero matrix.
    """
    P = as_float_array(P, "P", min_ndim=2)
    if min(P.shape[-2:]) < 2:
        raise ValueError(f"P must be at least 2 x 2, got shape {P.shape}")
    P = P / pow2_scale(P, axis=(-2, -1))  # the ratio is scale-free; exact, avoids overflow
    s = map_matrices(lambda b: np.linalg.svd(b, compute_uv=False), P)
    with np.errstate(invalid="ignore", divide="ignore"):
        return s[..., 1] / s[..., 0]
