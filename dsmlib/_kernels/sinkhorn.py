"""Sinkhorn scaling kernels: one matrix at a time, in cache (see :mod:`dsmlib._kernels`).

Plain scaling ``diag(u) K diag(v)`` of ``K = exp(S / div - max)`` and the log-stabilised
path (Schmitzer 2019), the fused validation/shift pass and the per-chunk driver
:func:`_iterate`. Compiled on first use; the Python wrapper is
:func:`dsmlib._kernels.dispatch.sinkhorn_scaled`.
"""

from __future__ import annotations

import math

import numpy as np

from ._compile import _jit

#: absorb the scalings into the log-domain potentials beyond exp(+-69) (about 1e30)
ABSORB = 69.0

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
