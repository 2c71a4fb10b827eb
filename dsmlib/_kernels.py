r"""Compiled kernels (numba) for the hot loops of :mod:`dsmlib`: Sinkhorn scaling and sigma_2.

Why compiled kernels
--------------------
A 64 x 64 matrix (32 KiB) fits in a core's L1 cache. The numpy implementation of
Sinkhorn processes chunks of matrices with about 15 small array calls per iteration,
streams each chunk from L2/L3 twice per iteration and compacts the active set whenever a
matrix converges; the kernels here work on *one matrix at a time*, in cache:

* :func:`sinkhorn_scaled` -- per chunk of matrices (1 MiB, on a thread), one compiled pass
  forms ``S / div - max`` and the score span (plain vs log-stabilised scaling), numpy's
  vectorised ``exp`` makes :math:`K = e^{S/\text{div} - \max}` in the output buffer (the same
  ``K``, bit for bit, as the numpy implementation); then, per matrix, the compiled kernel
  does the first row and column step in one pass, then per iteration the row dot products
  ``K v``, the row error of the current iterate (the stopping rule of
  :func:`dsmlib.sinkhorn`), ``u = 1/Kv`` and the column sums ``K^T u`` (row-wise,
  vectorised), and finally :math:`M = \operatorname{diag}(u) K \operatorname{diag}(v)` in place,
  with its column error (numpy's summation order). Each matrix stops on its own; nothing is
  compacted or copied. The log-stabilised path (Schmitzer 2019) keeps potentials ``f, g``
  and absorbs ``u, v`` into them whenever they leave :math:`[e^{-69}, e^{69}]`, as
  :func:`dsmlib.sinkhorn._scaling_chunk` does, and a plain run that ends non-finite is
  redone log-stabilised. Same steps, same first iteration, same stopping rule: the
  iteration counts are those of the numpy implementation (the sums differ only in the
  order of floating-point additions; ``tests/test_kernels.py`` checks the counts).
* :func:`gram_top2` / :func:`sigma2` -- the two largest eigenvalues of the Gram matrix
  :math:`MM^\top` per matrix, with the matrix in cache: the Gram product's lower triangle in
  4 x 4 register blocks (half the products of a general matrix product); a Householder
  tridiagonalisation (LAPACK ``dsytd2``'s maths) in which each step applies the previous
  step's rank-2 update and accumulates the next ``T v`` in one pass over the trailing
  block, four rows at a time; then only the two top eigenvalues, by Laguerre's method on
  :math:`\det(T - xI)` (cubically convergent from above; :math:`\lambda_2` with
  :math:`\lambda_1` divided out, bracketed by :math:`\sqrt{\|G\|_F^2 - \lambda_1^2}` and
  isolated by Sturm multisection), every result certified by a Sturm count and, failing
  that, recomputed by multisection and safeguarded Newton. Absolute error of order
  :math:`n\epsilon\,\lambda_1`, like LAPACK's ``syevd`` on the Gram matrix (checked against
  LAPACK for n = 2 ... 100 and on clustered spectra in ``tests/test_kernels.py``); the SVD
  fallback of :func:`dsmlib.sigma2` (:math:`\sigma_2 < 10^{-3}\sigma_1`) is kept.

The kernels are serial and release the GIL (``nogil``): :mod:`dsmlib._parallel` runs
contiguous chunks of the batch on threads. They are compiled on first use and cached on
disk (``cache=True``, in ``dsmlib/__pycache__``); :func:`compile_seconds` reports the
first-call compile (or cache-load) time. Without numba, ``AVAILABLE`` is False and dsmlib
uses its numpy implementations.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
from numpy.typing import NDArray

from ._validate import SAFE_EXP as _SAFE_EXP
from ._validate import nonfinite_error

try:  # numba is a pinned dependency; the numpy paths remain as a fallback
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None
    AVAILABLE = False

__all__ = ["AVAILABLE", "ENABLED", "compile_seconds", "gram_top2", "sigma2", "sinkhorn_scaled", "warm_up"]

#: whether :func:`dsmlib.sinkhorn` and :func:`dsmlib.sigma2` use these kernels
#: (``DSMLIB_KERNELS=0`` in the environment, or setting this to False, selects numpy)
ENABLED = AVAILABLE and os.environ.get("DSMLIB_KERNELS", "1") != "0"

#: absorb the scalings into the log-domain potentials beyond exp(+-69) (about 1e30)
ABSORB = 69.0

_COMPILE_SECONDS: dict[str, float] = {}


def _jit(**kw):
    """``numba.njit(nogil=True, cache=True, **kw)``, or the identity without numba."""
    if not AVAILABLE:
        return lambda f: f
    # error_model="numpy": 1/0 is inf (as in numpy), not a ZeroDivisionError
    return numba.njit(nogil=True, cache=True, error_model="numpy", **kw)


# fused reductions may be re-associated (vectorised): they are sums of positive terms
_FAST = {"reassoc", "contract"}


@_jit(fastmath=_FAST)
def _dot(a, b):  # pragma: no cover - compiled
    s = 0.0
    for j in range(a.shape[0]):
        s += a[j] * b[j]
    return s


@_jit(fastmath=_FAST)
def _matvec(K, v, kv):  # pragma: no cover - compiled
    """``kv = K v``: four rows at a time (four independent vectorised dot products)."""
    n = K.shape[0]
    i = 0
    while i + 4 <= n:
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for j in range(n):
            vj = v[j]
            s0 += K[i, j] * vj
            s1 += K[i + 1, j] * vj
            s2 += K[i + 2, j] * vj
            s3 += K[i + 3, j] * vj
        kv[i] = s0
        kv[i + 1] = s1
        kv[i + 2] = s2
        kv[i + 3] = s3
        i += 4
    while i < n:
        kv[i] = _dot(K[i], v)
        i += 1


@_jit(fastmath=_FAST)
def _rmatvec(K, u, acc):  # pragma: no cover - compiled
    """``acc = K^T u``, accumulated over rows four at a time (contiguous, vectorised)."""
    n = K.shape[0]
    acc[:] = 0.0
    i = 0
    while i + 4 <= n:
        u0 = u[i]
        u1 = u[i + 1]
        u2 = u[i + 2]
        u3 = u[i + 3]
        for j in range(n):
            acc[j] += (u0 * K[i, j] + u1 * K[i + 1, j]) + (u2 * K[i + 2, j] + u3 * K[i + 3, j])
        i += 4
    while i < n:
        ui = u[i]
        for j in range(n):
            acc[j] += ui * K[i, j]
        i += 1


@_jit()
def _step(K, u, v, kv, acc, n_iter, tol, it):  # pragma: no cover - compiled
    """One Sinkhorn iteration on K (n, n): check the iterate (u, v), then update it.

    ``kv = K v`` (row dot products), the row error ``max_i |u_i kv_i - 1|``
    of the current iterate (its columns are exact after a column step); if it is not
    done, the row step ``u = 1 / kv`` and the column step ``v = 1 / (K^T u)``. Returns
    (done, err, finite); on ``done`` the iterate is left unchanged.
    """
    n = K.shape[0]
    _matvec(K, v, kv)
    err = 0.0
    nan = False
    for i in range(n):
        e = abs(u[i] * kv[i] - 1.0)
        if e > err:
            err = e
        elif e != e:
            nan = True
    finite = not nan and math.isfinite(err)
    for j in range(n):
        if not math.isfinite(v[j]):
            finite = False
    if nan:
        err = np.nan
    if (tol > 0.0 and err <= tol) or it >= n_iter or not finite:
        return True, err, finite
    for i in range(n):
        u[i] = 1.0 / kv[i]
    _rmatvec(K, u, acc)
    for j in range(n):
        v[j] = 1.0 / acc[j]
    return False, err, finite


@_jit()
def _sweep_plain(K, u, v, kv, acc, n_iter, tol, it):  # pragma: no cover - compiled
    """Iterate from (u, v) at iteration ``it`` until done; returns (it, err, finite)."""
    while True:
        done, err, finite = _step(K, u, v, kv, acc, n_iter, tol, it)
        if done:
            return it, err, finite
        it += 1


@_jit()
def _apply_scaling(K, u, v, colsum):  # pragma: no cover - compiled
    """In place ``K <- diag(u) K diag(v)``; returns the column error ``max_j |sum_i K_ij - 1|``.

    The column sums are accumulated row by row, in numpy's order for ``M.sum(axis=-2)``;
    NaN if any is NaN.
    """
    n = K.shape[0]
    colsum[:] = 0.0
    for i in range(n):
        ui = u[i]
        Ki = K[i]
        for j in range(n):
            Ki[j] = ui * Ki[j] * v[j]
            colsum[j] += Ki[j]
    err = 0.0
    for j in range(n):
        e = abs(colsum[j] - 1.0)
        if e != e:
            return np.nan
        if e > err:
            err = e
    return err


@_jit()
def _plain_one(K, n_iter, tol, u, v, kv, acc):  # pragma: no cover - compiled
    """Plain scaling of K = exp(S - max S) (n, n), in place; returns (it, err, finite, col_err)."""
    n = K.shape[0]
    acc[:] = 0.0
    for i in range(n):  # first row step (v = 1) and the column sums of the first column step
        Ki = K[i]
        r = 0.0
        for j in range(n):
            r += Ki[j]
        ui = 1.0 / r
        u[i] = ui
        for j in range(n):
            acc[j] += ui * Ki[j]
    for j in range(n):  # first column step
        v[j] = 1.0 / acc[j]
    it, err, finite = _sweep_plain(K, u, v, kv, acc, n_iter, tol, 1)
    return it, err, finite, _apply_scaling(K, u, v, acc)


@_jit()
def _logsumexp(x):  # pragma: no cover - compiled
    """scipy.special.logsumexp of a 1-d array, with scipy's formula (ties of the max kept apart)."""
    a_max = -np.inf
    for j in range(x.shape[0]):
        if x[j] > a_max:
            a_max = x[j]
    m = 0.0
    s = 0.0
    for j in range(x.shape[0]):
        if x[j] == a_max:
            m += 1.0
        else:
            s += math.exp(x[j] - a_max)
    s = s / m
    return math.log1p(s) + math.log(m) + a_max


