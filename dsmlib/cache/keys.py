"""Cache keys of :mod:`dsmlib.cache`: a canonical, lossless encoding of a call.

Two calls share a key only if their arguments are *equal as values of the same types*:

============================  ==========================================================
argument                      encoded as
============================  ==========================================================
``None``, ``bool``            itself
``int``                       its decimal digits
``float``, ``complex``        ``repr`` (round-trips exactly; ``-0.0`` and ``0.0`` differ)
``str``, ``bytes``            JSON string / hex digits
``tuple``, ``list``           element by element (the two are told apart)
``dict``                      string keys only, sorted
``set``, ``frozenset``        the sorted encodings of the elements
``numpy.ndarray``             dtype (with byte order), shape and the sha256 of the bytes
                              of a C-contiguous copy (never a printed summary)
numpy scalar                  dtype and its bytes
dataclass instance            its qualified class name, then field by field
``enum.Enum`` member          its qualified class name and member name
``pathlib.PurePath``          the path string
============================  ==========================================================

Anything else (a callable, a generator, a masked array or another ndarray subclass, an
object array, a dict with non-string keys, a self-containing structure) is **refused**:
:func:`canonical` raises ``TypeError`` naming where in the arguments the value sits. A
cached function called with it fails at once (call ``f.uncached(...)`` to compute it
without the cache); it is never served a result computed for another argument.

The arguments are bound to the function's signature first, defaults applied, so a call
is keyed by *what* it passes, not how it is written: ``f(m, c)``, ``f(m, config=c)`` and,
when ``c`` is the default, ``f(m)`` share one entry.

Besides the arguments, the key holds the function's qualified name, the Python, numpy,
scipy and numba versions, the machine type, the source hash of dsmlib, the *switches*
that change numbers (:func:`switches`: the compiled-kernel switch
``dsmlib._kernels.ENABLED``, the BLAS/OpenMP thread counts and ``DSMLIB_THREADS``), and,
for a function declared with file inputs, the sha256 of each input file's current content.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import inspect
import json
import os
import platform
import sys
from pathlib import PurePath
from typing import Any, Callable, Iterable

import numpy as np

from .._validate import file_sha256

__all__ = ["canonical", "entry_key", "file_digests", "switches"]

#: environment variables that may change the numbers a computation produces
NUMERIC_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "DSMLIB_THREADS", "NUMBA_CPU_NAME")
_MAX_DEPTH = 64


def canonical(obj: Any, where: str = "argument") -> str:
    """The canonical, lossless string of ``obj`` (see the module docstring).

    Parameters
    ----------
    obj : Any
        A value built from the types of the module docstring's table.
    where : str
        How to name ``obj`` in the error (``"config"``, ``"args[0]"``, ...).

    Raises
    ------
    TypeError
        If ``obj`` (or anything inside it) cannot be encoded losslessly; the message says
        where and what it is.
    """
    return _enc(obj, where, 0)


def _enc(x: Any, where: str, depth: int) -> str:
    if depth > _MAX_DEPTH:
        raise TypeError(f"cannot build a cache key: {where} is nested more than {_MAX_DEPTH} levels deep")
    t = type(x)
    if x is None:
        return "N"
    if t is bool:
        return "T" if x else "F"
    if t is int:
        return f"i{x}"
    if t is float:
        return f"f{x!r}"
    if t is complex:
        return f"c{x!r}"
    if t is str:
        return "s" + json.dumps(x)
    if t is bytes:
        return "y" + x.hex()
    if t is tuple or t is list:
        inner = ",".join(_enc(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(x))
        return ("t(" if t is tuple else "l[") + inner + (")" if t is tuple else "]")
    if t is dict:
        bad = [k for k in x if type(k) is not str]
        if bad:
            raise TypeError(f"cannot build a cache key: {where} has a non-string key {bad[0]!r}")
        return "d{" + ",".join(
            json.dumps(k) + ":" + _enc(x[k], f"{where}[{k!r}]", depth + 1) for k in sorted(x)
        ) + "}"
    if t is set or t is frozenset:
        return "S{" + ",".join(sorted(_enc(v, f"{where} element", depth + 1) for v in x)) + "}"
    if t is np.ndarray:
        if x.dtype.hasobject:
            raise TypeError(f"cannot build a cache key: {where} is an array of Python objects (dtype {x.dtype})")
        data = np.ascontiguousarray(x)
        digest = hashlib.sha256(memoryview(data).cast("B") if data.size else b"").hexdigest()
        return f"a({_dtype(x.dtype)};{x.shape};{digest})"
    if isinstance(x, np.ndarray):
        raise TypeError(
            f"cannot build a cache key: {where} is a {t.__module__}.{t.__qualname__} (an ndarray subclass, "
            "e.g. a masked array, whose extra state would be lost); pass a plain numpy array"
        )
    if isinstance(x, np.generic):
        if x.dtype.hasobject:
            raise TypeError(f"cannot build a cache key: {where} is a numpy object scalar")
        return f"g({_dtype(x.dtype)};{np.asarray(x).tobytes().hex()})"
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        fields = ",".join(
            f"{f.name}=" + _enc(getattr(x, f.name), f"{where}.{f.name}", depth + 1) for f in dataclasses.fields(x)
        )
        return f"D({t.__module__}:{t.__qualname__}){{{fields}}}"
    if isinstance(x, enum.Enum):
        return f"E({t.__module__}:{t.__qualname__}.{x.name})"
    if isinstance(x, PurePath):
        return f"p({type(x).__name__}){json.dumps(str(x))}"
    raise TypeError(
        f"cannot build a cache key: {where} is a {t.__module__}.{t.__qualname__}, which has no lossless "
        "encoding (use numbers, strings, tuples, lists, dicts with string keys, numpy arrays and scalars, "
        "dataclasses of those), or call the function's .uncached(...) to compute without the cache"
    )


def _dtype(dt: np.dtype) -> str:
    return dt.str if dt.fields is None and dt.subdtype is None else json.dumps(str(dt.descr))


@functools.lru_cache(maxsize=1)
def cpu_paths() -> str:
    """The CPU code paths this process computes with: numpy's enabled SIMD features (its
    dispatch follows the CPU and ``NPY_DISABLE_CPU_FEATURES``) and the core type of each
    loaded BLAS (OpenBLAS picks kernels by CPU, or by ``OPENBLAS_CORETYPE``). Two machines
    whose rounding can differ never share a cache entry. Fixed for the life of a process."""
    try:
        feats = np._core._multiarray_umath.__cpu_features__  # type: ignore[attr-defined]
        simd = ",".join(sorted(k for k, on in feats.items() if on))
    except AttributeError:  # pragma: no cover - numpy without the (private) table
        simd = "unknown"
    try:
        import scipy.linalg  # noqa: F401 - load scipy's BLAS too, so every process lists the same ones
        import threadpoolctl

        blas = ",".join(sorted({f"{i.get('internal_api')}:{i.get('architecture')}"
                                for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"}))
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        blas = "unknown"
    return f"simd={simd}|blas={blas}"


def switches() -> dict[str, str]:
    """The settings that change numbers: the kernel switch, the thread counts (env values),
    the CPU code paths (:func:`cpu_paths`)."""
    kern = sys.modules.get("dsmlib._kernels")
    out = {"kernels": str(bool(getattr(kern, "ENABLED", False))), "cpu": cpu_paths()}
    for name in NUMERIC_ENV:
        out[name] = os.environ.get(name, "")
    return out


def _versions() -> str:
    import scipy

    numba = sys.modules.get("numba")
    nb = getattr(numba, "__version__", "none")
    return (
        f"python={platform.python_version()}|numpy={np.__version__}|scipy={scipy.__version__}|numba={nb}"
        f"|machine={platform.machine()}"
    )


def file_digests(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[str, str]]:
    """``[(path, sha256 of its current content or "absent"), ...]`` for input files.

    Read in full on every call (never from a memo). A path that exists but is not a regular
    file (a device, a FIFO, a folder, also behind a symlink) raises ``ValueError``.
    """
    out = []
    for p in paths:
        path = os.fspath(p)
        try:
            out.append((path, file_sha256(path, "cache input file")))
        except FileNotFoundError:
            out.append((path, "absent"))
    return out


def _bound(func: Callable[..., Any], args: tuple, kwargs: dict) -> list[tuple[str, Any]] | None:
    """The call's arguments bound to ``func``'s signature, defaults applied, in signature
    order: ``f(m, c)``, ``f(m, config=c)`` and (if ``c`` is the default) ``f(m)`` bind alike.
    None if the signature is unknown or the call does not fit it (the call then raises its
    own error)."""
    try:
        b = inspect.signature(func).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    b.apply_defaults()
    return list(b.arguments.items())


def entry_key(
    func: Callable[..., Any],
    args: tuple,
    kwargs: dict,
    *,
    files: list[tuple[str, str]] | None = None,
    extra: Any = None,
    source: str = "",
    fmt: int = 0,
) -> tuple[str, str]:
    """``(key, key_source)`` of a call.

    ``key_source`` is the full, canonical description (function, arguments, versions,
    switches, source hash, input files, ``extra``); ``key`` is its sha256 (48 hex digits).
    Raises ``TypeError`` for arguments without a lossless encoding (:func:`canonical`).
    """
    bound = _bound(func, args, kwargs)
    if bound is not None:
        call = "call=(" + ",".join(f"{name}={canonical(v, name)}" for name, v in bound) + ")"
    else:
        call = ("args=t(" + ",".join(canonical(a, f"args[{i}]") for i, a in enumerate(args)) + ")|kwargs="
                + canonical(dict(kwargs), "the keyword arguments"))
    parts = [
        f"{func.__module__}.{func.__qualname__}",
        call,
        _versions(),
        "switches=" + canonical(switches()),
        f"source={source}",
        f"format={fmt}",
    ]
    if files is not None:
        parts.append("files=" + canonical([list(f) for f in files]))
    if extra is not None:
        parts.append("extra=" + canonical(extra, "the extra key"))
    key_src = "|".join(parts)
    return hashlib.sha256(key_src.encode()).hexdigest()[:48], key_src
