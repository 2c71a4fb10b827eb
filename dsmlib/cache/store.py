"""Storage of :mod:`dsmlib.cache`: the folder, the ``.npz`` + JSON format, read-only results.

The folder rules and the format are described in :mod:`dsmlib.cache`. Results handed out
by the cache are *frozen*: :func:`freeze` copies every array into one that is not writeable
and :func:`thaw` hands out, per call, new containers (dataclasses, tuples, lists, dicts)
around read-only *views* of those arrays (a view of a read-only array cannot be made
writeable again), so no two callers ever share a mutable object.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import os
import stat
import sys
import time
import types
import typing
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["CacheWarning", "cache_dir", "decode", "encode", "freeze", "thaw"]

#: the dsmlib package folder
_PKG = Path(__file__).resolve().parents[1]
#: version of the entry format
_FORMAT = 2
#: a temporary file of an interrupted write is removed after this many seconds (or at once
#: if the process that wrote it is gone)
TMP_MAX_AGE = 15 * 60


class CacheWarning(UserWarning):
    """The result cache could not be used (unsafe or read-only folder); results are computed."""


# --------------------------------------------------------------------------- the folder


def _user_cache_root() -> Path:
    if importlib.util.find_spec("platformdirs") is not None:
        import platformdirs

        return Path(platformdirs.user_cache_dir("dsmlib", appauthor=False))
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "dsmlib"


def _unsafe(path: Path) -> str | None:
    """Why ``path`` must not be used as a cache folder (None if it is safe).

    A symlink is judged by its target (and the target is named in the reason).
    """
    try:
        st = path.stat()
    except OSError as exc:
        return f"cannot stat it ({exc.strerror})"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"it is owned by uid {st.st_uid}, not by you (uid {os.getuid()})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        via = f" (a symlink to {path.resolve()})" if path.is_symlink() else ""
        return f"it is writable by group or others{via} (mode {stat.S_IMODE(st.st_mode):o})"
    return None


_WARNED: set[str] = set()


def _warn(msg: str) -> None:
    if msg not in _WARNED:
        _WARNED.add(msg)
        warnings.warn(msg, CacheWarning, stacklevel=3)


def _candidates() -> list[Path]:
    env = os.environ.get("DSMLIB_CACHE_DIR")
    if env:
        return [Path(env)]
    checkout = _PKG.parent
    if (checkout / "pyproject.toml").is_file():  # an editable install in a checkout
        return [checkout / ".cache" / "dsmlib", _user_cache_root()]
    return [_user_cache_root()]


def cache_dir() -> Path | None:
    """The cache folder (created on demand with mode 0755/0700), or None if none is usable.

    Never a shared temporary folder: see :mod:`dsmlib.cache`. Every refused folder gives a
    :class:`CacheWarning` (once per folder and process), also when a later candidate is
    used instead. Orphaned temporary files of interrupted writes are removed from the folder
    used (:func:`clean_orphans`, once per process and folder).
    """
    reasons = []
    for i, path in enumerate(_candidates()):
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o755 if i == 0 else 0o700)
        except OSError as exc:
            reasons.append(f"{path}: cannot create it ({exc.strerror})")
            continue
        why = _unsafe(path)
        if why:
            reasons.append(f"{path}: {why}")
            _warn(f"dsmlib cache: folder {path} refused, {why}")
            continue
        if path not in _CLEANED:
            _CLEANED.add(path)
            clean_orphans(path)
        return path
    _warn("dsmlib cache not used, results are computed without caching: " + "; ".join(reasons))
    return None


_CLEANED: set[Path] = set()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_orphans(folder: Path, max_age: float = TMP_MAX_AGE) -> list[Path]:
    """Remove temporary files ``.<entry>.npz.tmp<PID>`` left by interrupted writes.

    A file is removed if the process ``PID`` no longer exists or the file is older than
    ``max_age`` seconds; returns the removed paths.
    """
    removed = []
    now = time.time()
    try:
        candidates = list(folder.glob(".*.npz.tmp*"))
    except OSError:
        return removed
    for p in candidates:
        suffix = p.name.rpartition(".tmp")[2]
        try:
            st = p.lstat()
            if not stat.S_ISREG(st.st_mode):
                continue
            stale = now - st.st_mtime > max_age
            if not stale and suffix.isdigit():
                stale = not _pid_alive(int(suffix))
            if stale:
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed


# --------------------------------------------------------------------------- the format


class _Refused(ValueError):
    """An entry (or a result) that the safe format cannot represent."""


def _resolve_dataclass(qualname: str) -> type:
    """The allow-listed dataclass ``module:Qual.Name`` (dsmlib only, already imported)."""
    modname, _, qual = qualname.partition(":")
    if not (modname == "dsmlib" or modname.startswith("dsmlib.")):
        raise _Refused(f"class {qualname!r} is not a dsmlib class")
    mod = sys.modules.get(modname)
    if mod is None:
        raise _Refused(f"module {modname!r} is not imported")
    obj: Any = mod
    for part in qual.split("."):
        if part.startswith("__") or not part.isidentifier():
            raise _Refused(f"bad class name {qualname!r}")
        obj = vars(obj).get(part) if isinstance(obj, (types.ModuleType, type)) else None
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == modname):
        raise _Refused(f"{qualname!r} is not a dsmlib dataclass")
    return obj


def encode(obj: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """``(json_tree, arrays)`` for a result; raises ValueError for anything not allowed."""
    arrays: dict[str, np.ndarray] = {}

    def put(a: np.ndarray) -> str:
        if a.dtype.hasobject:
            raise _Refused("object arrays are not cacheable")
        name = f"a{len(arrays)}"
        arrays[name] = a
        return name

    def enc(x: Any) -> Any:
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int) and type(x) is int:
            return x
        if type(x) is float:
            return {"float": repr(x)}
        if isinstance(x, np.ndarray):
            return {"array": put(x)}
        if isinstance(x, np.generic):
            return {"scalar": put(np.asarray(x))}
        if isinstance(x, tuple) and type(x) is tuple:
            return {"tuple": [enc(v) for v in x]}
        if type(x) is list:
            return {"list": [enc(v) for v in x]}
        if type(x) is dict:
            if not all(type(k) is str for k in x):
                raise _Refused("dict keys must be strings")
            return {"dict": {k: enc(v) for k, v in x.items()}}
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            cls = type(x)
            name = f"{cls.__module__}:{cls.__qualname__}"
            if _resolve_dataclass(name) is not cls:
                raise _Refused(f"{name} is not allow-listed")
            return {
                "dataclass": name,
                "fields": {f.name: enc(getattr(x, f.name)) for f in dataclasses.fields(x)},
            }
        raise _Refused(f"cannot cache a {type(x).__qualname__}")

    return enc(obj), arrays


def decode(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Inverse of :func:`encode`; raises ValueError for anything not allowed."""

    def get(name: Any) -> np.ndarray:
        if not isinstance(name, str) or name not in arrays:
            raise _Refused(f"missing array {name!r}")
        return arrays[name]

    def dec(x: Any) -> Any:
        if x is None or isinstance(x, (bool, str, int)) and not isinstance(x, float):
            return x
        if not isinstance(x, dict) or len(x) not in (1, 2):
            raise _Refused("malformed entry")
        (tag, val), *rest = x.items()
        if tag == "float" and isinstance(val, str):
            return float(val)
        if tag == "array":
            return get(val)
        if tag == "scalar":
            a = get(val)
            if a.ndim != 0:
                raise _Refused("malformed scalar")
            return a[()]
        if tag == "tuple" and isinstance(val, list):
            return tuple(dec(v) for v in val)
        if tag == "list" and isinstance(val, list):
            return [dec(v) for v in val]
        if tag == "dict" and isinstance(val, dict):
            return {str(k): dec(v) for k, v in val.items()}
        if tag == "dataclass" and isinstance(val, str) and rest and rest[0][0] == "fields":
            cls = _resolve_dataclass(val)
            fields = rest[0][1]
            if not isinstance(fields, dict):
                raise _Refused("malformed dataclass")
            names = {f.name: f for f in dataclasses.fields(cls)}
            if set(fields) != set(names):
                raise _Refused(f"fields of {val} do not match")
            values = {k: dec(v) for k, v in fields.items()}
            init = {k: v for k, v in values.items() if names[k].init}
            out = cls(**init)
            for k, v in values.items():
                if not names[k].init:
                    object.__setattr__(out, k, v)
            return out
        raise _Refused(f"unknown tag {tag!r}")

    return dec(tree)


