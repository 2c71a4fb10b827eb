"""Row-shuffle kernel: column sums of a matrix whose rows' entries are permuted at random.

Chapter 6's RC-DS null permutes the entries of every row of every attention matrix
independently (same row entropies) and measures the column-sum deviation. Materialising the
shuffled array (``np.take_along_axis(P, np.argsort(keys, -1), -1)``) costs an ``argsort`` of
every row and three temporaries the size of the attention record (~220 MB per MNIST model);
the kernel sorts each row's indices by its keys in place (insertion sort: rows are short) and
accumulates the column sums directly, row by row in the order numpy's ``sum(axis=-2)`` adds
them, so the sums are the same, bit for bit (``tests/test_trained.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._compile import AVAILABLE, _jit

__all__ = ["shuffled_colsums"]


@_jit()
def _shuffled_colsums(P, keys, out):  # pragma: no cover - compiled
    """out[b, j] = sum_i P[b, i, order_i[j]], order_i = argsort(keys[b, i]) (distinct keys)."""
    B, n = P.shape[0], P.shape[2]
    order = np.empty(n, dtype=np.int64)
    for b in range(B):
        for j in range(n):
            out[b, j] = 0.0
        for i in range(n):
            for j in range(n):
                order[j] = j
            for j in range(1, n):
                t = order[j]
                kt = keys[b, i, t]
                m = j - 1
                while m >= 0 and keys[b, i, order[m]] > kt:
                    order[m + 1] = order[m]
                    m -= 1
                order[m + 1] = t
            for j in range(n):
                out[b, j] += P[b, i, order[j]]


def shuffled_colsums(P: NDArray[np.float64], keys: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Column sums of ``P`` after sorting each row's entries by ``keys``; None without numba.

    Parameters
    ----------
    P, keys : ndarray of float64, shape (..., n, n)
        Matrices and one random key per entry (rows are permuted by ``argsort(keys, -1)``).

    Returns
    -------
    ndarray of float64, shape (..., n), or None
        ``np.take_along_axis(P, np.argsort(keys, -1), -1).sum(-2)``; None when numba is not
        available (the caller uses numpy).
    """
    if not AVAILABLE:
        return None
    if P.shape != keys.shape or P.ndim < 2 or P.shape[-1] != P.shape[-2]:
        raise ValueError(f"P and keys must have the same shape (..., n, n), got {P.shape} and {keys.shape}")
    n = P.shape[-1]
    flatP = np.ascontiguousarray(P, dtype=np.float64).reshape(-1, n, n)
    flatK = np.ascontiguousarray(keys, dtype=np.float64).reshape(-1, n, n)
    out = np.empty(flatP.shape[:2])
    _shuffled_colsums(flatP, flatK, out)
    return out.reshape(P.shape[:-1])