@_jit()
def _stab_one(S, div, n_iter, tol, absorb, out, u, v, acc, f, g, work):  # pragma: no cover
    """Log-stabilised scaling (see module doc); returns (it, err, finite, col_err)."""
    n = S.shape[0]
    for i in range(n):  # f = -logsumexp(S, rows): the first row step, in the log domain
        for j in range(n):
            work[j] = S[i, j] / div
        f[i] = -_logsumexp(work)
    for j in range(n):  # g = -logsumexp(S + f, columns): the first column step
        for i in range(n):
            work[i] = S[i, j] / div + f[i]
        g[j] = -_logsumexp(work)
    for i in range(n):
        for j in range(n):
            out[i, j] = math.exp(S[i, j] / div + f[i] + g[j])
    u[:] = 1.0
    v[:] = 1.0
    lo, hi = math.exp(-absorb), math.exp(absorb)
    it = 1
    while True:
        done, err, finite = _step(out, u, v, work, acc, n_iter, tol, it)
        if done:
            break
        big = False  # |log u| > absorb or |log v| > absorb, without the logarithms
        for i in range(n):
            if u[i] > hi or u[i] < lo:
                big = True
        for j in range(n):
            if v[j] > hi or v[j] < lo:
                big = True
        it += 1
        if big:  # absorb the scalings into the log-domain potentials
            for i in range(n):
                f[i] += math.log(u[i])
            for j in range(n):
                g[j] += math.log(v[j])
            for i in range(n):
                for j in range(n):
                    out[i, j] = math.exp(S[i, j] / div + f[i] + g[j])
            u[:] = 1.0
            v[:] = 1.0
    return it, err, finite, _apply_scaling(out, u, v, acc)