def freeze(result: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """``(tree, arrays)`` of ``result`` with every array copied and made read-only.

    Raises ValueError (``_Refused``) for a result that :func:`encode` cannot represent.
    """
    tree, arrays = encode(result)
    frozen = {}
    for k, a in arrays.items():
        c = np.array(a, copy=True, order="K", subok=False)
        c.flags.writeable = False
        frozen[k] = c
    return tree, frozen


def thaw(frozen: tuple[Any, dict[str, np.ndarray]]) -> Any:
    """A new result object from :func:`freeze`'s output: new containers, read-only array views."""
    tree, arrays = frozen
    views = {}
    for k, a in arrays.items():
        v = a.view()
        v.flags.writeable = False
        views[k] = v
    return decode(tree, views)


def write_entry(path: Path, frozen: tuple[Any, dict[str, np.ndarray]], key_src: str) -> None:
    """Store :func:`freeze`'s output atomically (temporary file, then ``os.replace``)."""
    tree, arrays = frozen
    meta = json.dumps({"format": _FORMAT, "key": key_src, "result": tree}, allow_nan=False)
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.array(meta), **arrays)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with tmp.open("wb") as fh:
            fh.write(buf.getvalue())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_entry(path: Path, key_src: str) -> tuple[Any, dict[str, np.ndarray]]:
    """The ``(tree, read-only arrays)`` stored at ``path`` under ``key_src``; ValueError if refused."""
    from .._validate import read_regular_file

    z = np.load(io.BytesIO(read_regular_file(path, "cache entry")), allow_pickle=False)  # refuses pickles
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise _Refused("entry is not an .npz archive")
    with z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")[()]))
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or meta.get("key") != key_src:
        raise _Refused("entry was stored under another key")
    for a in arrays.values():
        a.flags.writeable = False
    tree = meta.get("result")
    decode(tree, arrays)  # validate now: a malformed entry is refused before it is memoised
    return tree, arrays


def _return_type(func: Callable[..., Any]) -> type | None:
    try:
        hint = typing.get_type_hints(func).get("return")
    except Exception:
        return None
    return hint if isinstance(hint, type) else None
