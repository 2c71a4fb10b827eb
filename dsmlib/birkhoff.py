r"""Exact doubly stochastic matrices without iterative scaling: permutation matrices, their convex
combinations (Birkhoff DSMs) and block-diagonal matrices.

Birkhoff-von Neumann: every DSM is a convex combination of permutation matrices, so
:func:`birkhoff_dsm` draws DSMs whose marginals are 1 to rounding, in general non-normal;
:func:`block_diagonal` of DSM blocks is a DSM that is not primitive.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_float_array, check_dimension

__all__ = ["birkhoff_dsm", "block_diagonal", "permutation_matrices", "random_permutations"]


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
    r"""Uniform random :math:`n\times n` permutation matrices.

    Parameters
    ----------
    n : int
        Size, ``>= 2``.
    size : int or tuple of int
        Leading batch shape.
    rng : numpy.random.Generator
        One ``rng.random((*size, n))`` draw, argsorted along the last axis.

    Returns
    -------
    ndarray, shape (*size, n, n)
    """
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
