r"""Sinkhorn normalisation, HT's Algorithm 1, and the row-softmax baseline.

The Sinkhorn operator maps a score matrix :math:`S \in \mathbb{R}^{n\times n}` to the
unique doubly stochastic matrix of the form

.. math::

    \operatorname{Sinkhorn}(S) = D_1 \exp(S) D_2,

with positive diagonal :math:`D_1, D_2` (Sinkhorn 1964; RC App. A). It is computed by
alternating row and column normalisation, one *iteration* being one row step followed by
one column step (HT Algorithm 1, lines 5-8).

Implementation notes
--------------------
* Batched over all leading axes, processed in cache-sized chunks.
* Every matrix is scaled by two batched mat-vecs per iteration on vectors ``u, v``, with
  :math:`M = \operatorname{diag}(u) K \operatorname{diag}(v)`. Matrices whose score range
  is moderate (``max - min <= 100``) use :math:`K = e^{S - \max S}` directly, exact in
  float64 because every entry is then above ``1e-44``. Wider score ranges (low
  temperature) use *log-stabilised* scaling (Schmitzer 2019): row and column potentials
  are kept in the log domain, the first iteration is done with ``logsumexp``, and ``u, v``
  are absorbed into the potentials whenever they leave ``[e^-69, e^69]``, so the run stays
  finite at any moderate temperature while costing little more than plain scaling. A plain
  run that produces a non-finite value is redone log-stabilised.
* At extreme score ranges (e.g. ``1e20``) the potentials of the stabilised run cancel
  catastrophically (``S + f + g`` loses all digits), which can give ``inf`` or column sums
  far from 1. Every matrix whose stabilised result is not finite or whose column sums are
  off by more than :data:`COLUMN_TOL` is therefore redone *fully in the log domain*: the
  log-matrix ``L`` itself is row- and column-normalised with ``logsumexp`` at every
  iteration (no potentials, no exponentials that can overflow), and ``exp(L)`` is returned
  after a column step. The result is finite with entries in ``[0, 1]`` and exact column
  sums (to rounding) for every finite input; if the rows do not reach ``tol`` (the digits
  to do so may not exist in float64) this is reported like any non-convergence.
* Chunks are independent and run on threads (:mod:`dsmlib._parallel`).
* With numba installed (a pinned dependency) the same algorithm runs as a fused compiled
  kernel, :mod:`dsmlib._kernels`: one matrix at a time in cache, one pass over ``K`` per
  half-iteration, each matrix stopping on its own, no compaction copies; same steps, same
  stopping rule and the same iteration counts as the numpy code here, which remains the
  fallback (``DSMLIB_KERNELS=0``). :func:`random_dsm` hands the costs and ``-T`` to it
  directly (no scaled copy, no span pass: the span is below ``1/T``).
* Each matrix stops on its own as soon as its maximal marginal error is ``<= tol``
  (early stopping per matrix); converged matrices leave the active set.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp, softmax

from . import _kernels
from ._parallel import thread_map
from ._validate import (
    as_float_array,
    as_square_batch,
    check_dimension,
    check_n_iter,
    check_positive_scalar,
    check_tol,
)

__all__ = [
    "SinkhornConvergenceWarning",
    "algorithm1_batch",
    "SinkhornInfo",
    "marginal_error",
    "random_dsm",
    "row_softmax",
    "sinkhorn",
]

#: score range (max - min) above which a matrix is scaled in the log domain
LOG_DOMAIN_RANGE = 100.0
#: column-sum error above which a scaled result is redone fully in the log domain
COLUMN_TOL = 1e-12
#: float64 entries per chunk (about 4 MiB), so a chunk stays in cache
_CHUNK_ENTRIES = 1 << 19
#: the smallest non-zero marginal error float64 can represent near 1 (half an ulp of 1):
#: a positive ``tol`` below it can only be met by an error of exactly 0
TOL_RESOLUTION = 2.0**-53


class SinkhornConvergenceWarning(RuntimeWarning):
    """Raised (as a warning) when some matrices miss ``tol`` within ``n_iter``."""


@dataclass(frozen=True)
class SinkhornInfo:
    """Diagnostics of a batched Sinkhorn run.

    Attributes
    ----------
    n_iter : ndarray of int, shape (...)
        Iterations used per matrix (one iteration = row step + column step).
    err : ndarray of float, shape (...)
        Final maximal marginal error per matrix,
        :math:`\\max(\\|M\\mathbf 1-\\mathbf 1\\|_\\infty, \\|M^\\top\\mathbf 1-\\mathbf 1\\|_\\infty)`.
    converged : ndarray of bool, shape (...)
        ``err <= tol``.
    log_domain : ndarray of bool, shape (...)
        Whether the matrix was scaled in the log domain.
    tol : float
        The tolerance asked for.
    max_iter : int
        The iteration cap asked for.
    """

    n_iter: NDArray[np.int64]
    err: NDArray[np.float64]
    converged: NDArray[np.bool_]
    log_domain: NDArray[np.bool_]
    tol: float
    max_iter: int

    @property
    def all_converged(self) -> bool:
        """True if every matrix reached ``tol``."""
        return bool(np.all(self.converged))

    @property
    def n_failed(self) -> int:
        """Number of matrices that did not reach ``tol``."""
        return int(np.size(self.converged) - np.count_nonzero(self.converged))


def marginal_error(M: ArrayLike) -> NDArray[np.float64]:
    r"""Maximal marginal error of (a batch of) matrices.

    .. math:: e(M) = \max\big(\max_i |(M\mathbf 1)_i - 1|,\ \max_j |(M^\top\mathbf 1)_j - 1|\big)

    Parameters
    ----------
    M : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (...)
    """
    M = as_square_batch(M, "M")
    rows = np.abs(M.sum(axis=-1) - 1.0).max(axis=-1)
    cols = np.abs(M.sum(axis=-2) - 1.0).max(axis=-1)
    return np.maximum(rows, cols)


def _bmv(K: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Batched ``K @ x`` for K of shape (b, n, n) and x of shape (b, n)."""
    return np.einsum("bij,bj->bi", K, x)


