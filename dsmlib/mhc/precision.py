"""Arithmetic of one precision (float64, float32, bfloat16 emulated op by op) for :mod:`dsmlib.mhc`."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import as_float_array
from .recipes import Recipe

try:  # ml_dtypes comes with jax (requirements.txt); without it only float64 and float32 exist
    import ml_dtypes

    BFLOAT16: np.dtype | None = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    BFLOAT16 = None
_DTYPES = {"float64": np.dtype(np.float64), "float32": np.dtype(np.float32)}
if BFLOAT16 is not None:
    _DTYPES["bfloat16"] = BFLOAT16
#: largest n for which the n! permutation matrices are formed (8! x 8 x 8 floats = 21 MB)
MAX_PERMUTATION_N = 8


def _dtype(dtype: object) -> np.dtype:
    if dtype is None:
        raise ValueError("dtype must be float64, float32 or bfloat16, got None")
    try:
        key = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    except TypeError as exc:
        raise ValueError(f"dtype must be float64, float32 or bfloat16, got {dtype!r}") from exc
    if key == "bfloat16" and BFLOAT16 is None:
        raise ValueError("dtype bfloat16 needs the ml_dtypes package (pip install ml_dtypes)")
    if key not in _DTYPES:
        raise ValueError(f"dtype must be float64, float32 or bfloat16, got {dtype!r}")
    return _DTYPES[key]


def _as_float64(
    x: ArrayLike, name: str, *, min_ndim: int = 0, check_finite: bool = True
) -> NDArray[np.float64]:
    """``x`` as float64; ml_dtypes arrays (bfloat16, ...: numpy kind 'V') are converted exactly first."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "V" and x.dtype.fields is None:
        try:
            x = x.astype(np.float64)
        except (TypeError, ValueError):
            pass  # a raw void array: as_float_array rejects it with a message
    return as_float_array(x, name, min_ndim=min_ndim, check_finite=check_finite)


class _Arith:
    """Arithmetic of one precision: ``q`` rounds a float32/float64 result to the storage dtype."""

    def __init__(self, store: np.dtype):
        self.store = store
        self.work = np.dtype(np.float64) if store == np.float64 else np.dtype(np.float32)
        self.bf16 = BFLOAT16 is not None and store == BFLOAT16

    def q(self, x: np.ndarray) -> np.ndarray:
        return x.astype(BFLOAT16).astype(np.float32) if self.bf16 else x

    def load(self, x: NDArray[np.float64]) -> np.ndarray:
        return self.q(x.astype(self.work))


def _arith(recipe: Recipe, dtype: np.dtype) -> _Arith:
    return _Arith(np.dtype(np.float32) if (recipe.upcast and dtype.name == "bfloat16") else dtype)


def _out(x: np.ndarray, recipe: Recipe, dtype: np.dtype, ar: _Arith) -> np.ndarray:
    """Hand over ``x`` in the dtype the implementation hands it over in."""
    return x.astype(dtype if (recipe.cast_back or ar.bf16) else ar.work)

