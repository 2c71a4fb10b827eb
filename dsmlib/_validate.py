"""Input validation shared by every public function of :mod:`dsmlib`.

Each helper raises :class:`ValueError` with a message that names the offending
argument and the problem, so that a reader sees *which* input is wrong.
"""

from __future__ import annotations

import hashlib
import numbers
import os
import stat

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_float_array",
    "pow2_scale",
    "as_square_batch",
    "nonfinite_error",
    "check_dimension",
    "check_positive_scalar",
    "check_temperatures",
    "check_n_iter",
    "check_tol",
    "centred",
    "file_sha256",
    "read_regular_file",
]


def as_float_array(x: ArrayLike, name: str, *, min_ndim: int = 0, check_finite: bool = True) -> NDArray[np.float64]:
    """Return ``x`` as a finite float64 array with at least ``min_ndim`` axes.

    ``check_finite=False`` leaves the NaN/inf check to the caller (a compiled kernel that
    reads every entry anyway and raises :func:`nonfinite_error`).

    Raises
    ------
    ValueError
        If ``x`` is not real numeric (complex numbers, strings, even numeric strings such
        as ``"1.5"``, and datetime64/timedelta64 values are rejected rather than cast), is a
        masked array (its mask would be dropped silently), has NaN/inf entries, or too few
        axes.
    """
    if isinstance(x, np.ma.MaskedArray):
        raise ValueError(
            f"{name} is a masked array, whose mask dsmlib would drop; pass a plain array "
            f"(e.g. {name}.filled(value) or {name}.compressed())"
        )
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:  # e.g. ragged lists
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__}") from exc
    kind = raw.dtype.kind
    if kind == "c" or (kind == "O" and any(isinstance(v, complex) for v in raw.flat)):
        raise ValueError(f"{name} must be real, got complex values")
    if kind in "USV" or (kind == "O" and any(isinstance(v, (str, bytes)) for v in raw.flat)):
        raise ValueError(f"{name} must be a numeric array, got strings ({raw.dtype})")
    if kind in "Mm" or (kind == "O" and any(isinstance(v, (np.datetime64, np.timedelta64)) for v in raw.flat)):
        raise ValueError(f"{name} must be a real numeric array, got dates or time spans ({raw.dtype})")
    if kind == "O" and not all(isinstance(v, numbers.Real) for v in raw.flat):
        bad = next(v for v in raw.flat if not isinstance(v, numbers.Real))
        raise ValueError(f"{name} must be a real numeric array, got an object array holding a {type(bad).__name__}")
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:  # e.g. arbitrary objects
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__}") from exc
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}"
        )
    if check_finite and arr.size and not np.all(np.isfinite(arr)):
        raise nonfinite_error(name)
    return arr


def nonfinite_error(name: str) -> ValueError:
    """The error for an array with NaN or infinite entries."""
    return ValueError(f"{name} contains NaN or infinite entries")


def as_square_batch(x: ArrayLike, name: str, *, check_finite: bool = True) -> NDArray[np.float64]:
    """Return ``x`` as a finite float64 array of shape ``(..., n, n)`` with ``n >= 2``
    (``check_finite`` as in :func:`as_float_array`)."""
    arr = as_float_array(x, name, min_ndim=2, check_finite=check_finite)
    if arr.shape[-1] != arr.shape[-2]:
        raise ValueError(
            f"{name} must be square over its last two axes, got shape {arr.shape}"
        )
    if arr.shape[-1] < 2:
        raise ValueError(f"{name} must be at least 2 x 2, got shape {arr.shape}")
    return arr


def check_dimension(n: object, name: str = "n") -> int:
    """Validate a matrix dimension: an integer ``>= 2`` (bools are rejected)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 2, got {n!r}")
    if int(n) < 2:
        raise ValueError(f"{name} must be an integer >= 2, got {n!r}")
    return int(n)


def check_positive_scalar(x: object, name: str) -> float:
    """Validate a finite scalar ``> 0`` (temperatures, scales)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    value = float(x)
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    return value


def check_temperatures(values: object, name: str = "temperatures") -> tuple[float, ...]:
    """Validate one temperature or a sequence of them: each a finite number ``> 0``.

    For experiment configs (``__post_init__``): a temperature ``<= 0`` would turn
    :math:`e^{-d/T}` into :math:`e^{+d/|T|}` silently.

    Returns
    -------
    tuple of float
    """
    arr = np.atleast_1d(np.asarray(values, dtype=object))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-d sequence of numbers, got shape {arr.shape}")
    return tuple(check_positive_scalar(v.item() if isinstance(v, np.generic) else v, f"{name}[{i}]")
                 for i, v in enumerate(arr))


def check_n_iter(n_iter: object, name: str = "n_iter") -> int:
    """Validate an iteration cap: an integer ``>= 1``."""
    if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or int(n_iter) < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n_iter!r}")
    return int(n_iter)


