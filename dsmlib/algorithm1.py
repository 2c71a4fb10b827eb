r"""HT's Algorithm 1: its seeded costs and temperature grid (chapters 1 and 2), and a flat batch with
one batch-wide stopping rule (chapter 4's deep draws).

:func:`dsmlib.random_dsm` is Algorithm 1 per matrix (its own stopping rule, log-domain
fallback); :func:`algorithm1_batch` is the lean batch path the deep experiments of chapter 4
draw their thousands of fresh layers with, bit for bit the draws stored in the book.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._validate import check_dimension, check_n_iter, check_positive_scalar, check_tol

__all__ = ["HT_TEMPERATURES", "algorithm1_batch", "algorithm1_costs"]

#: the temperature grid of HT Exp. 1: 16 points, log-spaced over [1e-2, 1e1] (5 per decade)
HT_TEMPERATURES: tuple[float, ...] = tuple(float(f"{t:.6g}") for t in np.logspace(-2, 1, 16))

#: smallest temperature :func:`algorithm1_batch` accepts (exp(-1/T) stays a normal float64)
_LEAN_MIN_T = 0.002


def algorithm1_batch(
    n: int,
    temperature: float,
    size: int,
    rng: np.random.Generator,
    *,
    n_iter: int = 200,
    tol: float = 1e-6,
) -> tuple[NDArray[np.float64], int]:
    r"""HT Algorithm 1 for a flat batch, lean: one stopping rule for the whole batch.

    The same costs as :func:`random_dsm` (``rng.random((size, n, n))``, then
    :math:`e^{-d/T}`), normalised by plain alternating row / column division of the whole
    batch at once until the largest row-sum error *of the batch* is ``<= tol`` (at most
    ``n_iter`` iterations; one iteration = row step + column step, as Algorithm 1 is
    written). Matrices that converged earlier take the extra iterations, which move them by
    less than ``tol``. No chunking, no log-domain fallback, no per-matrix bookkeeping, at
    temperatures where :math:`e^{-1/T}` does not underflow (``T >= 0.002``; below that use
    :func:`random_dsm`). It is the path the deep experiments of chapter 4 draw their
    thousands of fresh layers with (bit for bit the draws stored in the book); with the
    compiled kernel, :func:`random_dsm` is about as fast (0.7 to 1.2 times this path's time
    for 2000 matrices of size 64 at ``T`` in 0.3 to 10, measured on two cores). Results agree
    with :func:`random_dsm` to ``tol``, not bit for bit.

    Parameters
    ----------
    n : int
        Matrix size (``>= 2``).
    temperature : float
        :math:`T`, finite, ``>= 0.002``.
    size : int
        Number of matrices (``>= 1``).
    rng : numpy.random.Generator
        Source of the costs.
    n_iter : int, default 200
        Iteration cap :math:`K` (``>= 1``).
    tol : float, default 1e-6
        Batch tolerance on the row sums (``>= 0``; columns are exact after a column step).

    Returns
    -------
    M : ndarray, shape (size, n, n)
    n_failed : int
        Matrices whose row-sum error is still ``> tol`` after the last iteration.

    Raises
    ------
    ValueError
        For an invalid ``n``, ``size``, ``rng``, ``n_iter`` or ``tol``, or a temperature that
        is not a finite number ``>= 0.002``.
    """
    n = check_dimension(n)
    T = check_positive_scalar(temperature, "temperature")
    if T < _LEAN_MIN_T:
        raise ValueError(f"temperature={temperature!r} is below {_LEAN_MIN_T} (exp(-1/T) underflows): "
                         "use random_dsm")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or int(size) < 1:
        raise ValueError(f"size must be an integer >= 1, got {size!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy Generator")
    n_iter = check_n_iter(n_iter)
    tol = check_tol(tol)
    A = rng.random((int(size), n, n))
    np.multiply(A, -1.0 / T, out=A)
    np.exp(A, out=A)
    err = np.full(int(size), np.inf)
    for _ in range(n_iter):
        A /= A.sum(axis=-1, keepdims=True)
        A /= A.sum(axis=-2, keepdims=True)
        err = np.abs(A.sum(axis=-1) - 1.0).max(axis=-1)
        if err.max() <= tol:
            break
    return A, int((err > tol).sum())


def algorithm1_costs(n: int, seeds: tuple[int, ...], per_seed: int) -> NDArray[np.float64]:
    r"""The uniform costs :math:`d_{ij}\sim\mathcal U[0,1]` of HT Algorithm 1, seed by seed.

    Trial block ``s`` is ``np.random.default_rng(seeds[s]).random((per_seed, n, n))``, so
    the same costs are reused at every temperature (common random numbers).

    Parameters
    ----------
    n : int
        Matrix size, ``>= 2``.
    seeds : tuple of int
        One seed per block, at least one.
    per_seed : int
        Matrices per block, ``>= 1``.

    Returns
    -------
    ndarray, shape (len(seeds) * per_seed, n, n)

    Raises
    ------
    ValueError
        For ``n < 2``, ``per_seed < 1`` or no seeds.
    """
    if per_seed < 1 or n < 2 or not seeds:
        raise ValueError(f"need n >= 2, per_seed >= 1 and some seeds, got {n}, {per_seed}, {seeds}")
    return np.concatenate([np.random.default_rng(s).random((per_seed, n, n)) for s in seeds])
