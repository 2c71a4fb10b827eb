"""The Python wrappers of the kernels: chunks on threads, first-call timing (see :mod:`dsmlib._kernels`)."""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from .._validate import nonfinite_error
from ._compile import AVAILABLE
from .eigen import _gram_top2_range
from .sinkhorn import ABSORB, _iterate, _shift

_COMPILE_SECONDS: dict[str, float] = {}

def _chunks(total: int, size: int) -> list[tuple[int, int]]:
    """[lo, hi) chunks of ``max(size, 1)`` items covering [0, total)."""
    size = max(1, size)  # a single matrix larger than a chunk (n > 362) is a chunk of its own
    return [(lo, min(lo + size, total)) for lo in range(0, total, size)]


def _run_chunks(name: str, task, total: int, size: int) -> None:
    """``task((lo, hi))`` over chunks of [0, total) on threads.

    The first call of a kernel in the process runs ``task((0, 1))`` alone first: it
    compiles the kernel (or loads it from the disk cache), and its time is recorded.
    """
    from .._parallel import thread_map

    chunks = _chunks(total, size)
    if name not in _COMPILE_SECONDS and chunks:
        t0 = time.perf_counter()
        task((0, 1))
        _COMPILE_SECONDS[name] = time.perf_counter() - t0
        chunks = [(max(lo, 1), hi) for lo, hi in chunks if hi > 1]
    thread_map(task, chunks)


#: float64 entries per chunk handed to one thread (1 MiB: a chunk stays in L2)
_CHUNK_ENTRIES = 1 << 17


