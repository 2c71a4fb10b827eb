"""Input validation shared by every public function of :mod:`dsmlib`.

Each helper raises :class:`ValueError` with a message that names the offending
argument and the problem, so that a reader sees *which* input is wrong.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_float_array",
    "as_square_batch",
    "check_dimension",
    "check_positive_scalar",
    "check_n_iter",
    "check_tol",
]


def as_float_array(x: ArrayLike, name: str, *, min_ndim: int = 0) -> NDArray[np.float64]:
    """Return ``x`` as a finite float64 array with at least ``min_ndim`` axes.

    Raises
    ------
    ValueError
        If ``x`` is not numeric, has NaN/inf entries, or too few axes.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:  # e.g. strings, ragged lists
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__}") from exc
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}"
        )
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def as_square_batch(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``x`` as a finite float64 array of shape ``(..., n, n)`` with ``n >= 2``."""
    arr = as_float_array(x, name, min_ndim=2)
    if arr.shape[-1] != arr.shape[-2]:
        raise ValueError(
            f"{name} must be square over its last two axes, got shape {arr.shape}"
        )
    if arr.shape[-1] < 2:
        raise ValueError(f"{name} must be at least 2 x 2, got shape {arr.shape}")
    return arr


def check_dimension(n: object, name: str = "n") -> int:
    """Validate a matrix dimension: an integer ``>= 2`` (bools are rejected)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 2, got {n!r}")
    if int(n) < 2:
        raise ValueError(f"{name} must be an integer >= 2, got {n!r}")
    return int(n)


def check_positive_scalar(x: object, name: str) -> float:
    """Validate a finite scalar ``> 0`` (temperatures, scales)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    value = float(x)
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    return value


def check_n_iter(n_iter: object, name: str = "n_iter") -> int:
    """Validate an iteration cap: an integer ``>= 1``."""
    if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or int(n_iter) < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n_iter!r}")
    return int(n_iter)


def check_tol(tol: object, name: str = "tol") -> float:
    """Validate a tolerance: a finite number ``>= 0``."""
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise ValueError(f"{name} must be a finite number >= 0, got {tol!r}")
    value = float(tol)
    if not np.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {tol!r}")
    return value