@_jit()
def _all_finite(A):  # pragma: no cover - compiled
    """Whether every entry of the 2-d array A is finite (exact; the slow path)."""
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            if not math.isfinite(A[i, j]):
                return False
    return True


@_jit()
def _min_max(A, lo, hi, sm):  # pragma: no cover - compiled
    """``(min A, max A, finite)`` of a 2-d array (n, m); ``lo, hi, sm`` are work vectors (m,).

    Column-wise extremes first (an elementwise, vectorised compare-and-select over each
    row), then those of the m columns: exact, no reduction is re-associated. ``finite``
    tells whether every entry is finite: the column sums ``sm`` carry any NaN or inf (a
    compare-and-select skips NaN); only when they are not finite (or overflow) are the
    entries checked one by one.
    """
    m = A.shape[1]
    A0 = A[0]
    for j in range(m):
        lo[j] = A0[j]
        hi[j] = A0[j]
        sm[j] = A0[j]
    for i in range(1, A.shape[0]):
        Ai = A[i]
        for j in range(m):
            a = Ai[j]
            hi[j] = a if a > hi[j] else hi[j]
            lo[j] = a if a < lo[j] else lo[j]
            sm[j] += a
    a_lo = lo[0]
    a_hi = hi[0]
    t = 0.0
    for j in range(m):
        a_hi = hi[j] if hi[j] > a_hi else a_hi
        a_lo = lo[j] if lo[j] < a_lo else a_lo
        t += sm[j]
    finite = math.isfinite(t) or _all_finite(A)
    return a_lo, a_hi, finite


@_jit()
def _shift(S, div, out, mx, mn, finite):  # pragma: no cover - compiled
    """``out[b] = S[b] / div - max(S[b] / div)`` per matrix, in one pass; ``mx[b], mn[b]``
    are the max and min of ``S[b] / div``, ``finite[b]`` whether ``S[b]`` is finite (the
    validation of the scores, done here because this pass reads them anyway).

    The extremes are taken on the finite ``S[b]`` and divided afterwards: a correctly
    rounded division is monotone, so they are the extremes of the rounded quotients, and
    ``out`` is bit for bit numpy's ``np.divide(S, div) - max``.
    """
    wlo = np.empty(S.shape[2])
    whi = np.empty(S.shape[2])
    wsm = np.empty(S.shape[2])
    for b in range(S.shape[0]):
        Sb = S[b]
        lo, hi, fin = _min_max(Sb, wlo, whi, wsm)
        finite[b] = fin
        if not fin:
            continue
        if div > 0.0:
            top = hi / div
            bot = lo / div
        else:
            top = lo / div
            bot = hi / div
        mx[b] = top
        mn[b] = bot
        ob = out[b]
        for i in range(Sb.shape[0]):
            Si = Sb[i]
            oi = ob[i]
            if div == 1.0:  # x / 1 == x: no division pass
                for j in range(Sb.shape[1]):
                    oi[j] = Si[j] - top
            else:
                for j in range(Sb.shape[1]):
                    oi[j] = Si[j] / div - top


@_jit()
def _iterate(K, S, div, use_log, n_iter, tol, absorb, its, errs, logd, colerr):  # pragma: no cover
    """Scale each K[b] = exp(S[b] / div - max) in place (log domain from S[b] where use_log[b]).

    A plain run that ends non-finite is redone log-stabilised.
    """
    n = K.shape[1]
    u = np.empty(n)
    v = np.empty(n)
    acc = np.empty(n)
    f = np.empty(n)
    g = np.empty(n)
    work = np.empty(n)
    for b in range(K.shape[0]):
        lg = use_log[b]
        it, err, finite, cerr = 0, 0.0, False, 0.0
        if not lg:
            it, err, finite, cerr = _plain_one(K[b], n_iter, tol, u, v, work, acc)
            if not finite:  # numerical trouble: redo it in the log domain
                lg = True
        if lg:
            it, err, finite, cerr = _stab_one(S[b], div, n_iter, tol, absorb, K[b], u, v, acc, f, g, work)
        its[b] = it
        errs[b] = err
        logd[b] = lg
        colerr[b] = cerr if finite else np.nan


# ---------------------------------------------------------------------------- sigma_2


