"""Thread-level parallelism over independent chunks of a batch.

NumPy's LAPACK-backed gufuncs and einsum release the GIL, so independent chunks of a
batch of small matrices run in parallel in threads. BLAS itself is kept single-threaded
(``OPENBLAS_NUM_THREADS=1`` in the Makefile): for 64 x 64 matrices, threading *inside*
each call costs more than it gains, threading *across* the batch does not.
``DSMLIB_THREADS`` sets the number of threads (default: the number of CPUs).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T")
R = TypeVar("R")

#: below this many matrices a batch is not split
MIN_SPLIT = 256


def n_threads() -> int:
    """Threads to use: ``DSMLIB_THREADS`` or the CPU count (at least 1)."""
    env = os.environ.get("DSMLIB_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    return max(1, os.cpu_count() or 1)


def thread_map(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(x) for x in items]``, run on :func:`n_threads` threads when there are several items."""
    items = list(items)
    workers = min(n_threads(), len(items))
    if workers <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


def map_matrices(fn: Callable[[NDArray[np.float64]], NDArray[np.float64]], A: NDArray[np.float64]) -> NDArray[np.float64]:
    """Apply a batched ``fn`` over the leading axes of ``A`` (…, n, m), split across threads.

    ``fn`` maps an array of shape (b, n, m) to one of shape (b, *out); the result has
    shape ``A.shape[:-2] + out``.
    """
    lead = A.shape[:-2]
    flat = A.reshape((-1,) + A.shape[-2:])
    parts = max(1, min(n_threads(), flat.shape[0] // MIN_SPLIT))
    if parts == 1:
        out = fn(flat)
    else:
        out = np.concatenate(thread_map(fn, np.array_split(flat, parts)))
    return out.reshape(lead + out.shape[1:])
