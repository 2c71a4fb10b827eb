"""Compilation of the kernels: ``numba.njit`` with an on-disk cache that is only ever a cache.

numba's ``cache=True`` stores each compiled kernel in an index (``.nbi``) and data
(``.nbc``) file, in ``$NUMBA_CACHE_DIR`` if set, else in the ``__pycache__`` folder next to
the source, else in the user's cache folder. Left alone, a problem with those files fails
the computation: no writable folder raises a ``RuntimeError`` at import, a full disk
(``ENOSPC``) an ``OSError`` on the first call, and a corrupt file an ``UnpicklingError`` on
every call. Here every kernel's cache is wrapped (:class:`_GuardedCache`) so that any error
of numba's cache machinery

* gives ONE :class:`KernelCacheWarning` per process, naming the folder and the error;
* switches caching off for every kernel for the rest of the process (the kernels are then
  compiled in memory, the numbers are the same);
* removes the index file that failed to load, so that the next process rebuilds the cache.

No folder for the cache at all (decoration time) compiles without caching, with the same
single warning. The computation itself never fails for a cache problem.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable

try:  # numba is a pinned dependency; the numpy paths remain as a fallback
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None
    AVAILABLE = False

__all__ = ["AVAILABLE", "KernelCacheWarning", "cache_status", "numba"]


class KernelCacheWarning(UserWarning):
    """numba's on-disk kernel cache is unusable; kernels are compiled without it (same numbers)."""


#: why caching was switched off in this process (None while it works)
_STATE: dict[str, str | None] = {"broken": None}
#: every guarded dispatcher (to switch their caching off together)
_DISPATCHERS: list[Any] = []


def cache_status() -> str | None:
    """None while numba's kernel cache is in use, else why it was switched off."""
    return _STATE["broken"]


def _describe(cache: Any) -> str:
    path = getattr(cache, "cache_path", None) or getattr(cache, "_cache_path", None)
    return f" in {path}" if path else ""


def _break(exc: BaseException, where: str) -> None:
    """Switch caching off for every kernel; warn once per process."""
    first = _STATE["broken"] is None
    reason = f"{type(exc).__name__}: {exc}"
    if first:
        _STATE["broken"] = reason
        warnings.warn(
            f"dsmlib: numba's kernel cache{where} is unusable ({reason}); the kernels are "
            "compiled in memory for this process instead (same results, slower start)",
            KernelCacheWarning,
            stacklevel=4,
        )


class _GuardedCache:
    """A numba dispatcher cache whose failures fall back to compiling (see the module doc)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        if _STATE["broken"] is not None:
            return None
        try:
            return self._inner.load_overload(sig, target_context)
        except Exception as exc:  # noqa: BLE001 - a cache read can fail in many ways (pickle, I/O)
            self._drop_index()
            _break(exc, _describe(self._inner))
            return None

    def save_overload(self, sig: Any, data: Any) -> None:
        if _STATE["broken"] is not None:
            return
        try:
            self._inner.save_overload(sig, data)
        except Exception as exc:  # noqa: BLE001 - ENOSPC, EROFS, EACCES, ...
            _break(exc, _describe(self._inner))

    def _drop_index(self) -> None:
        """Remove this kernel's index file (corrupt or unreadable): the next process rebuilds it."""
        index = getattr(getattr(self._inner, "_cache_file", None), "_index_path", None)
        if index:
            try:
                os.unlink(index)
            except OSError:
                pass


def _guard(disp: Any) -> Any:
    cache = getattr(disp, "_cache", None)
    if cache is not None and not isinstance(cache, _GuardedCache):
        disp._cache = _GuardedCache(cache)
    _DISPATCHERS.append(disp)
    return disp


def _jit(**kw: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(nogil=True, cache=True, error_model="numpy", **kw)`` with a guarded cache.

    Without numba, the identity. If numba finds no folder for the cache, the kernel is
    compiled without caching (one :class:`KernelCacheWarning`).
    """
    if not AVAILABLE:
        return lambda f: f

    def deco(f: Callable[..., Any]) -> Any:
        # error_model="numpy": 1/0 is inf (as in numpy), not a ZeroDivisionError
        opts = dict(nogil=True, error_model="numpy", **kw)
        if _STATE["broken"] is None:
            try:
                return _guard(numba.njit(cache=True, **opts)(f))
            except Exception as exc:  # noqa: BLE001 - "no locator available", OSError, ...
                _break(exc, "")
        return _guard(numba.njit(cache=False, **opts)(f))

    return deco