@_jit(fastmath=_FAST)
def _gram(M, G):  # pragma: no cover - compiled
    """``G = M M^T`` (n, n): the lower triangle in 4 x 4 register blocks, then mirrored.

    Each entry is one dot product of two contiguous rows (vectorised over the column
    index, re-associated); half the products of a general matrix product.
    """
    n = M.shape[0]
    i = 0
    while i + 4 <= n:
        j = 0
        while j <= i:
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
            s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = 0.0
            for k in range(n):
                a0 = M[i, k]
                a1 = M[i + 1, k]
                a2 = M[i + 2, k]
                a3 = M[i + 3, k]
                b0 = M[j, k]
                b1 = M[j + 1, k]
                b2 = M[j + 2, k]
                b3 = M[j + 3, k]
                s00 += a0 * b0
                s01 += a0 * b1
                s02 += a0 * b2
                s03 += a0 * b3
                s10 += a1 * b0
                s11 += a1 * b1
                s12 += a1 * b2
                s13 += a1 * b3
                s20 += a2 * b0
                s21 += a2 * b1
                s22 += a2 * b2
                s23 += a2 * b3
                s30 += a3 * b0
                s31 += a3 * b1
                s32 += a3 * b2
                s33 += a3 * b3
            G[i, j] = s00
            G[i, j + 1] = s01
            G[i, j + 2] = s02
            G[i, j + 3] = s03
            G[i + 1, j] = s10
            G[i + 1, j + 1] = s11
            G[i + 1, j + 2] = s12
            G[i + 1, j + 3] = s13
            G[i + 2, j] = s20
            G[i + 2, j + 1] = s21
            G[i + 2, j + 2] = s22
            G[i + 2, j + 3] = s23
            G[i + 3, j] = s30
            G[i + 3, j + 1] = s31
            G[i + 3, j + 2] = s32
            G[i + 3, j + 3] = s33
            j += 4
        i += 4
    for r in range(i, n):  # rows left over when n is not a multiple of 4
        for c in range(r + 1):
            G[r, c] = _dot(M[r], M[c])
    for r in range(n):
        for c in range(r + 1, n):
            G[r, c] = G[c, r]


@_jit()
def _max_abs(A):  # pragma: no cover - compiled
    """``max |A_ij|`` of a finite 2-d array (n, m) (as :func:`_min_max`)."""
    m = A.shape[1]
    w = np.zeros(m)
    for i in range(A.shape[0]):
        Ai = A[i]
        for j in range(m):
            a = abs(Ai[j])
            w[j] = a if a > w[j] else w[j]
    r = 0.0
    for j in range(m):
        r = w[j] if w[j] > r else r
    return r


@_jit(fastmath=_FAST)
def _lambda1_bounds(G):  # pragma: no cover - compiled
    r"""Bounds on the largest eigenvalue of the symmetric G, its largest diagonal entry and
    :math:`\|G\|_F^2 = \sum_j \lambda_j^2`.

    ``max(max_i G_ii, 1^T G 1 / n) <= lambda_1 <= max_i sum_j |G_ij|`` (Rayleigh quotients
    and Gershgorin; the caller pads them by the rounding of the tridiagonalisation).
    """
    n = G.shape[0]
    dmax = 0.0
    hi = 0.0
    tot = 0.0
    fro = 0.0
    for i in range(n):
        Gi = G[i]
        r = 0.0
        rs = 0.0
        f = 0.0
        for j in range(n):
            r += abs(Gi[j])
            rs += Gi[j]
            f += Gi[j] * Gi[j]
        hi = max(hi, r)
        tot += rs
        fro += f
        dmax = max(dmax, Gi[i])
    return max(dmax, tot / n), hi, dmax, fro


@_jit()
def _four_rows(A, r, c):  # pragma: no cover - compiled
    """The rows r .. r+3 of A from column c on (views)."""
    return A[r, c:], A[r + 1, c:], A[r + 2, c:], A[r + 3, c:]


@_jit(fastmath=_FAST)
def _update_accumulate(A, k1, m, vp, wp, v, acc):  # pragma: no cover - compiled
    """For the rows of the trailing block ``T = A[k1:, k1:]`` (m x m), four at a time:
    ``T_i -= vp_i wp + wp_i vp`` (the pending rank-2 update), then ``acc += v_i T_i``."""
    i = 0
    while i + 4 <= m:
        r0, r1, r2, r3 = _four_rows(A, k1 + i, k1)
        a0 = vp[i]
        b0 = wp[i]
        c0 = v[i]
        a1 = vp[i + 1]
        b1 = wp[i + 1]
        c1 = v[i + 1]
        a2 = vp[i + 2]
        b2 = wp[i + 2]
        c2 = v[i + 2]
        a3 = vp[i + 3]
        b3 = wp[i + 3]
        c3 = v[i + 3]
        for j in range(m):
            wj = wp[j]
            vj = vp[j]
            x0 = r0[j] - (a0 * wj + b0 * vj)
            x1 = r1[j] - (a1 * wj + b1 * vj)
            x2 = r2[j] - (a2 * wj + b2 * vj)
            x3 = r3[j] - (a3 * wj + b3 * vj)
            r0[j] = x0
            r1[j] = x1
            r2[j] = x2
            r3[j] = x3
            acc[j] += (c0 * x0 + c1 * x1) + (c2 * x2 + c3 * x3)
        i += 4
    while i < m:
        row = A[k1 + i, k1:]
        a = vp[i]
        b = wp[i]
        ci = v[i]
        for j in range(m):
            x = row[j] - (a * wp[j] + b * vp[j])
            row[j] = x
            acc[j] += ci * x
        i += 1


