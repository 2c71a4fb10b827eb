"""A small on-disk memo for experiment results, so chapters and the ledger share runs.

An experiment at the papers' sizes is run once; the chapter notebook, the claims ledger
(``python -m dsmlib.claims``) and ``chapters/claims.ipynb`` then read the same result.

Safety rules
------------
*Nothing on disk can run code.* An entry is one ``.npz`` file read with
``allow_pickle=False``: the arrays, plus a JSON document that describes the rest of the
result (numbers, strings, tuples, lists, dicts with string keys, numpy scalars and nested
dataclasses). A dataclass is rebuilt by its qualified name only if that name resolves, in
an already imported :mod:`dsmlib` module, to a dataclass defined there (the allow-list);
anything else is refused and the result recomputed. The loaded object must be an instance
of the function's declared return type, and the entry must carry the full key it was
stored under.

*No stale or foreign results.* The key (:mod:`dsmlib.cache.keys`) is the function's
qualified name, a canonical, lossless encoding of its arguments bound to its signature,
defaults applied (``f(m, c)`` and ``f(m, config=c)`` are one entry; arrays by dtype, shape and
a sha256 of their bytes, floats by ``repr``, dataclasses field by field; an argument
without such an encoding raises ``TypeError`` instead of risking a shared key), the Python,
numpy, scipy and numba versions, the switches that change numbers (the compiled-kernel
switch ``dsmlib._kernels.ENABLED``, i.e. ``DSMLIB_KERNELS``, the BLAS/OpenMP and
``DSMLIB_THREADS`` thread counts, ``NUMBA_CPU_NAME``, and the CPU code paths: numpy's
enabled SIMD features and OpenBLAS's core type), a SHA-256 of every ``.py`` file of :mod:`dsmlib` on
disk, and of any dsmlib module loaded from elsewhere (re-hashed whenever a file's size or
modification time changes), and the sha256 of every declared input file (below). An entry
is read
or written only while the code that runs is that code, unmodified (:func:`code_status`):

- every loaded :mod:`dsmlib` module's functions and methods (including nested ones) have
  the same code objects as a fresh compile of the file on disk (this catches an edit not
  yet reloaded, and an ``importlib.reload`` after an edit makes the key change), no
  module-level name defined on disk is bound to something else, and no simple module
  constant (number, string, tuple, ...) has changed since the module was first checked;
- no name imported by a dsmlib module from elsewhere has been rebound, and no public
  callable of the numpy/scipy modules dsmlib uses (``numpy``, ``numpy.linalg``,
  ``numpy.random``, ``scipy.special``, ``scipy.stats``, ``scipy.linalg``, ...), nor a
  method of a ``scipy.stats`` distribution (instance or class), has been replaced since
  :mod:`dsmlib.cache` was imported, or comes from a module outside numpy/scipy.

Otherwise the function is simply computed (no read, no write, no memo): a monkeypatched
computation, a live kernel with edited-but-not-reloaded code, or a reloaded module each
miss the cache. What is *not* detected: patches applied before :mod:`dsmlib` was imported
that keep a numpy/scipy ``__module__``, changes to mutable module state (dicts, lists),
and patched C internals.

*Input files.* A function whose result depends on data files declares them:
``@disk_cached(files=lambda config: [path, ...])`` (the callable gets the function's
arguments). The sha256 of each file's *current content* is part of the key, re-read on
every call (hit or miss, memory or disk), so a changed, truncated or deleted file is never
served a result computed from the old one; a missing file is keyed as absent, and a path
that is not a regular file (a device, a FIFO) raises ``ValueError``.
``@disk_cached(key=lambda config: ...)`` adds any other value (encoded like an argument)
computed on every call, e.g. :func:`dsmlib.trained.model.weights_digest`, which also
verifies the weights against their manifest and raises on a mismatch.

*Read-only results.* Every result handed out, computed or read, is a new object whose
arrays (nested in dataclasses, tuples, lists and dicts) are read-only views
(``writeable=False``, and cannot be made writeable); containers are new per call. No two
callers ever share a mutable object, so the memo cannot be corrupted by a caller.

*No shared folders.* The folder is ``$DSMLIB_CACHE_DIR`` if set, else ``.cache/dsmlib`` in
the checkout, else the user's cache folder (``platformdirs.user_cache_dir("dsmlib")`` when
platformdirs is installed, otherwise ``$XDG_CACHE_HOME/dsmlib`` or ``~/.cache/dsmlib``);
never a shared temporary folder. A folder owned by another user, or writable by group or
others (also through a symlink, such as a checkout's ``.cache/dsmlib`` linked to a
world-writable folder), is refused with a :class:`CacheWarning`; the next candidate is
used, or the result is computed without caching. A read-only folder or a full disk also
degrades to computing without caching. Temporary files left by interrupted writes
(``.<entry>.npz.tmp<PID>``) are removed when their process is gone or after 15 minutes.

Set ``DSMLIB_NO_CACHE=1`` to bypass the cache.

Modules: :mod:`~dsmlib.cache.keys` (the canonical key), :mod:`~dsmlib.cache.code`
(:func:`code_status`, :func:`source_hash`), :mod:`~dsmlib.cache.store` (folder, format,
read-only results); the decorator is here.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from . import keys as _keys
from .code import code_status, source_hash
from .keys import canonical, file_digests, switches
from .store import (
    _FORMAT,
    CacheWarning,
    _candidates,
    _Refused,
    _return_type,
    _warn,
    cache_dir,
    clean_orphans,
    decode,
    encode,
    freeze,
    read_entry,
    thaw,
    write_entry,
)

__all__ = [
    "CacheWarning",
    "cache_dir",
    "canonical",
    "clean_orphans",
    "code_status",
    "decode",
    "disk_cached",
    "encode",
    "entry_key",
    "file_digests",
    "source_hash",
    "switches",
]

F = TypeVar("F", bound=Callable[..., Any])
#: "not in the cache" (a cached result may be None)
_MISS = object()
FilesFn = Callable[..., Iterable["str | os.PathLike[str]"]]


def entry_key(
    func: Callable[..., Any],
    args: tuple,
    kwargs: dict,
    *,
    files: list[tuple[str, str]] | None = None,
    extra: Any = None,
) -> tuple[str, str]:
    """``(key, key_source)`` of a call: qualified name, canonical arguments, versions,
    switches, source hash, input files (``(path, sha256)`` pairs) and ``extra``.

    Raises ``TypeError`` for arguments without a lossless encoding.
    """
    return _keys.entry_key(func, args, kwargs, files=files, extra=extra, source=source_hash(), fmt=_FORMAT)


def disk_cached(
    func: F | None = None, *, files: FilesFn | None = None, key: Callable[..., Any] | None = None
) -> Any:
    """Memoise a function on disk (and in memory), keyed losslessly (see :mod:`dsmlib.cache`).

    Use as ``@disk_cached`` or ``@disk_cached(files=..., key=...)``.

    Parameters
    ----------
    func : callable
        The function; its result must be encodable by :func:`encode` (a result that is not
        is returned uncached) and, if it declares a return type, an instance of it.
    files : callable, optional
        Called with the function's arguments on every call; returns the paths of the data
        files the result depends on. Their current sha256 is part of the key.
    key : callable, optional
        Called with the function's arguments on every call; returns extra key material
        (encoded like an argument). Its exceptions propagate (use it to verify inputs).

    Returns
    -------
    callable
        The wrapped function, with ``.uncached`` (the original function) and ``.cached(*args,
        **kwargs)`` (whether that call would be answered from the cache). Results are new
        objects with read-only arrays. Arguments without a lossless encoding raise
        ``TypeError`` (call ``.uncached`` for those).
    """
    if func is None:
        return lambda f: _make_cached(f, files, key)
    if not callable(func):
        raise TypeError(f"disk_cached: expected a function, got {type(func).__name__}")
    return _make_cached(func, files, key)


def _make_cached(func: F, files: FilesFn | None, key_fn: Callable[..., Any] | None) -> F:
    memo: dict[str, tuple[Any, dict]] = {}

    def lookup(args: tuple, kwargs: dict) -> tuple[Any, str, str, Path | None]:
        """(stored result or _MISS, key, key source, entry path or None if no cache folder)."""
        # inputs first, on every call (hit or miss): a changed file is a new key
        digests = file_digests(files(*args, **kwargs)) if files is not None else None
        extra = key_fn(*args, **kwargs) if key_fn is not None else None
        k, key_src = entry_key(func, args, kwargs, files=digests, extra=extra)
        hit = memo.get(k)
        if hit is not None:
            return thaw(hit), k, key_src, None
        folder = cache_dir()
        if folder is None:
            return _MISS, k, key_src, None
        path = folder / f"{func.__qualname__}-{k}.npz"
        want = _return_type(func)
        if path.is_file():
            try:
                frozen = read_entry(path, key_src)
                result = thaw(frozen)
                if want is not None and type(result) is not want:
                    raise _Refused(f"entry holds a {type(result).__qualname__}, not a {want.__qualname__}")
                memo[k] = frozen
                return result, k, key_src, path
            except Exception:  # noqa: BLE001 - nothing here runs foreign code; any failure: recompute
                try:  # corrupt, foreign or stale entry: recompute (and replace it)
                    path.unlink()
                except OSError:
                    pass
        return _MISS, k, key_src, path

    def cached(*args: Any, **kwargs: Any) -> bool:
        """Whether a call with these arguments would be answered from the cache (its inputs
        are verified as by a call; nothing is computed)."""
        if os.environ.get("DSMLIB_NO_CACHE") or code_status() is not None:
            return False
        return lookup(args, kwargs)[0] is not _MISS

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if os.environ.get("DSMLIB_NO_CACHE") or code_status() is not None:
            return func(*args, **kwargs)
        result, k, key_src, path = lookup(args, kwargs)
        if result is not _MISS:
            return result
        if path is None:
            return func(*args, **kwargs)
        result = func(*args, **kwargs)
        want = _return_type(func)
        if want is not None and type(result) is not want:
            return result
        try:
            frozen = freeze(result)
        except _Refused:
            return result
        try:
            write_entry(path, frozen, key_src)
        except OSError as exc:
            _warn(f"dsmlib cache: cannot write to {path.parent} ({exc.strerror}); results are not cached")
            return thaw(frozen)
        memo[k] = frozen
        return thaw(frozen)

    wrapper.uncached = func  # type: ignore[attr-defined]
    wrapper.cached = cached  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
