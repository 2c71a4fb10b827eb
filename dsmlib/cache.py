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

*No stale or foreign results.* The key is the function's qualified name, its arguments,
the Python, numpy and scipy versions, and a SHA-256 of every ``.py`` file of :mod:`dsmlib`
on disk, and of any dsmlib module loaded from elsewhere (re-hashed whenever a file's size
or modification time changes). An entry is read
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

*No shared folders.* The folder is ``$DSMLIB_CACHE_DIR`` if set, else ``.cache/dsmlib`` in
the checkout, else the user's cache folder (``platformdirs.user_cache_dir("dsmlib")`` when
platformdirs is installed, otherwise ``$XDG_CACHE_HOME/dsmlib`` or ``~/.cache/dsmlib``);
never a shared temporary folder. A folder owned by another user, or writable by group or
others, is refused: the result is computed without caching, with a
:class:`CacheWarning`. A read-only folder also degrades to computing without caching.

Set ``DSMLIB_NO_CACHE=1`` to bypass the cache.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import inspect
import io
import json
import os
import platform
import stat
import sys
import types
import typing
import warnings
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np

__all__ = [
    "CacheWarning",
    "cache_dir",
    "code_status",
    "decode",
    "disk_cached",
    "encode",
    "entry_key",
    "source_hash",
]

F = TypeVar("F", bound=Callable[..., Any])
_PKG = Path(__file__).resolve().parent
_FORMAT = 1


class CacheWarning(UserWarning):
    """The result cache could not be used (unsafe or read-only folder); results are computed."""


# --------------------------------------------------------------------------- the key


_HASH_MEMO: dict[tuple, str] = {}


def _source_files() -> list[Path]:
    """Every ``.py`` file of the package, plus the file of any loaded dsmlib module elsewhere."""
    files = set(_PKG.rglob("*.py"))
    for name in [n for n in list(sys.modules) if n == "dsmlib" or n.startswith("dsmlib.")]:
        f = getattr(sys.modules.get(name), "__file__", None)
        if f:
            files.add(Path(f).resolve())
    return sorted(files)


