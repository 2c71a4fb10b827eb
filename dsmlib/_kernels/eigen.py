"""sigma_2, part 2: the two largest eigenvalues of the tridiagonal matrix (see :mod:`dsmlib._kernels`).

Sturm counts and multisection, safeguarded Newton, Laguerre's method from above with
Sturm-count certificates, and the per-chunk driver :func:`_gram_top2_range` (Gram product,
tridiagonalisation, top two eigenvalues, with the matrix in cache).
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import SAFE_EXP as _SAFE_EXP
from ._compile import _jit
from .sinkhorn import _FAST, _all_finite
from .tridiag import _gram, _lambda1_bounds, _max_abs, _tridiagonalise

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
    n, ncol = M.shape[1], M.shape[2]
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
        # max|M_ij|^2 <= max_i G_ii <= ncol max|M_ij|^2: the largest entry lies outside
        # [2**-SAFE, 2**SAFE] only if max_i G_ii / ncol < 2**(-2 SAFE) or max_i G_ii > 2**(2 SAFE);
        # only then is it computed (and the Gram product redone on the scaled matrix)
        if not (2.0 ** (-2 * _SAFE_EXP) <= dmax / ncol and dmax <= 2.0 ** (2 * _SAFE_EXP)):
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
