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
  finite at any temperature while costing little more than plain scaling. A plain run that
  produces a non-finite value is redone log-stabilised.
* Chunks are independent and run on threads (:mod:`dsmlib._parallel`).
* Each matrix stops on its own as soon as its maximal marginal error is ``<= tol``
  (early stopping per matrix); converged matrices leave the active set.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp, softmax

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
    "SinkhornInfo",
    "marginal_error",
    "random_dsm",
    "row_softmax",
    "sinkhorn",
]

#: score range (max - min) above which a matrix is scaled in the log domain
LOG_DOMAIN_RANGE = 100.0
#: float64 entries per chunk (about 4 MiB), so a chunk stays in cache
_CHUNK_ENTRIES = 1 << 19


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


def sinkhorn(
    scores: ArrayLike,
    *,
    n_iter: int = 200,
    tol: float = 1e-6,
    return_info: bool = False,
    warn: bool = True,
):
    r"""Doubly stochastic normalisation of :math:`\exp(\text{scores})`.

    Alternates row and column normalisation of :math:`\exp(S)` (HT Algorithm 1;
    RC App. A, Eq. 13) until the maximal marginal error is ``<= tol`` or ``n_iter``
    iterations are done. The result always has exact column sums (the last step is a
    column step); the reported error is that of the rows.

    Parameters
    ----------
    scores : array_like, shape (..., n, n)
        Real scores :math:`S`; the matrix normalised is :math:`\exp(S)`. Finite, ``n >= 2``.
    n_iter : int, default 200
        Iteration cap :math:`K` (``>= 1``).
    tol : float, default 1e-6
        Stop a matrix once its maximal marginal error is ``<= tol`` (``>= 0``;
        ``tol=0`` runs exactly ``n_iter`` iterations, as Algorithm 1 is written).
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
        If ``scores`` is not finite, not square, smaller than 2 x 2, or if ``n_iter``
        or ``tol`` are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> M = sinkhorn(np.random.default_rng(0).normal(size=(3, 4, 4)))
    >>> bool(np.allclose(M.sum(-1), 1, atol=1e-6) and np.allclose(M.sum(-2), 1))
    True
    """
    S = as_square_batch(scores, "scores")
    n_iter = check_n_iter(n_iter)
    tol = check_tol(tol)
    batch_shape, n = S.shape[:-2], S.shape[-1]
    flat = S.reshape(-1, n, n)
    B = flat.shape[0]
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
        out[sel], its[sel], errs[sel] = o, it_c, er_c

    thread_map(run, tasks)
    converged = errs <= tol
    if warn and not converged.all():
        warnings.warn(
            f"sinkhorn: {int((~converged).sum())} of {B} matrices did not reach "
            f"tol={tol:g} within n_iter={n_iter}; largest marginal error {errs.max():.3g}",
            SinkhornConvergenceWarning,
            stacklevel=2,
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


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator, an int seed or None, got {rng!r}")


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
    """
    n = check_dimension(n)
    T = check_positive_scalar(temperature, "temperature")
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(f"size must be a non-negative int or tuple of ints, got {size!r}")
    d = _generator(rng).random(shape + (n, n))
    return sinkhorn(-d / T, n_iter=n_iter, tol=tol, return_info=return_info, warn=warn)


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
    """
    S = as_float_array(scores, "scores", min_ndim=2)
    return softmax(S, axis=-1)
