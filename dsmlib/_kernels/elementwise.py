"""Elementwise kernels: the exact (erf) GELU of chapter 6's float64 inference.

scipy's ``erf`` ufunc costs about 37 ns per element and was half of a trained model's
analysis (four forward passes with feed-forward blocks over the whole test split); the
compiled loop calls libm's ``erf`` (about 10 ns). Both are correctly rounded to within an ulp
or two, so the activations agree to rounding (``tests/test_trained.py`` bounds the
difference).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._compile import AVAILABLE, _jit

__all__ = ["gelu_f64"]

_INV_SQRT2 = 1.0 / math.sqrt(2.0)


@_jit()
def _gelu_flat(x: NDArray[np.float64], out: NDArray[np.float64]) -> None:  # pragma: no cover - compiled
    for i in range(x.size):
        v = x[i]
        out[i] = 0.5 * v * (1.0 + math.erf(v * _INV_SQRT2))


def gelu_f64(x: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Exact GELU ``x Phi(x)`` of a float64 array (any shape), compiled; None without numba.

    Parameters
    ----------
    x : ndarray of float64, shape (...)

    Returns
    -------
    ndarray of float64, shape (...), or None
        None when numba is not available (the caller uses scipy's ``erf``).
    """
    if not AVAILABLE or x.dtype != np.float64:
        return None
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    _gelu_flat(flat, out)
    return out.reshape(x.shape)
