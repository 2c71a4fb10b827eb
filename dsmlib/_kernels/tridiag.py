r"""sigma_2, part 1: the Gram product and the Householder tridiagonalisation (see :mod:`dsmlib._kernels`).

The lower triangle of :math:`MM^\top` in 4 x 4 register blocks, the bounds on
:math:`\lambda_1`, and a fused Householder tridiagonalisation (LAPACK ``dsytd2``'s maths)
four rows at a time. The eigenvalue search is in :mod:`dsmlib._kernels.eigen`.
"""

from __future__ import annotations

import math

import numpy as np

from ._compile import _jit
from .sinkhorn import _FAST, _dot

@_jit(fastmath=_FAST)
def _gram(M, G):  # pragma: no cover - compiled
    """``G = M M^T`` (n, n) of M (n, m): the lower triangle in 4 x 4 register blocks, then mirrored.

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
            for k in range(M.shape[1]):
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