def source_hash() -> str:
    """SHA-256 over the source of every ``.py`` file of :mod:`dsmlib` on disk.

    Re-computed whenever a file is added or removed or changes size or modification time
    (a stat of each file per call; the hashing itself is memoised on that signature).
    """
    files = _source_files()
    sig = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        sig.append((str(path), st.st_size, st.st_mtime_ns))
    sig_t = tuple(sig)
    hit = _HASH_MEMO.get(sig_t)
    if hit is not None:
        return hit
    h = hashlib.sha256()
    for path in [Path(p) for p, _, _ in sig]:
        rel = path.relative_to(_PKG) if path.is_relative_to(_PKG) else path
        h.update(rel.as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    _HASH_MEMO.clear()
    _HASH_MEMO[sig_t] = h.hexdigest()[:16]
    return _HASH_MEMO[sig_t]


def _versions() -> str:
    import scipy

    return f"python={platform.python_version()}|numpy={np.__version__}|scipy={scipy.__version__}"


def entry_key(func: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[str, str]:
    """``(key, key_source)`` of a call: qualified name, arguments, versions, source hash."""
    key_src = (
        f"{func.__module__}.{func.__qualname__}|{args!r}|{sorted(kwargs.items())!r}"
        f"|{_versions()}|{source_hash()}|format={_FORMAT}"
    )
    return hashlib.sha256(key_src.encode()).hexdigest()[:24], key_src


# --------------------------------------------------------------------------- unmodified code?


def _iter_code(code: types.CodeType):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _iter_code(c)


_COMPILED: dict[tuple[str, str], dict[str, types.CodeType]] = {}


def _disk_code(path: str) -> dict[str, types.CodeType] | None:
    """Code objects (by qualified name) of a fresh compile of ``path``; None if unreadable."""
    digest = _file_digest(path)
    hit = _COMPILED.get((path, digest))
    if hit is None:
        try:
            top = compile(Path(path).read_bytes(), path, "exec", dont_inherit=True)
        except (OSError, SyntaxError, ValueError):
            return None
        hit = {}
        for c in _iter_code(top):
            hit.setdefault(c.co_qualname if hasattr(c, "co_qualname") else c.co_name, c)
        _COMPILED[(path, digest)] = hit
    return hit


def _functions_of(obj: Any) -> list[Any]:
    """The plain functions behind a module attribute or class attribute."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        return [f for f in (obj.fget, obj.fset, obj.fdel) if f is not None]
    try:
        obj = inspect.unwrap(obj)
    except ValueError:
        pass
    return [obj]


_SIMPLE = (int, float, complex, str, bytes, bool, type(None), tuple, frozenset)
_CONST_BASELINE: dict[tuple[str, str], dict[str, Any]] = {}
_IMPORT_BASELINE: dict[tuple[str, str], dict[str, int]] = {}
_ALLOWED_ROOTS = {"numpy", "scipy", "dsmlib", "matplotlib", "IPython", "ipywidgets", "typing_extensions"}


def _foreign(obj: Any) -> bool:
    """A callable that comes from neither dsmlib, numpy/scipy/matplotlib nor the standard library."""
    mod = getattr(obj, "__module__", None)
    if not isinstance(mod, str):
        return False
    root = mod.split(".")[0]
    return not (root in _ALLOWED_ROOTS or root in sys.stdlib_module_names)


def _check_dsmlib_module(name: str, mod: types.ModuleType) -> str | None:
    path = getattr(mod, "__file__", None)
    if not path:
        return None
    compiled = _disk_code(path)
    if compiled is None:
        return f"{name}: source file missing or not compilable"
    digest = _file_digest(path)
    imported: dict[str, int] = {}
    own: list[int] = []
    for attr, value in list(vars(mod).items()):
        if attr.startswith("__"):
            continue
        if attr in compiled and not isinstance(value, type):  # a top-level def on disk
            for f in _functions_of(value):
                code = getattr(f, "__code__", None)
                if code is None or code != compiled[attr]:
                    return f"{name}.{attr} differs from the source on disk"
                own.append(id(f))
            continue
        if isinstance(value, type) and getattr(value, "__module__", None) == name:
            for cattr, cval in list(vars(value).items()):
                qual = f"{value.__qualname__}.{cattr}"
                for f in _functions_of(cval):
                    code = getattr(f, "__code__", None)
                    if qual in compiled:
                        if code is None or code != compiled[qual]:
                            return f"{name}.{qual} differs from the source on disk"
                    elif code is not None and _foreign(f):
                        return f"{name}.{qual} was replaced"
            continue
        if isinstance(value, types.ModuleType):
            if sys.modules.get(value.__name__) is not value:
                return f"{name}.{attr} is not the imported module {value.__name__}"
            if value.__name__ != f"{name}.{attr}":  # a submodule may be re-imported
                imported[attr] = id(value)
            continue
        if type(value) in _SIMPLE:
            continue
        if not callable(value):
            imported[attr] = id(value)
            continue
        if _foreign(value):
            return f"{name}.{attr} was replaced by {getattr(value, '__module__', '?')} code"
        home_name = getattr(value, "__module__", None)
        if isinstance(home_name, str) and home_name.split(".")[0] == "dsmlib":
            home = sys.modules.get(home_name)
            qn = getattr(value, "__qualname__", None)
            if home is not None and isinstance(qn, str) and qn.isidentifier():
                if getattr(home, qn, value) is not value:
                    return f"{name}.{attr} is no longer {home_name}.{qn}"
        else:  # imported from numpy, scipy, the standard library: must stay the same object
            imported[attr] = id(value)
    # other module-level objects keep their identity, and simple constants their value, from
    # the first check of this module's execution (a reload starts a new one: new functions)
    generation = (name, digest, hash(tuple(own)))
    base_ids = _IMPORT_BASELINE.setdefault(generation, imported)
    for a, i in base_ids.items():
        if imported.get(a, i) != i:
            return f"{name}.{a} was rebound"
    consts = {a: v for a, v in vars(mod).items() if not a.startswith("__") and type(v) in _SIMPLE}
    base = _CONST_BASELINE.setdefault(generation, consts)
    for a, v in base.items():
        if a not in consts or not _same(consts[a], v):
            return f"{name}.{a} was changed"
    return None


_DIGESTS: dict[tuple[str, int, int], str] = {}


def _file_digest(path: str) -> str:
    """SHA-256 of a file, memoised on its size and modification time ("" if unreadable)."""
    try:
        st = os.stat(path)
        sig = (path, st.st_size, st.st_mtime_ns)
        if sig not in _DIGESTS:
            _DIGESTS[sig] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return _DIGESTS[sig]
    except OSError:
        return ""


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b or (a != a and b != b))
    except Exception:
        return False


# numpy/scipy modules whose public callables dsmlib may use
_WATCHED = (
    "numpy",
    "numpy.linalg",
    "numpy.random",
    "numpy.fft",
    "scipy.special",
    "scipy.stats",
    "scipy.linalg",
    "scipy.optimize",
    "scipy.integrate",
    "scipy.spatial",
    "scipy.sparse",
    "scipy.sparse.linalg",
)


def _names_used() -> set[str]:
    """Every name (global or attribute) that the loaded dsmlib code refers to."""
    names: set[str] = set()
    for (path, _), compiled in list(_COMPILED.items()):
        for code in compiled.values():
            names.update(code.co_names)
    return names


def _external_items():
    """``((where, name), object)`` for the numpy/scipy callables that dsmlib's code names.

    For a ``scipy.stats`` distribution that it names (``stats.chi``...), also the callables
    in the instance's ``__dict__`` and in its classes' ``__dict__`` (``chi.sf`` or
    ``chi_gen._sf`` patched).
    """
    used = _names_used()
    seen_cls: set[type] = set()
    for mname in _WATCHED:
        mod = sys.modules.get(mname)
        if mod is None:
            continue
        md = vars(mod)
        for attr in used & md.keys():
            value = md[attr]
            if isinstance(value, types.ModuleType) or not callable(value):
                continue
            yield (mname, attr), value
            if mname == "scipy.stats" and hasattr(value, "_updated_ctor_param"):  # a distribution
                for k, v in list(vars(value).items()):
                    if callable(v):
                        yield (f"scipy.stats.{attr}", k), v
                for cls in type(value).__mro__:
                    if cls in seen_cls or cls is object:
                        continue
                    seen_cls.add(cls)
                    for k, v in list(vars(cls).items()):
                        if callable(v):
                            yield (f"{cls.__module__}.{cls.__qualname__}", k), v


# identity of each watched object when first seen (objects kept alive: ids stay unique)
_EXT_BASELINE: dict[tuple[str, str], Any] = {}


def _external_status() -> str | None:
    for key, value in _external_items():
        base = _EXT_BASELINE.setdefault(key, value)
        if base is not value:
            return f"{key[0]}.{key[1]} was replaced"
        if isinstance(value, (types.FunctionType, types.MethodType)) and _foreign(value):
            return f"{key[0]}.{key[1]} was replaced by {value.__module__} code"
    return None


# per module: the objects of its namespace (and of its classes') when last found clean
_CLEAN: dict[str, tuple[str, list[Any]]] = {}


def _namespace_objects(name: str, mod: types.ModuleType) -> list[Any]:
    objs: list[Any] = []
    for attr, value in list(vars(mod).items()):
        objs.append(attr)
        objs.append(value)
        if isinstance(value, type) and getattr(value, "__module__", None) == name:
            for cattr, cval in list(vars(value).items()):
                objs.append(cattr)
                objs.append(cval)
    return objs


def code_status() -> str | None:
    """None if the running dsmlib and the numpy/scipy it uses are unmodified, else the reason.

    See the module docstring for the rule. A module whose file and namespace (every
    object, by identity) are those of its last clean check is not checked again.
    """
    names = sorted(n for n in list(sys.modules) if n == "dsmlib" or n.startswith("dsmlib."))
    for name in names:
        mod = sys.modules.get(name)
        if isinstance(mod, types.ModuleType):
            path = getattr(mod, "__file__", None)
            objs = _namespace_objects(name, mod)
            last = _CLEAN.get(name)
            digest = _file_digest(path) if path else ""
            if (
                last is not None
                and last[0] == digest
                and len(last[1]) == len(objs)
                and all(x is y for x, y in zip(last[1], objs))
            ):
                continue
            reason = _check_dsmlib_module(name, mod)
            if reason:
                _CLEAN.pop(name, None)
                return reason
            _CLEAN[name] = (digest, objs)
    return _external_status()


# --------------------------------------------------------------------------- the folder


def _user_cache_root() -> Path:
    if importlib.util.find_spec("platformdirs") is not None:
        import platformdirs

        return Path(platformdirs.user_cache_dir("dsmlib", appauthor=False))
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "dsmlib"


def _unsafe(path: Path) -> str | None:
    """Why ``path`` must not be used as a cache folder (None if it is safe)."""
    try:
        st = path.stat()
    except OSError as exc:
        return f"cannot stat it ({exc.strerror})"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"it is owned by uid {st.st_uid}, not by you (uid {os.getuid()})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"it is writable by group or others (mode {stat.S_IMODE(st.st_mode):o})"
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

    Never a shared temporary folder: see the module docstring. A refused folder gives a
    :class:`CacheWarning` (once per folder and process).
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
            continue
        return path
    _warn("dsmlib cache not used, results are computed without caching: " + "; ".join(reasons))
    return None


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


def _write(path: Path, result: Any, key_src: str) -> None:
    tree, arrays = encode(result)
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


def _read(path: Path, key_src: str) -> Any:
    z = np.load(path, allow_pickle=False)  # refuses pickled data
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise _Refused("entry is not an .npz archive")
    with z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")[()]))
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or meta.get("key") != key_src:
        raise _Refused("entry was stored under another key")
    return decode(meta.get("result"), arrays)


def _return_type(func: Callable[..., Any]) -> type | None:
    try:
        hint = typing.get_type_hints(func).get("return")
    except Exception:
        return None
    return hint if isinstance(hint, type) else None


# --------------------------------------------------------------------------- the decorator


def disk_cached(func: F) -> F:
    """Memoise ``func`` on disk (and in memory) by its arguments, the versions and dsmlib's source.

    Arguments must have a deterministic ``repr`` (numbers, strings, tuples, frozen
    dataclasses of those). Results must be encodable by :func:`encode` (a result that is
    not is returned uncached). See the module docstring for what is checked.
    """
    memo: dict[str, Any] = {}

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if os.environ.get("DSMLIB_NO_CACHE") or code_status() is not None:
            return func(*args, **kwargs)
        key, key_src = entry_key(func, args, kwargs)
        if key in memo:
            return memo[key]
        folder = cache_dir()
        if folder is None:
            return func(*args, **kwargs)
        path = folder / f"{func.__qualname__}-{key}.npz"
        want = _return_type(func)
        if path.is_file():
            try:
                result = _read(path, key_src)
                if want is not None and type(result) is not want:
                    raise _Refused(f"entry holds a {type(result).__qualname__}, not a {want.__qualname__}")
                memo[key] = result
                return result
            except Exception:  # noqa: BLE001 - nothing here runs foreign code; any failure: recompute
                try:  # corrupt, foreign or stale entry: recompute (and replace it)
                    path.unlink()
                except OSError:
                    pass
        result = func(*args, **kwargs)
        if want is not None and type(result) is not want:
            return result
        try:
            _write(path, result, key_src)
        except _Refused:
            return result
        except OSError as exc:
            _warn(f"dsmlib cache: cannot write to {folder} ({exc.strerror}); results are not cached")
            return result
        memo[key] = result
        return result

    wrapper.uncached = func  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]