def sinkhorn_scaled(
    S: NDArray[np.float64],
    div: float,
    n_iter: int,
    tol: float,
    log_range: float,
    *,
    span_bound: float = np.inf,
    force_log: bool = False,
    name: str = "scores",
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
    r"""Sinkhorn of :math:`\exp(S / \text{div})` per matrix, with the fused kernel.

    Per chunk of matrices (on threads): ``S / div - max`` and the span in one compiled
    pass, ``K = exp(.)`` by numpy's vectorised ``exp`` in the output buffer (the same
    ``K``, bit for bit, as the numpy implementation), then the compiled kernel scales
    each matrix in place.

    Parameters
    ----------
    S : ndarray, shape (B, n, n)
        Scores, float64 (not modified); a ValueError names ``name`` if any is NaN or
        infinite.
    div : float
        Non-zero divisor applied entrywise as ``S / div``: ``1.0`` for the scores
        themselves, ``-T`` for costs ``d`` at temperature ``T`` (``d / -T == -d / T``
        exactly), so that no scaled copy of the costs is made.
    n_iter, tol
        Iteration cap and tolerance, as in :func:`dsmlib.sinkhorn`.
    log_range : float
        Matrices whose score span ``max - min`` exceeds this use log-stabilised scaling.
    span_bound : float, default inf
        A known upper bound on every span (``1 / T`` for costs in ``[0, 1)``): when it is
        below ``log_range`` the span is not computed.
    force_log : bool
        Scale every matrix in the log domain.
    name : str
        The argument's name in the error for NaN or infinite scores.

    Returns
    -------
    out : ndarray, shape (B, n, n)
    its : ndarray of int, shape (B,)
    errs : ndarray, shape (B,)
        Maximal marginal (row) error; NaN if not finite.
    log_domain : ndarray of bool, shape (B,)
    col_err : ndarray, shape (B,)
        Column error ``max_j |sum_i M_ij - 1|`` of the result (numpy's summation order);
        NaN if the result is not finite (even in the log domain).
    """
    S = np.ascontiguousarray(S, dtype=np.float64)
    B, n = S.shape[0], S.shape[-1]
    out = np.empty_like(S)
    its = np.zeros(B, dtype=np.int64)
    errs = np.zeros(B)
    logd = np.zeros(B, dtype=np.bool_)
    colerr = np.zeros(B)
    div = float(div)
    need_span = not (span_bound < log_range * (1.0 - 1e-9))

    def task(c: tuple[int, int]) -> None:
        lo, hi = c
        o, s = out[lo:hi], S[lo:hi]
        mx = np.empty(hi - lo)
        mn = np.empty(hi - lo)
        fin = np.empty(hi - lo, dtype=np.bool_)
        _shift(s, div, o, mx, mn, fin)  # o = S / div - max, in one pass
        if not fin.all():
            raise nonfinite_error(name)
        if force_log:
            use_log = np.ones(hi - lo, dtype=np.bool_)
        elif need_span:
            with np.errstate(invalid="ignore"):  # inf - inf: S / div overflowed (reported by the caller)
                use_log = (mx - mn) > log_range
        else:
            use_log = np.zeros(hi - lo, dtype=np.bool_)
        np.exp(o, out=o)
        _iterate(o, s, div, use_log, n_iter, tol, ABSORB, its[lo:hi], errs[lo:hi], logd[lo:hi], colerr[lo:hi])

    _run_chunks("sinkhorn", task, B, _CHUNK_ENTRIES // (n * n))
    return out, its, errs, logd, colerr


def gram_top2(
    M: NDArray[np.float64], name: str = "M"
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    r"""The two largest eigenvalues :math:`\lambda_1 \ge \lambda_2` of :math:`(M/c)(M/c)^\top` per matrix.

    Parameters
    ----------
    M : ndarray, shape (B, n, m)
        Float64, ``n >= 2`` (square for sigma_2; any ``m >= 1`` for the Gram matrix's top
        eigenvalues); a ValueError names ``name`` if any entry is NaN or infinite
        (checked while the Gram products are formed, not in a separate pass).
    name : str
        The argument's name in that error.

    Returns
    -------
    l1, l2 : ndarray, shape (B,)
        Absolute error of order :math:`n\epsilon\,\lambda_1` (register-blocked Gram product,
        fused Householder tridiagonalisation, Laguerre's method with Sturm-count
        certificates), as with LAPACK's ``syevd`` on the Gram matrix.
    c : ndarray, shape (B,)
        The exact power-of-two scale of each matrix (1 unless its largest entry lies
        outside :math:`[2^{-256}, 2^{256}]`, as :func:`dsmlib._validate.pow2_scale`).
    """
    M = np.ascontiguousarray(M, dtype=np.float64)
    B, n, m = M.shape
    l1 = np.empty(B)
    l2 = np.empty(B)
    c = np.empty(B)
    finite = np.ones(B, dtype=np.bool_)

    def task(ch: tuple[int, int]) -> None:
        lo, hi = ch
        _gram_top2_range(M[lo:hi], l1[lo:hi], l2[lo:hi], c[lo:hi], finite[lo:hi])

    _run_chunks("sigma2", task, B, _CHUNK_ENTRIES // (n * m))
    if not finite.all():
        raise nonfinite_error(name)
    return l1, l2, c


def sigma2(M: NDArray[np.float64], name: str = "M") -> NDArray[np.float64]:
    r"""Second singular value of each matrix, by :func:`gram_top2` (the kernel of :func:`dsmlib.sigma2`).

    :math:`\sigma_2 = c\sqrt{\lambda_2}`; where :math:`\lambda_2 < 10^{-6}\lambda_1`
    (:math:`\sigma_2 < 10^{-3}\sigma_1`, where the Gram route loses relative accuracy) it
    is recomputed by LAPACK's SVD of :math:`M/c`, exactly as the numpy implementation does.

    Parameters
    ----------
    M : ndarray, shape (..., n, n)
        Float64, square, ``n >= 2`` (NaN or inf raise a ValueError naming ``name``).
    name : str
        The argument's name in that error.

    Returns
    -------
    ndarray, shape (...)
    """
    lead, n = M.shape[:-2], M.shape[-1]
    flat = M.reshape(-1, n, n)
    l1, l2, c = gram_top2(flat, name)
    s2 = np.sqrt(np.maximum(l2, 0.0))
    small = l2 < 1e-6 * l1
    if small.any():
        s2[small] = np.linalg.svd(flat[small] / c[small, None, None], compute_uv=False)[..., 1]
    return (s2 * c).reshape(lead)


def compile_seconds() -> dict[str, float]:
    """First-call compile (or disk-cache load) time of each kernel used so far, in seconds."""
    return dict(_COMPILE_SECONDS)


def warm_up() -> dict[str, float]:
    """Compile (or load) every kernel on a tiny input; returns :func:`compile_seconds`."""
    if AVAILABLE:
        S = np.random.default_rng(0).random((2, 4, 4))
        sinkhorn_scaled(S, 1.0, 5, 1e-6, 100.0)
        sinkhorn_scaled(S, 1.0, 5, 1e-6, 100.0, force_log=True)
        gram_top2(S)
    return compile_seconds()