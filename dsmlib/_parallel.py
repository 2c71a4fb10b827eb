"""Thread-level parallelism over independent chunks of a batch.

NumPy's LAPACK-backed gufuncs and einsum release the GIL, so independent chunks of a
batch of small matrices run in parallel in threads. BLAS itself is kept single-threaded
(``OPENBLAS_NUM_THREADS=1`` in the Makefile): for 64 x 64 matrices, threading *inside*
each call costs more than it gains, threading *across* the batch does not.
``DSMLIB_THREADS`` sets the number of threads (default: the number of CPUs).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T")
R = TypeVar("R")

#: below this many matrices a batch is not split
MIN_SPLIT = 256


#: True inside a worker of :func:`process_map` (whose workers already occupy every CPU)
_IN_WORKER = False


def _mark_worker() -> None:
    """Initializer of :func:`process_map`'s workers: one thread each, and (glibc) freed memory
    kept in the process instead of being returned to the system and faulted in again."""
    global _IN_WORKER
    _IN_WORKER = True
    _keep_freed_memory()
    # loky replaces a worker whose memory grew by 300 MB since its first task, taking it for a
    # leak (with a UserWarning in the caller); these workers keep freed memory on purpose
    try:
        from joblib.externals.loky import process_executor
    except ImportError:  # pragma: no cover - joblib is a dependency
        return
    if hasattr(process_executor, "_USE_PSUTIL"):
        process_executor._USE_PSUTIL = False


def _keep_freed_memory() -> None:
    """glibc ``mallopt``: large temporaries (up to 32 MiB) come from the heap and the heap is
    not trimmed, so a worker that allocates the same arrays model after model stops paying
    page faults for them (about 5 % of chapter 6's analysis). No-op elsewhere."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError, TypeError):
        return
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    mallopt(M_MMAP_THRESHOLD, 32 << 20)
    mallopt(M_TRIM_THRESHOLD, 1 << 30)
    mallopt(M_TOP_PAD, 64 << 20)


def n_threads() -> int:
    """Threads to use: ``DSMLIB_THREADS`` or the CPU count (at least 1); 1 inside a worker
    process of :func:`process_map`."""
    if _IN_WORKER:
        return 1
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


def process_map(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(x) for x in items]`` on :func:`n_threads` worker processes.

    For tasks that hold the GIL much of the time (many numpy calls on moderate arrays), where
    :func:`thread_map` gains little. ``fn`` and the items must be picklable (a module-level
    function, e.g. a :func:`dsmlib.cache.disk_cached` one, or a ``functools.partial`` of one).
    The workers are joblib's loky processes: fresh interpreters with this process's
    environment that do not re-import the caller's ``__main__`` (a script without an
    ``if __name__ == "__main__"`` guard works; safe in a Jupyter kernel), reused by later calls
    and stopped after a minute idle; each runs its numpy work on one thread. One item, one
    worker, or a call from inside a worker runs in this process. The results are those of the
    serial loop: each call is independent and seeded by its arguments.
    """
    items = list(items)
    workers = min(n_threads(), len(items))
    if workers <= 1:
        return [fn(x) for x in items]
    from joblib.externals.loky import get_reusable_executor

    ex = get_reusable_executor(max_workers=workers, timeout=60, initializer=_mark_worker)
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
