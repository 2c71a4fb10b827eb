"""Is the running code the code on disk? The source hash and :func:`code_status` of :mod:`dsmlib.cache`.

An entry is read or written only while every loaded :mod:`dsmlib` module, and the numpy and
scipy callables it uses, are unmodified (see :mod:`dsmlib.cache` for the rule).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
import types
from pathlib import Path
from typing import Any

__all__ = ["code_status", "source_hash"]

#: the dsmlib package folder
_PKG = Path(__file__).resolve().parents[1]

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
    if root.startswith("namedtuple_"):  # the __new__ that collections.namedtuple generates
        return False
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

