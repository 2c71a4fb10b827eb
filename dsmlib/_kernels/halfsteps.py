"""Fixed-count Sinkhorn half-steps on small matrices (chapter 6's trained-model inference).

:func:`dsmlib.trained.model.fast_sinkhorn` alternates ``u = 1 / (K v)`` and ``v = 1 / (K^T u)``
a fixed number of times (Sinkformers' convention: no stopping rule) on batches of small
matrices (17 x 17 for the ViT, up to a few hundred matrices per call). numpy does each
half-step as a batched mat-vec, one call per matrix; the kernel does all half-steps of one
matrix while it sits in cache. The iterates are the same to rounding (the dot products are
summed in another order; ``tests/test_trained.py`` bounds the difference), so the kernel is
used only where :mod:`dsmlib._kernels` is enabled and only in float64.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._compile import AVAILABLE, _jit

__all__ = ["scaling_halfsteps"]


@_jit(fastmath={"contract", "reassoc"})
def _halfsteps(K, n_half_steps, out):  # pragma: no cover - compiled
    """out[b] = diag(u) K[b] diag(v) after ``n_half_steps`` alternating row/column steps."""
    B, n = K.shape[0], K.shape[1]
    u = np.ones(n)
    v = np.ones(n)
    acc = np.empty(n)
    for b in range(B):
        Kb = K[b]
        for j in range(n):
            u[j] = 1.0
            v[j] = 1.0
        for k in range(n_half_steps):
            if k % 2 == 0:
                for i in range(n):
                    s = 0.0
                    for j in range(n):
                        s += Kb[i, j] * v[j]
                    u[i] = 1.0 / s
            else:
                for j in range(n):
                    acc[j] = 0.0
                for i in range(n):
                    ui = u[i]
                    for j in range(n):
                        acc[j] += Kb[i, j] * ui
                for j in range(n):
                    v[j] = 1.0 / acc[j]
        for i in range(n):
            for j in range(n):
                out[b, i, j] = u[i] * Kb[i, j] * v[j]


def scaling_halfsteps(K: NDArray[np.float64], n_half_steps: int) -> NDArray[np.float64] | None:
    """``diag(u) K diag(v)`` after ``n_half_steps`` half-steps (rows first) of each matrix.

    Parameters
    ----------
    K : ndarray of float64, shape (..., n, n)
        Positive kernels ``exp(S - max S)``.
    n_half_steps : int
        At least 1.

    Returns
    -------
    ndarray of float64, shape (..., n, n), or None
        None when numba is not available or ``K`` is not float64 (the caller uses numpy).
    """
    if not AVAILABLE or K.dtype != np.float64:
        return None
    if K.ndim < 2 or K.shape[-1] != K.shape[-2]:
        raise ValueError(f"K must have shape (..., n, n), got {K.shape}")
    if n_half_steps < 1:
        raise ValueError(f"n_half_steps must be >= 1, got {n_half_steps}")
    n = K.shape[-1]
    flat = np.ascontiguousarray(K).reshape(-1, n, n)
    out = np.empty_like(flat)
    _halfsteps(flat, int(n_half_steps), out)
    return out.reshape(K.shape)