@_jit(fastmath=_FAST)
def _accumulate(A, k1, m, v, acc):  # pragma: no cover - compiled
    """``acc += sum_i v_i T_i`` over the rows of ``T = A[k1:, k1:]`` (m x m), four at a time."""
    i = 0
    while i + 4 <= m:
        r0, r1, r2, r3 = _four_rows(A, k1 + i, k1)
        c0 = v[i]
        c1 = v[i + 1]
        c2 = v[i + 2]
        c3 = v[i + 3]
        for j in range(m):
            acc[j] += (c0 * r0[j] + c1 * r1[j]) + (c2 * r2[j] + c3 * r3[j])
        i += 4
    while i < m:
        row = A[k1 + i, k1:]
        ci = v[i]
        for j in range(m):
            acc[j] += ci * row[j]
        i += 1


@_jit(fastmath=_FAST)
def _tridiagonalise(A, d, e, v, w, vp, wp):  # pragma: no cover - compiled
    """Householder reduction of the symmetric A (n, n, destroyed) to tridiagonal (d, e).

    The maths of LAPACK ``dsytd2``: step k reflects rows/columns k+1.. so that column k
    is zero below the subdiagonal, ``p = tau T v``, ``w = p - (tau/2)(p.v) v``,
    ``T -= v w^T + w v^T`` on the trailing block ``T``. Fused: the rank-2 update of step
    k-1 is applied to each row of the trailing block in the same pass that accumulates
    ``T v`` for step k (as a sum of rows, ``T`` being symmetric), four rows at a time, so
    that ``T`` is read and written once per step. Full storage: every inner loop runs over
    a contiguous row. ``v, w, vp, wp`` are work vectors of length n.
    """
    n = A.shape[0]
    have = False  # a rank-2 update (vp, wp) of the previous step not yet applied
    for k in range(n - 2):
        m = n - k - 1
        rowk = A[k, k:]
        x2 = rowk[2:]
        sig = 0.0
        if have:  # row k (= column k) up to date, and the norm of its part below e_k
            a = vp[k]
            b = wp[k]
            rowk[0] -= a * wp[k] + b * vp[k]
            rowk[1] -= a * wp[k + 1] + b * vp[k + 1]
            vq = vp[k + 2 :]
            wq = wp[k + 2 :]
            for j in range(m - 1):
                y = x2[j] - (a * wq[j] + b * vq[j])
                x2[j] = y
                sig += y * y
        else:
            for j in range(m - 1):
                sig += x2[j] * x2[j]
        d[k] = rowk[0]
        alpha = rowk[1]
        vt = v[k + 1 :]
        wt = w[k + 1 :]
        vpt = vp[k + 1 :]
        wpt = wp[k + 1 :]
        if sig == 0.0:  # column k is already reduced: only the pending update remains
            e[k] = alpha
            if have:
                for i in range(m):
                    row = A[k + 1 + i, k + 1 :]
                    a = vpt[i]
                    b = wpt[i]
                    for j in range(m):
                        row[j] -= a * wpt[j] + b * vpt[j]
            have = False
            continue
        beta = -math.copysign(math.sqrt(alpha * alpha + sig), alpha)
        tau = (beta - alpha) / beta
        scal = 1.0 / (alpha - beta)
        e[k] = beta
        vt[0] = 1.0
        wt[0] = 0.0
        vs = vt[1:]
        ws = wt[1:]
        for j in range(m - 1):
            vs[j] = x2[j] * scal
            ws[j] = 0.0
        if have:
            _update_accumulate(A, k + 1, m, vpt, wpt, vt, wt)
        else:
            _accumulate(A, k + 1, m, vt, wt)
        pv = 0.0
        for j in range(m):
            wt[j] *= tau
            pv += wt[j] * vt[j]
        c = -0.5 * tau * pv
        for j in range(m):  # w = p - (tau/2)(p.v) v: the pending update of the next step
            wpt[j] = wt[j] + c * vt[j]
            vpt[j] = vt[j]
        have = True
    if have:  # the last 2 x 2 block
        for i in range(n - 2, n):
            a = vp[i]
            b = wp[i]
            for j in range(n - 2, n):
                A[i, j] -= a * wp[j] + b * vp[j]
    d[n - 2] = A[n - 2, n - 2]
    d[n - 1] = A[n - 1, n - 1]
    e[n - 2] = A[n - 2, n - 1]


#: shifts per multisection pass (independent Sturm recurrences, interleaved: the divisions overlap)
_P = 8


@_jit(fastmath={"contract"})
def _counts(d, e2, x, q, cnt, pivmin):  # pragma: no cover - compiled
    """cnt[p] = number of eigenvalues of the tridiagonal (d, e) below x[p] (Sturm, LAPACK dlaebz)."""
    for p in range(_P):
        qq = d[0] - x[p]
        qq = -pivmin if abs(qq) <= pivmin else qq
        q[p] = qq
        cnt[p] = 1 if qq < 0.0 else 0
    for i in range(1, d.shape[0]):
        di = d[i]
        ei = e2[i - 1]
        for p in range(_P):
            qq = (di - x[p]) - ei / q[p]
            qq = -pivmin if abs(qq) <= pivmin else qq
            q[p] = qq
            cnt[p] += 1 if qq < 0.0 else 0


