r"""Chapter 1, the pieces the experiments share: the temperature grids, seeded draws, the norm of
:math:`M` on :math:`\mathcal V_\perp`, the (1, inf) norm, the chi mean, Birkhoff DSMs and the path sum
of a pure attention network (RC Eq. 3)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln
from ...._validate import as_float_array, as_square_batch, check_dimension



#: temperatures of the sigma_1 study: from nearly-permutation (0.01) to nearly uniform (10)
TEMPERATURES: tuple[float, ...] = (0.01, 0.02, 0.03, 0.1, 1.0, 10.0)
#: temperatures at which the eigenvalues are computed (the slow part)
EIG_TEMPERATURES: tuple[float, ...] = (0.01, 0.1, 1.0)


def _decade(x: float) -> str:
    """Order of magnitude ``1e<k>`` (rounded up), stable across machines for rounding-level values."""
    x = float(x)
    return "0" if x <= 0 else (str(x) if not np.isfinite(x) else f"1e{int(np.ceil(np.log10(x)))}")




def _seeded_uniform(n: int, seeds: tuple[int, ...], per_seed: int) -> NDArray[np.float64]:
    """HT Algorithm 1 costs: block ``s`` is ``default_rng(seeds[s]).random((per_seed, n, n))``."""
    return np.concatenate([np.random.default_rng(s).random((per_seed, n, n)) for s in seeds])


# ----------------------------------------------------------------------------- mechanisms
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


def birkhoff_dsm(n: int, n_perm: int, *, size: int | tuple[int, ...] = (), rng=None) -> NDArray[np.float64]:
    r"""Random exact DSMs :math:`\sum_{k} w_k \Pi_k` (Birkhoff: convex combinations of permutations).

    Their marginals are 1 to rounding (no iterative scaling), and they are in general
    non-normal.

    Parameters
    ----------
    n : int
        Size, ``>= 2``.
    n_perm : int
        Number of permutation matrices combined, ``>= 1``.
    size : int or tuple of int
        Leading batch shape.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    ndarray, shape (*size, n, n)
    """
    n = check_dimension(n)
    if isinstance(n_perm, bool) or not isinstance(n_perm, (int, np.integer)) or n_perm < 1:
        raise ValueError(f"n_perm must be an int >= 1, got {n_perm!r}")
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    b = int(np.prod(shape, dtype=np.int64))
    perms = np.argsort(g.random((b, n_perm, n)), axis=-1)  # (b, k, n) random permutations
    w = g.dirichlet(np.ones(n_perm), size=b)  # (b, k)
    M = np.zeros((b, n, n))
    rows = np.arange(n)
    for k in range(n_perm):  # loop over the (few) permutations, not over trials
        np.add.at(M, (np.arange(b)[:, None], rows[None, :], perms[:, k]), w[:, k, None])
    return M.reshape(shape + (n, n))


def permutation_matrices(perm: ArrayLike) -> NDArray[np.float64]:
    r"""Permutation matrices :math:`\Pi` with :math:`\Pi_{i,\,\pi(i)} = 1` from index arrays.

    Parameters
    ----------
    perm : array_like of int, shape (..., n)
        Each last-axis row a permutation of ``0, ..., n-1``.

    Returns
    -------
    ndarray, shape (..., n, n)
    """
    perm = np.asarray(perm)
    if perm.ndim < 1 or not np.issubdtype(perm.dtype, np.integer):
        raise ValueError(f"perm must be an integer array of shape (..., n), got {perm.dtype} {perm.shape}")
    n = perm.shape[-1]
    if not np.array_equal(np.sort(perm, axis=-1), np.broadcast_to(np.arange(n), perm.shape)):
        raise ValueError("every row of perm must be a permutation of 0, ..., n-1")
    P = np.zeros(perm.shape + (n,))
    np.put_along_axis(P, perm[..., None], 1.0, axis=-1)
    return P


def random_permutations(n: int, size: int | tuple[int, ...], rng: np.random.Generator) -> NDArray[np.float64]:
    """Uniform random :math:`n\times n` permutation matrices, shape ``(*size, n, n)``."""
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return permutation_matrices(np.argsort(rng.random(shape + (check_dimension(n),)), axis=-1))


def block_diagonal(blocks: ArrayLike) -> NDArray[np.float64]:
    r"""Block-diagonal matrices :math:`\mathrm{diag}(B_1, \dots, B_k)` from equal square blocks.

    Parameters
    ----------
    blocks : array_like, shape (..., k, h, h)

    Returns
    -------
    ndarray, shape (..., k h, k h)
    """
    B = as_float_array(blocks, "blocks", min_ndim=3)
    k, h = B.shape[-3], B.shape[-1]
    if B.shape[-2] != h:
        raise ValueError(f"blocks must be square, got shape {B.shape}")
    out = np.zeros(B.shape[:-3] + (k * h, k * h))
    for j in range(k):  # loop over the (few) blocks, not over trials
        out[..., j * h:(j + 1) * h, j * h:(j + 1) * h] = B[..., j, :, :]
    return out


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