def check_tol(tol: object, name: str = "tol") -> float:
    """Validate a tolerance: a finite number ``>= 0``."""
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise ValueError(f"{name} must be a finite number >= 0, got {tol!r}")
    value = float(tol)
    if not np.isfinite(value) or value < 0.0:
        raise ValueError(f"{name} must be a finite number >= 0, got {tol!r}")
    return value


#: magnitudes within [2**-SAFE_EXP, 2**SAFE_EXP] are left unscaled by :func:`pow2_scale`
SAFE_EXP = 256
#: slices whose largest magnitude exceeds this are centred after an exact power-of-two
#: scaling (:func:`centred`); below it, means of up to 2**63 terms cannot overflow
BIG = 2.0**960


def pow2_scale(x: NDArray[np.float64], axis: int | tuple[int, ...]) -> NDArray[np.float64]:
    """Power-of-two factors ``c`` (keepdims over ``axis``) such that ``x / c`` is safe to square.

    ``c = 1`` where the largest magnitude over ``axis`` lies in ``[2**-256, 2**256]`` (or is
    0), so ordinary inputs are left bit-for-bit untouched; elsewhere ``c = 2**e`` with
    ``max|x| / c`` in ``[1, 2)``. Dividing by a power of two is exact, so norms, Gram
    matrices and singular values of ``x / c`` times ``c`` neither underflow nor overflow.
    """
    m = np.max(np.abs(x), axis=axis, keepdims=True) if x.size else np.ones([1] * x.ndim)
    _, e = np.frexp(m)
    ok = (m == 0) | ((m >= 2.0**-SAFE_EXP) & (m <= 2.0**SAFE_EXP))
    return np.where(ok, 1.0, np.ldexp(1.0, np.where(ok, 0, e - 1)))


def read_regular_file(path: str | os.PathLike[str], what: str = "file") -> bytes:
    """The bytes of ``path``, which must be a regular file (after following symlinks).

    A device, FIFO, socket or folder is refused *before* anything is read from it: the file
    is opened with ``O_NONBLOCK`` (opening a FIFO never waits for a writer) and checked with
    ``fstat`` on the open descriptor (no race between the check and the read).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a regular file; the message names ``what`` and the path.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {os.fspath(path)!r} does not exist") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{what} {os.fspath(path)!r} is not a regular file (mode {stat.filemode(st.st_mode)})")
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # replaced between the stat and the open
            raise ValueError(f"{what} {os.fspath(path)!r} is not a regular file (mode {stat.filemode(st.st_mode)})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            return fh.read()
    finally:
        if fd >= 0:
            os.close(fd)


def file_sha256(path: str | os.PathLike[str], what: str = "file") -> str:
    """Hex sha256 of the current content of the regular file ``path`` (see :func:`read_regular_file`)."""
    return hashlib.sha256(read_regular_file(path, what)).hexdigest()


def centred(x: NDArray[np.float64], axis: int | tuple[int, ...], name: str) -> NDArray[np.float64]:
    """``x - x.mean(axis, keepdims=True)`` without intermediate overflow.

    Slices whose largest magnitude exceeds :data:`BIG` (about 1e289) are divided by an exact
    power of two first and multiplied back afterwards; all other slices are computed
    exactly as ``x - x.mean(...)`` (bit for bit). A result that does not fit in float64
    raises ``ValueError`` naming ``name``, instead of silently becoming infinite.
    """
    if not x.size:
        return x - x.mean(axis=axis, keepdims=True)
    hi, lo = x.max(), x.min()
    if max(hi, -lo) <= BIG:
        return x - x.mean(axis=axis, keepdims=True)
    m = np.max(np.abs(x), axis=axis, keepdims=True)
    _, e = np.frexp(m)
    big = m > BIG
    c = np.where(big, np.ldexp(1.0, np.where(big, e - 1, 0)), 1.0)
    xs = x / c
    with np.errstate(over="ignore", invalid="ignore"):
        out = (xs - xs.mean(axis=axis, keepdims=True)) * c
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name}: the centred values exceed the float64 range (largest |entry| {float(m.max()):.3g})")
    return out


def check_config_temperatures(config: object) -> None:
    """Validate every field of a dataclass config whose name contains ``temperature``
    (one value or a sequence): each a finite number ``> 0`` (see :func:`check_temperatures`).
    Called from the experiment configs' ``__post_init__``."""
    import dataclasses

    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        if "temperature" in f.name:
            check_temperatures(getattr(config, f.name), f"{type(config).__name__}.{f.name}")


class TemperatureChecked:
    """Base of the experiment configs (frozen dataclasses) that hold temperatures: their
    ``__post_init__`` validates every ``*temperature*`` field with :func:`check_config_temperatures`.

    It adds no field, so a config's fields, their order, its ``repr`` and its cache key stay those
    of the dataclass itself.
    """

    __slots__ = ()

    def __post_init__(self) -> None:
        check_config_temperatures(self)