@_jit()
def _newton_eval(d, e2, x, pivmin):  # pragma: no cover - compiled
    """Sturm count below x and ``s = d/dx log|det(T - xI)|`` in one pass of the LDL^T recurrence."""
    q = d[0] - x
    if abs(q) <= pivmin:
        q = -pivmin
    dq = -1.0
    c = 1 if q < 0.0 else 0
    r = 1.0 / q
    s = dq * r
    for i in range(1, d.shape[0]):
        ei = e2[i - 1]
        q = (d[i] - x) - ei * r
        dq = -1.0 + ei * dq * r * r
        if abs(q) <= pivmin:
            q = -pivmin
        if q < 0.0:
            c += 1
        r = 1.0 / q
        s += dq * r
    return c, s


@_jit()
def _multisect(d, e2, k, lo, hi, clo, chi, pivmin, x, q, cnt):  # pragma: no cover - compiled
    """One multisection pass: Sturm counts at ``_P`` equispaced shifts narrow [lo, hi]."""
    h = (hi - lo) / (_P + 1)
    for p in range(_P):
        x[p] = lo + h * (p + 1)
    _counts(d, e2, x, q, cnt, pivmin)
    nlo, nhi = lo, hi
    for p in range(_P):
        if cnt[p] <= k:
            if x[p] > nlo:
                nlo = x[p]
                clo = cnt[p]
        elif x[p] < nhi:
            nhi = x[p]
            chi = cnt[p]
    return nlo, nhi, clo, chi


@_jit()
def _isolate(d, e2, k, lo, hi, clo, chi, tol, pivmin, x, q, cnt):  # pragma: no cover - compiled
    """Multisection passes on [lo, hi] (Sturm counts ``clo <= k < chi``) until it holds the
    k-th eigenvalue alone or is ``<= tol`` wide; returns ``(lo, hi, clo, chi, stuck)``,
    ``stuck`` if a pass made no representable progress."""
    while hi - lo > tol and not (clo == k and chi == k + 1):
        nlo, nhi, clo, chi = _multisect(d, e2, k, lo, hi, clo, chi, pivmin, x, q, cnt)
        if nlo == lo and nhi == hi:
            return lo, hi, clo, chi, True
        lo, hi = nlo, nhi
    return lo, hi, clo, chi, False


@_jit()
def _kth(d, e2, k, lo, hi, clo, chi, atol, rtol, pivmin, x, q, cnt):  # pragma: no cover
    r"""The k-th smallest eigenvalue (0-based) of the tridiagonal in [lo, hi], to ``atol + rtol |x|``.

    ``clo <= k < chi`` are the Sturm counts at ``lo`` and ``hi``. Multisection passes
    narrow the bracket until it holds that eigenvalue alone (``clo == k``,
    ``chi == k + 1``); then Newton steps on :math:`\det(T - xI)` from ``hi``, each also a
    Sturm count that narrows the bracket. A Newton step that leaves the bracket, or that
    is not at least 4 times shorter than the previous one (a cluster nearby), is
    replaced by a multisection pass. Converged when a Newton step inside the bracket is
    ``<= tol`` or the bracket is ``<= tol`` wide.
    """
    tol = atol + rtol * max(abs(lo), abs(hi))
    lo, hi, clo, chi, stuck = _isolate(d, e2, k, lo, hi, clo, chi, tol, pivmin, x, q, cnt)
    if stuck:  # no representable progress
        return 0.5 * (lo + hi)
    xk = hi
    prev = np.inf
    for _ in range(200):
        tol = atol + rtol * max(abs(lo), abs(hi))
        if hi - lo <= tol:
            break
        c, s = _newton_eval(d, e2, xk, pivmin)
        if c <= k:
            lo = xk
        else:
            hi = xk
        step = 1.0 / s
        xn = xk - step
        inside = lo < xn < hi  # also False for a non-finite step
        if abs(step) <= tol:  # converged (a step outside is rounding noise at the root)
            return xn if inside else xk
        if not inside or abs(step) > 0.25 * prev:
            nlo, nhi, clo, chi = _multisect(d, e2, k, lo, hi, clo, chi, pivmin, x, q, cnt)
            if nlo == lo and nhi == hi:
                break
            lo, hi = nlo, nhi
            xn = hi
            prev = np.inf
        else:
            prev = abs(step)
        xk = xn
    return 0.5 * (lo + hi)


@_jit()
def _count_one(d, e2, x, pivmin):  # pragma: no cover - compiled
    c, _ = _newton_eval(d, e2, x, pivmin)
    return c


#: relative accuracy to which the two eigenvalues are resolved (beyond the float floor)
_RTOL = 1e-13


@_jit()
def _laguerre_eval(d, e2, x, pivmin):  # pragma: no cover - compiled
    r"""Sturm count below x, :math:`G = \sum_j 1/(x - \lambda_j)` and
    :math:`H = \sum_j 1/(x - \lambda_j)^2`, in one pass of the LDL^T recurrence.

    With the pivots :math:`q_i` of :math:`T - xI`, :math:`\log|\det| = \sum_i \log|q_i|`,
    so :math:`G = \sum_i q_i'/q_i` and :math:`H = \sum_i ((q_i'/q_i)^2 - q_i''/q_i)`, where
    :math:`q_i' = -1 + e_{i-1}^2 q_{i-1}'/q_{i-1}^2` and
    :math:`q_i'' = e_{i-1}^2 (q_{i-1}''/q_{i-1}^2 - 2 q_{i-1}'^2/q_{i-1}^3)`.
    """
    q = d[0] - x
    if abs(q) <= pivmin:
        q = -pivmin
    dq = -1.0
    ddq = 0.0
    c = 1 if q < 0.0 else 0
    r = 1.0 / q
    t = dq * r
    G = t
    H = t * t
    for i in range(1, d.shape[0]):
        ei = e2[i - 1]
        er2 = ei * r * r
        ddq = er2 * (ddq - 2.0 * dq * dq * r)
        dq = -1.0 + er2 * dq
        q = (d[i] - x) - ei * r
        if abs(q) <= pivmin:
            q = -pivmin
        if q < 0.0:
            c += 1
        r = 1.0 / q
        t = dq * r
        G += t
        H += t * t - ddq * r
    return c, G, H


