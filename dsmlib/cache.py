"""A small on-disk memo for experiment results, so chapters and the ledger share runs.

An experiment at the papers' sizes is run once; the chapter notebook, the claims ledger
(``python -m dsmlib.claims``) and ``chapters/claims.ipynb`` then read the same result.
The key is the function's qualified name, its arguments, and a hash of the source of
every module in :mod:`dsmlib`, so that any code change invalidates every entry.

Set ``DSMLIB_NO_CACHE=1`` to bypass it and ``DSMLIB_CACHE_DIR`` to move it (default:
``.cache/dsmlib`` at the repository root, ignored by git).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable, TypeVar

__all__ = ["cache_dir", "disk_cached", "source_hash"]

F = TypeVar("F", bound=Callable[..., Any])
_PKG = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 over the source of every ``.py`` file of the installed :mod:`dsmlib`."""
    h = hashlib.sha256()
    for path in sorted(_PKG.rglob("*.py")):
        h.update(path.relative_to(_PKG).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    """The cache folder (created on demand)."""
    env = os.environ.get("DSMLIB_CACHE_DIR")
    path = Path(env) if env else _PKG.parent / ".cache" / "dsmlib"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        path = Path(tempfile.gettempdir()) / "dsmlib-cache"
        path.mkdir(parents=True, exist_ok=True)
    return path


def disk_cached(func: F) -> F:
    """Memoise ``func`` on disk (and in memory) by its arguments and dsmlib's source hash.

    Arguments must have a deterministic ``repr`` (numbers, strings, tuples, frozen
    dataclasses of those). Results must be picklable.
    """
    memo: dict[str, Any] = {}

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if os.environ.get("DSMLIB_NO_CACHE"):
            return func(*args, **kwargs)
        key_src = f"{func.__module__}.{func.__qualname__}|{args!r}|{sorted(kwargs.items())!r}|{source_hash()}"
        key = hashlib.sha256(key_src.encode()).hexdigest()[:24]
        if key in memo:
            return memo[key]
        path = cache_dir() / f"{func.__qualname__}-{key}.pkl"
        if path.exists():
            try:
                with path.open("rb") as fh:
                    memo[key] = pickle.load(fh)
                return memo[key]
            except Exception:  # corrupt or stale entry: recompute
                path.unlink(missing_ok=True)
        result = func(*args, **kwargs)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        memo[key] = result
        return result

    wrapper.uncached = func  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
