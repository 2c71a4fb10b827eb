"""Chapter 3, what the experiments share: seeds, temperatures, DSM batches, unit detail vectors, intervals."""

from __future__ import annotations

import functools
import numpy as np
from numpy.typing import NDArray
from scipy import stats
from .... import center, random_dsm

__all__ = ["SEEDS", "TEMPS", "_dsm_batch", "clopper_pearson", "dsm_batch", "unit_detail"]


SEEDS: tuple[int, ...] = tuple(range(10))
#: temperature grid shared by the SNR and Exp. 2 sweeps (so they reuse the same DSMs)
TEMPS: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


# ----------------------------------------------------------------------------- helpers


def dsm_batch(n: int, temperature: float, seeds: tuple[int, ...], per_seed: int) -> NDArray[np.float64]:
    r"""Algorithm-1 DSMs, ``per_seed`` for each seed: ``random_dsm(n, T, size=per_seed, rng=seed)``.

    Memoised in memory (the experiments of this chapter share their DSMs); the returned array
    is read-only.

    Returns
    -------
    ndarray, shape (len(seeds) * per_seed, n, n)
    """
    if per_seed < 1 or not seeds:
        raise ValueError(f"need per_seed >= 1 and some seeds, got {per_seed}, {seeds}")
    return _dsm_batch(int(n), float(temperature), tuple(int(s) for s in seeds), int(per_seed))


@functools.lru_cache(maxsize=12)
def _dsm_batch(n: int, temperature: float, seeds: tuple[int, ...], per_seed: int) -> NDArray[np.float64]:
    M = np.concatenate([random_dsm(n, temperature, size=per_seed, rng=s, warn=False) for s in seeds])
    M.setflags(write=False)
    return M


def unit_detail(rng: np.random.Generator, shape: tuple[int, ...], n: int) -> NDArray[np.float64]:
    r"""Uniform unit vectors of :math:`\mathcal V_\perp = \{x: \mathbf 1^\top x = 0\}`, shape ``shape + (n,)``."""
    x = center(rng.standard_normal(tuple(shape) + (n,)))
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def clopper_pearson(k: NDArray, m: int, alpha: float = 0.05) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact two-sided ``1 - alpha`` confidence interval for a binomial proportion ``k / m``."""
    k = np.asarray(k, dtype=float)
    lo = np.where(k > 0, stats.beta.ppf(alpha / 2, k, m - k + 1), 0.0)
    hi = np.where(k < m, stats.beta.ppf(1 - alpha / 2, k + 1, m - k), 1.0)
    return lo, hi