@_jit()
def _laguerre_down(d, e2, x, pole, deflate, N, kcount, atol, rtol, pivmin):  # pragma: no cover
    r"""Laguerre's method from above to the largest eigenvalue below x, with a certificate.

    Counts the ``N`` eigenvalues that remain after the one at ``pole`` is divided out
    (Maehly's deflation, if ``deflate``); ``kcount`` is the Sturm count below the start
    (``n`` for :math:`\lambda_1`, ``n - 1`` for :math:`\lambda_2`: the wanted eigenvalue is the
    ``kcount``-th). For a polynomial with real roots, Laguerre's iterates from above the
    largest root decrease monotonically to it, cubically near it. Returns ``(value, ok)``;
    ``ok`` only with a Sturm-count certificate that the eigenvalue lies within
    ``atol + rtol |value|`` of ``value`` (otherwise the caller falls back to multisection).
    """
    for _ in range(60):
        c, G, H = _laguerre_eval(d, e2, x, pivmin)
        tol = atol + rtol * abs(x)
        if c != kcount:
            # the previous step overshot (rounding at the root): the eigenvalue is in
            # [x, previous x); certify [x, x + tol)
            if c == kcount - 1 and _count_one(d, e2, x + tol, pivmin) == kcount:
                return x, True
            return x, False
        if deflate:
            t = 1.0 / (x - pole)
            G -= t
            H -= t * t
        if not (G > 0.0 and math.isfinite(G) and math.isfinite(H)):
            return x, False
        disc = (N - 1.0) * (N * H - G * G)
        a = N / (G + math.sqrt(max(disc, 0.0)))
        xn = x - a
        if a <= tol:  # the eigenvalue is below x; certify [xn - tol, x)
            if _count_one(d, e2, xn - tol, pivmin) == kcount - 1:
                return xn, True
            return x, False
        x = xn
    return x, False


@_jit()
def _top2(d, e2, lo1, hi1, glo, fro, pad, pivmin, x, q, cnt):  # pragma: no cover - compiled
    r"""The two largest eigenvalues of the tridiagonal (d, e), ``lo1 <= lambda_1 <= hi1``.

    Each to ``2 eps lambda_1 + 1e-13 lambda`` (absolute): the float floor of the
    tridiagonal itself, plus a relative 1e-13 (a relative error of 5e-14 in sigma).
    :math:`\lambda_1` by Laguerre's method from ``hi1``; :math:`\lambda_2` is bracketed from
    above by :math:`\sqrt{\|G\|_F^2 - \lambda_1^2} \ge \lambda_2` (``fro`` is
    :math:`\|G\|_F^2`, padded for rounding, and checked by a Sturm count), isolated by
    multisection, then found by Laguerre's method with :math:`\lambda_1` divided out.
    Any step that cannot be certified by a Sturm count falls back to multisection and
    safeguarded Newton (:func:`_kth`).
    """
    n = d.shape[0]
    eps = 2.220446049250313e-16
    atol = 2.0 * eps * max(abs(lo1), abs(hi1)) + pivmin
    l1, ok = _laguerre_down(d, e2, hi1, 0.0, False, float(n), n, atol, _RTOL, pivmin)
    if not ok:  # multisection, then safeguarded Newton
        c_lo1 = _count_one(d, e2, lo1, pivmin)
        l1 = _kth(d, e2, n - 1, lo1, hi1, c_lo1, n, atol, _RTOL, pivmin, x, q, cnt)
    atol = 2.0 * eps * abs(l1) + pivmin
    # lambda_2: multisection until it is isolated, then Laguerre on det(T - xI) / (x - lambda_1)
    k = n - 2
    lo, hi, chi = glo, l1 + atol, -1
    # sum_{j >= 2} lambda_j^2 = |G|_F^2 - lambda_1^2 >= lambda_2^2, padded for the rounding of
    # both terms and for the tridiagonalisation
    ub = math.sqrt(max(fro - l1 * l1, 0.0) + 1e-12 * fro) + pad
    if ub < hi:
        cub = _count_one(d, e2, ub, pivmin)
        if cub > k:  # a valid upper end: lambda_2 < ub
            hi, chi = ub, cub
    if chi < 0:
        chi = _count_one(d, e2, hi, pivmin)
    tol = atol + _RTOL * abs(l1)
    lo, hi, clo, chi, _ = _isolate(d, e2, k, lo, hi, 0, chi, tol, pivmin, x, q, cnt)
    if clo == k and chi == k + 1 and hi < l1:
        l2, ok = _laguerre_down(d, e2, hi, l1, True, float(n - 1), n - 1, atol, _RTOL, pivmin)
        if ok and lo <= l2:
            return l1, l2
    # not certified: multisection and safeguarded Newton in the bracket found so far
    return l1, _kth(d, e2, k, lo, hi, clo, chi, atol, _RTOL, pivmin, x, q, cnt)