def _bmtv(K: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Batched ``K.T @ x`` for K of shape (b, n, n) and x of shape (b, n)."""
    return np.einsum("bij,bi->bj", K, x)


def _scaling_chunk(S, n_iter, tol, out, its, errs, *, stabilized=False):
    """Sinkhorn on a chunk S (b, n, n) by diagonal scaling; writes into out/its/errs.

    With ``stabilized`` the row/column potentials ``f, g`` are kept in the log domain and
    the scalings ``u, v`` are absorbed into them whenever they leave ``[1e-30, 1e30]``
    (log-stabilised scaling), so that any score range stays finite. Without it, the
    kernel is ``exp(S - max S)`` (fine for score ranges up to :data:`LOG_DOMAIN_RANGE`).

    Returns a bool mask of matrices whose result is not finite.
    """
    b = S.shape[0]
    active = np.arange(b)
    if stabilized:
        f = -logsumexp(S, axis=-1)  # exact first row step, in the log domain
        g = -logsumexp(S + f[:, :, None], axis=-2)  # exact first column step
        K = np.exp(S + f[:, :, None] + g[:, None, :])
        u = np.ones((b, S.shape[-1]))
        v = np.ones((b, S.shape[-1]))
        Sa = S
    else:
        K = np.exp(S - S.max(axis=(-2, -1), keepdims=True))
        u = 1.0 / K.sum(axis=-1)  # first row step (v = 1)
        v = 1.0 / _bmtv(K, u)  # first column step
    it = 1
    bad = np.zeros(b, dtype=bool)
    while active.size:
        Kv = _bmv(K, v)
        err = np.abs(u * Kv - 1.0).max(axis=-1)  # columns are exact after a column step
        finite = np.isfinite(err) & np.all(np.isfinite(v), axis=-1)
        done = ((err <= tol) if tol > 0 else False) | (it >= n_iter) | ~finite
        if done.any():
            sel = active[done]
            out[sel] = u[done, :, None] * K[done] * v[done, None, :]
            its[sel] = it
            errs[sel] = err[done]
            bad[sel] = ~finite[done]
            keep = ~done
            active, K, u, v, Kv = active[keep], K[keep], u[keep], v[keep], Kv[keep]
            if stabilized:
                Sa, f, g = Sa[keep], f[keep], g[keep]
            if not active.size:
                break
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            u = 1.0 / Kv
            v = 1.0 / _bmtv(K, u)
        it += 1
        if stabilized:
            big = (np.abs(np.log(u)).max(axis=-1) > 69.0) | (np.abs(np.log(v)).max(axis=-1) > 69.0)
            if big.any():  # absorb the scalings into the log-domain potentials
                f[big] += np.log(u[big])
                g[big] += np.log(v[big])
                K[big] = np.exp(Sa[big] + f[big, :, None] + g[big, None, :])
                u[big] = 1.0
                v[big] = 1.0
    return bad


def _log_chunk(S, n_iter, tol, out, its, errs):
    """Sinkhorn fully in the log domain on a chunk S (b, n, n); writes into out/its/errs.

    ``L`` (the log of the current matrix) is normalised in place: ``L -= lse(L, rows)``
    then ``L -= lse(L, columns)``, one iteration. Every step is finite for finite ``S``
    and the returned ``exp(L)`` (after a column step) has entries in ``[0, 1]`` and column
    sums 1 to rounding. The error is that of the rows, from the next row step's lse.
    """
    b = S.shape[0]
    active = np.arange(b)
    L = S - S.max(axis=-1, keepdims=True)
    it = 0
    while active.size:
        L -= logsumexp(L, axis=-1, keepdims=True)  # row step
        L -= logsumexp(L, axis=-2, keepdims=True)  # column step
        it += 1
        r = logsumexp(L, axis=-1)  # log row sums after the column step
        with np.errstate(over="ignore"):
            err = np.abs(np.expm1(r)).max(axis=-1)
        done = ((err <= tol) if tol > 0 else False) | (it >= n_iter)
        if done.any():
            sel = active[done]
            out[sel] = np.exp(L[done])
            its[sel] = it
            errs[sel] = err[done]
            keep = ~done
            active, L = active[keep], L[keep]


def _columns_off(M: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Matrices (b, n, n) that are not finite or whose column sums miss 1 by > COLUMN_TOL."""
    with np.errstate(invalid="ignore"):
        col = np.abs(M.sum(axis=-2) - 1.0).max(axis=-1)
    return ~(col <= COLUMN_TOL)


def _numpy_flat(flat, n_iter, tol):
    """Sinkhorn of exp(flat) (B, n, n) by the numpy implementation: chunks on threads.

    Returns ``out, its, errs, use_log`` (see :class:`SinkhornInfo`).
    """
    B, n = flat.shape[0], flat.shape[-1]
    out = np.empty_like(flat)
    its = np.zeros(B, dtype=np.int64)
    errs = np.zeros(B, dtype=np.float64)
    span = flat.max(axis=(-2, -1)) - flat.min(axis=(-2, -1))
    use_log = span > LOG_DOMAIN_RANGE
    chunk = max(1, _CHUNK_ENTRIES // (n * n))
    tasks = [
        (bool(mask_log), idx[start : start + chunk])
        for mask_log in (False, True)
        for idx in [np.flatnonzero(use_log == mask_log)]
        for start in range(0, idx.size, chunk)
    ]

    def run(task: tuple[bool, NDArray[np.intp]]) -> None:
        # chunks are independent and write disjoint rows: safe to run on threads
        mask_log, sel = task
        o = np.empty((sel.size, n, n))
        it_c = np.zeros(sel.size, dtype=np.int64)
        er_c = np.zeros(sel.size)
        bad = _scaling_chunk(flat[sel], n_iter, tol, o, it_c, er_c, stabilized=mask_log)
        if bad.any() and not mask_log:  # numerical trouble: redo those in the log domain
            use_log[sel[bad]] = True
            ob = np.empty((int(bad.sum()), n, n))
            ib = np.zeros(ob.shape[0], dtype=np.int64)
            eb = np.zeros(ob.shape[0])
            _scaling_chunk(flat[sel[bad]], n_iter, tol, ob, ib, eb, stabilized=True)
            o[bad], it_c[bad], er_c[bad] = ob, ib, eb
        worse = _columns_off(o)
        if worse.any():  # potentials cancelled (extreme range): redo fully in the log domain
            use_log[sel[worse]] = True
            ob = np.empty((int(worse.sum()), n, n))
            ib = np.zeros(ob.shape[0], dtype=np.int64)
            eb = np.zeros(ob.shape[0])
            _log_chunk(flat[sel[worse]], n_iter, tol, ob, ib, eb)
            o[worse], it_c[worse], er_c[worse] = ob, ib, eb
        out[sel], its[sel], errs[sel] = o, it_c, er_c

    thread_map(run, tasks)
    return out, its, errs, use_log


def _kernel_flat(flat, div, span_bound, n_iter, tol):
    """Sinkhorn of exp(flat / div) (B, n, n) by the fused kernel of :mod:`dsmlib._kernels`.

    Same algorithm, stopping rule and fallbacks as :func:`_numpy_flat`: a plain run that
    ends non-finite is redone log-stabilised inside the kernel, and a result whose column
    sums miss 1 by more than :data:`COLUMN_TOL` (the kernel returns that error) is redone
    fully in the log domain. Returns ``out, its, errs, use_log``.
    """
    out, its, errs, use_log, col_err = _kernels.sinkhorn_scaled(
        flat, div, n_iter, tol, LOG_DOMAIN_RANGE, span_bound=span_bound
    )
    worse = np.flatnonzero(~(col_err <= COLUMN_TOL))
    if worse.size:  # potentials cancelled (extreme range): redo fully in the log domain
        n = flat.shape[-1]
        ob = np.empty((worse.size, n, n))
        ib = np.zeros(worse.size, dtype=np.int64)
        eb = np.zeros(worse.size)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow of flat / div: reported by the caller
            _log_chunk(flat[worse] / div, n_iter, tol, ob, ib, eb)
        out[worse], its[worse], errs[worse], use_log[worse] = ob, ib, eb, True
    return out, its, errs, use_log


def sinkhorn(
    scores: ArrayLike,
    *,
    temperature: float = 1.0,
    n_iter: int = 200,
    tol: float = 1e-6,
    return_info: bool = False,
    warn: bool = True,
):
    r"""Doubly stochastic normalisation of :math:`\exp(\text{scores} / T)`.

    Alternates row and column normalisation of :math:`\exp(S)` (HT Algorithm 1;
    RC App. A, Eq. 13) until the maximal marginal error is ``<= tol`` or ``n_iter``
    iterations are done. The result always has exact column sums (the last step is a
    column step); the reported error is that of the rows. It is finite, with entries in
    ``[0, 1]``, for every finite input, at any score range: where the scaling potentials
    would cancel or overflow (score ranges of ~1e6 and beyond) the matrix is normalised
    fully in the log domain (see the module notes); if the rows then miss ``tol`` (the
    float64 digits may not exist) that is reported like any non-convergence.

    Parameters
    ----------
    scores : array_like, shape (..., n, n)
        Real scores :math:`S`; the matrix normalised is :math:`\exp(S / T)`. Finite, ``n >= 2``.
    temperature : float, default 1.0
        Temperature :math:`T > 0`. ``sinkhorn(S, temperature=T)`` is ``sinkhorn(S / T)``,
        bit for bit (``S / T`` is formed chunk by chunk inside the kernel, without a scaled
        copy of the whole batch): for costs ``d``, ``sinkhorn(-d, temperature=T)`` is HT
        Algorithm 1 at temperature ``T``.
    n_iter : int, default 200
        Iteration cap :math:`K` (``>= 1``).
    tol : float, default 1e-6
        Stop a matrix once its maximal marginal error is ``<= tol`` (``>= 0``;
        ``tol=0`` runs exactly ``n_iter`` iterations, as Algorithm 1 is written). A positive
        ``tol`` below float64 resolution (:data:`TOL_RESOLUTION`, :math:`2^{-53}`) raises a
        ValueError: no error but exactly 0 could meet it.
    return_info : bool, default False
        Also return a :class:`SinkhornInfo`.
    warn : bool, default True
        Emit a :class:`SinkhornConvergenceWarning` when some matrices miss ``tol``.

    Returns
    -------
    M : ndarray, shape (..., n, n)
        The (approximately) doubly stochastic matrices, float64.
    info : SinkhornInfo
        Only if ``return_info``.

    Raises
    ------
    ValueError
        If ``scores`` is not finite (or a masked array, or not real numbers), not square,
        smaller than 2 x 2, if ``scores / temperature`` overflows float64, or if
        ``temperature`` (not a finite number > 0), ``n_iter`` or ``tol`` are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> M = sinkhorn(np.random.default_rng(0).normal(size=(3, 4, 4)))
    >>> bool(np.allclose(M.sum(-1), 1, atol=1e-6) and np.allclose(M.sum(-2), 1))
    True
    """
    # the compiled kernel checks for NaN/inf in the pass that reads the scores anyway
    S = as_square_batch(scores, "scores", check_finite=not _kernels.ENABLED)
    T = check_positive_scalar(temperature, "temperature")
    return _sinkhorn(S, T, np.inf, n_iter=n_iter, tol=tol, return_info=return_info, warn=warn)


def _sinkhorn(S, div, span_bound, *, n_iter, tol, return_info, warn):
    """:func:`sinkhorn` of ``exp(S / div)`` for a validated ``S`` whose score spans are ``<= span_bound``.

    ``S = d`` (costs in ``[0, 1)``), ``div = -T``, ``span_bound = 1 / T`` is
    :func:`random_dsm`: ``d / -T == -d / T`` exactly, without a scaled copy of the costs;
    ``div = T`` is :func:`sinkhorn` at temperature ``T``.
    """
    n_iter = check_n_iter(n_iter)
    tol = check_tol(tol)
    if 0.0 < tol < TOL_RESOLUTION:
        raise ValueError(
            f"tol={tol!r} is below float64 resolution ({TOL_RESOLUTION:.3g}): no marginal error can reach it "
            "except exactly 0, so every matrix would run all n_iter iterations; use tol=0 to run exactly "
            f"n_iter iterations, or tol >= {TOL_RESOLUTION:.3g}"
        )
    batch_shape, n = S.shape[:-2], S.shape[-1]
    flat = S.reshape(-1, n, n)
    B = flat.shape[0]
    if _kernels.ENABLED and B:  # the fused compiled kernel (dsmlib._kernels)
        out, its, errs, use_log = _kernel_flat(flat, div, span_bound, n_iter, tol)
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow of flat / div: reported below
            out, its, errs, use_log = _numpy_flat(flat if div == 1.0 else flat / div, n_iter, tol)
    if B and not np.all(np.isfinite(errs)):
        _check_overflow(flat, div, span_bound)
    converged = errs <= tol
    if warn and not converged.all():
        warnings.warn(
            f"sinkhorn: {int((~converged).sum())} of {B} matrices did not reach "
            f"tol={tol:g} within n_iter={n_iter}; largest marginal error {errs.max():.3g}",
            SinkhornConvergenceWarning,
            stacklevel=3,
        )
    M = out.reshape(S.shape)
    if not return_info:
        return M
    info = SinkhornInfo(
        n_iter=its.reshape(batch_shape),
        err=errs.reshape(batch_shape),
        converged=converged.reshape(batch_shape),
        log_domain=use_log.reshape(batch_shape),
        tol=tol,
        max_iter=n_iter,
    )
    return M, info


def _check_overflow(flat: NDArray[np.float64], div: float, span_bound: float) -> None:
    """Raise the documented ValueError if ``flat / div`` overflows float64 (the only way a
    finite input can end non-finite); called only when some result is not finite."""
    if div == 1.0:
        return
    big = float(np.max(np.abs(flat)))
    with np.errstate(over="ignore"):
        q = big / abs(div)
    if np.isfinite(q):
        return
    if div < 0:  # random_dsm: costs d in [0, 1) at temperature -div
        raise ValueError(
            f"temperature={-div!r} is too small: the costs d / temperature overflow float64 "
            f"(a temperature of at least {1.0 / np.finfo(np.float64).max:.3g} is needed for costs in [0, 1))"
        )
    raise ValueError(
        f"scores / temperature overflows float64 (largest |scores| {big:.3g}, temperature {div!r}): "
        "use a larger temperature or smaller scores"
    )


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng must be a numpy Generator, a non-negative int seed or None, got {rng!r}")
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator, a non-negative int seed or None, got {rng!r}")


def random_dsm(
    n: int,
    temperature: float,
    *,
    size: int | tuple[int, ...] = (),
    rng: np.random.Generator | int | None = None,
    n_iter: int = 200,
    tol: float = 1e-6,
    return_info: bool = False,
    warn: bool = True,
):
    r"""Random DSMs by HT Algorithm 1: :math:`d_{ij}\sim\mathcal U[0,1]`, Sinkhorn of :math:`e^{-d/T}`.

    Parameters
    ----------
    n : int
        Matrix size (``>= 2``).
    temperature : float
        Sinkhorn temperature :math:`T > 0`.
    size : int or tuple of int, default ()
        Leading batch shape; the result has shape ``size + (n, n)``.
    rng : numpy.random.Generator, int or None
        Source of the uniform costs :math:`d` (drawn as ``rng.random(size + (n, n))``).
    n_iter, tol, return_info, warn
        Passed to :func:`sinkhorn`.

    Returns
    -------
    M : ndarray, shape (*size, n, n)
    info : SinkhornInfo
        Only if ``return_info``.

    Raises
    ------
    ValueError
        If ``n``, ``size``, ``rng``, ``n_iter`` or ``tol`` are invalid, or ``temperature`` is
        not a finite number > 0 or so small that ``d / temperature`` overflows float64
        (below about ``5.6e-309``, subnormal temperatures).
    """
    n = check_dimension(n)
    T = check_positive_scalar(temperature, "temperature")
    if not isinstance(size, (int, np.integer, tuple, list)) or isinstance(size, bool):
        raise ValueError(f"size must be a non-negative int or tuple of ints, got {size!r}")
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(f"size must be a non-negative int or tuple of ints, got {size!r}")
    d = _generator(rng).random(shape + (n, n))
    return _sinkhorn(d, -T, 1.0 / T, n_iter=n_iter, tol=tol, return_info=return_info, warn=warn)


def algorithm1_batch(
    n: int,
    temperature: float,
    size: int,
    rng: np.random.Generator,
    *,
    n_iter: int = 200,
    tol: float = 1e-6,
) -> tuple[NDArray[np.float64], int]:
    r"""HT Algorithm 1 for a flat batch, lean: one stopping rule for the whole batch.

    The same costs as :func:`random_dsm` (``rng.random((size, n, n))``, then
    :math:`e^{-d/T}`), normalised by plain alternating row / column division of the whole
    batch at once until the largest row-sum error *of the batch* is ``<= tol`` (at most
    ``n_iter`` iterations; one iteration = row step + column step, as Algorithm 1 is
    written). Matrices that converged earlier take the extra iterations, which move them by
    less than ``tol``. No chunking, no log-domain fallback, no per-matrix bookkeeping, at
    temperatures where :math:`e^{-1/T}` does not underflow (``T >= 0.002``; below that use
    :func:`random_dsm`). It is the path the deep experiments of chapter 4 draw their
    thousands of fresh layers with (bit for bit the draws stored in the book); with the
    compiled kernel, :func:`random_dsm` is about as fast (0.7 to 1.2 times this path's time
    for 2000 matrices of size 64 at ``T`` in 0.3 to 10, measured on two cores). Results agree
    with :func:`random_dsm` to ``tol``, not bit for bit.

    Parameters
    ----------
    n : int
        Matrix size (``>= 2``).
    temperature : float
        :math:`T`, finite, ``>= 0.002``.
    size : int
        Number of matrices (``>= 1``).
    rng : numpy.random.Generator
        Source of the costs.
    n_iter : int, default 200
        Iteration cap :math:`K` (``>= 1``).
    tol : float, default 1e-6
        Batch tolerance on the row sums (``>= 0``; columns are exact after a column step).

    Returns
    -------
    M : ndarray, shape (size, n, n)
    n_failed : int
        Matrices whose row-sum error is still ``> tol`` after the last iteration.

    Raises
    ------
    ValueError
        For an invalid ``n``, ``size``, ``rng``, ``n_iter`` or ``tol``, or a temperature that
        is not a finite number ``>= 0.002``.
    """
    n = check_dimension(n)
    T = check_positive_scalar(temperature, "temperature")
    if T < _LEAN_MIN_T:
        raise ValueError(f"temperature={temperature!r} is below {_LEAN_MIN_T} (exp(-1/T) underflows): "
                         "use random_dsm")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or int(size) < 1:
        raise ValueError(f"size must be an integer >= 1, got {size!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy Generator")
    n_iter = check_n_iter(n_iter)
    tol = check_tol(tol)
    A = rng.random((int(size), n, n))
    np.multiply(A, -1.0 / T, out=A)
    np.exp(A, out=A)
    err = np.full(int(size), np.inf)
    for _ in range(n_iter):
        A /= A.sum(axis=-1, keepdims=True)
        A /= A.sum(axis=-2, keepdims=True)
        err = np.abs(A.sum(axis=-1) - 1.0).max(axis=-1)
        if err.max() <= tol:
            break
    return A, int((err > tol).sum())


#: smallest temperature :func:`algorithm1_batch` accepts (exp(-1/T) stays a normal float64)
_LEAN_MIN_T = 0.002


def row_softmax(scores: ArrayLike) -> NDArray[np.float64]:
    r"""Row-wise softmax :math:`\operatorname{softmax}(S)_{ij} = e^{S_{ij}} / \sum_k e^{S_{ik}}`.

    The row-stochastic attention normalisation (RC Eq. 1 with Softmax).

    Parameters
    ----------
    scores : array_like, shape (..., n, m)
        Finite scores, at least two dimensions.

    Returns
    -------
    ndarray, shape (..., n, m)

    Raises
    ------
    ValueError
        If ``scores`` is not a finite real array with at least two axes and ``m >= 1``.
    """
    S = as_float_array(scores, "scores", min_ndim=2)
    if S.shape[-1] < 1:
        raise ValueError(f"scores must have at least one column (entry per row) to normalise, got shape {S.shape}")
    return softmax(S, axis=-1)