@_jit()
def _gram_top2_range(M, l1, l2, c, finite):  # pragma: no cover - compiled
    """l1[b], l2[b] = the two largest eigenvalues of (M[b] / c[b]) (M[b] / c[b])^T.

    ``finite[b]`` tells whether M[b] is finite (NaN or inf reach the Gram matrix, whose
    squared Frobenius norm is then not finite; only then are the entries checked one by
    one); for a non-finite M[b] the eigenvalues are NaN.

    ``c[b]`` is 1, or the power of two of :func:`dsmlib._validate.pow2_scale` where the
    largest entry of ``M[b]`` lies outside ``[2**-256, 2**256]``.
    """
    n = M.shape[1]
    d = np.empty(n)
    e = np.empty(n)
    e2 = np.empty(n)
    v = np.empty(n)
    w = np.empty(n)
    vp = np.empty(n)
    wp = np.empty(n)
    G = np.empty((n, n))
    x = np.empty(_P)
    q = np.empty(_P)
    cnt = np.empty(_P, dtype=np.int64)
    eps = 2.220446049250313e-16
    for b in range(M.shape[0]):
        Mb = M[b]
        _gram(Mb, G)
        lo1, hi1, dmax, fro = _lambda1_bounds(G)
        finite[b] = math.isfinite(fro) or _all_finite(Mb)
        if not finite[b]:
            l1[b] = np.nan
            l2[b] = np.nan
            c[b] = 1.0
            continue
        cb = 1.0
        # max|M_ij|^2 <= max_i G_ii <= n max|M_ij|^2: the largest entry lies outside
        # [2**-SAFE, 2**SAFE] only if max_i G_ii / n < 2**(-2 SAFE) or max_i G_ii > 2**(2 SAFE);
        # only then is it computed (and the Gram product redone on the scaled matrix)
        if not (2.0 ** (-2 * _SAFE_EXP) <= dmax / n and dmax <= 2.0 ** (2 * _SAFE_EXP)):
            m = _max_abs(Mb)
            if m != 0.0 and not (2.0**-_SAFE_EXP <= m <= 2.0**_SAFE_EXP):
                cb = math.ldexp(1.0, math.frexp(m)[1] - 1)
                Mb = Mb / cb  # dsmlib._validate.pow2_scale: an exact power of two keeps M M^T in range
                _gram(Mb, G)
                lo1, hi1, dmax, fro = _lambda1_bounds(G)
        c[b] = cb
        if hi1 == 0.0:  # M = 0
            l1[b] = 0.0
            l2[b] = 0.0
            continue
        _tridiagonalise(G, d, e, v, w, vp, wp)
        glo = np.inf
        ghi = -np.inf
        emax = 0.0
        for i in range(n):
            r = 0.0
            if i > 0:
                r += abs(e[i - 1])
            if i < n - 1:
                r += abs(e[i])
                e2[i] = e[i] * e[i]
                emax = max(emax, e2[i])
            glo = min(glo, d[i] - r)
            ghi = max(ghi, d[i] + r)
        e2[n - 1] = 0.0
        if emax == 0.0:  # diagonal: the eigenvalues are d, exactly
            a1 = -np.inf
            a2 = -np.inf
            for i in range(n):
                if d[i] > a1:
                    a2 = a1
                    a1 = d[i]
                elif d[i] > a2:
                    a2 = d[i]
            l1[b] = a1
            l2[b] = a2
            continue
        # the tridiagonal is similar to G up to rounding: widen the bounds by its error
        pad = 4.0 * n * eps * max(abs(glo), abs(ghi), hi1)
        glo -= pad
        hi1 = min(hi1, ghi) + pad
        lo1 = max(lo1 - pad, glo)
        pivmin = 2.2250738585072014e-308 * max(1.0, emax)
        l1[b], l2[b] = _top2(d, e2, lo1, hi1, glo, fro, pad, pivmin, x, q, cnt)


# ------------------------------------------------------------------- Python wrappers


def _chunks(total: int, size: int) -> list[tuple[int, int]]:
    """[lo, hi) chunks of ``max(size, 1)`` items covering [0, total)."""
    size = max(1, size)  # a single matrix larger than a chunk (n > 362) is a chunk of its own
    return [(lo, min(lo + size, total)) for lo in range(0, total, size)]


def _run_chunks(name: str, task, total: int, size: int) -> None:
    """``task((lo, hi))`` over chunks of [0, total) on threads.

    The first call of a kernel in the process runs ``task((0, 1))`` alone first: it
    compiles the kernel (or loads it from the disk cache), and its time is recorded.
    """
    from ._parallel import thread_map

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
    M : ndarray, shape (B, n, n)
        Float64, ``n >= 2``; a ValueError names ``name`` if any entry is NaN or infinite
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
    B, n = M.shape[0], M.shape[-1]
    l1 = np.empty(B)
    l2 = np.empty(B)
    c = np.empty(B)
    finite = np.ones(B, dtype=np.bool_)

    def task(ch: tuple[int, int]) -> None:
        lo, hi = ch
        _gram_top2_range(M[lo:hi], l1[lo:hi], l2[lo:hi], c[lo:hi], finite[lo:hi])

    _run_chunks("sigma2", task, B, _CHUNK_ENTRIES // (n * n))
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
