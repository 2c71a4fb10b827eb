"""Chapter 2, Sinkhorn scaling and shift invariance (RC-SK, RC-SHIFT), the projection Q (RC-P2, RC-P3),
the first-order expansion (RC-L1), and attention spread and convergence on random scores."""

from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np
from numpy.typing import ArrayLike, NDArray
from .... import q_project, row_softmax, sinkhorn
from ....cache import disk_cached

from .common import row_entropy
from .spectra import attention_scores, marginal_error_trace

__all__ = [
    "AttentionConfig",
    "AttentionResult",
    "CONV_TOLS",
    "ExpansionConfig",
    "ExpansionResult",
    "QConfig",
    "QResult",
    "ScalingConfig",
    "ScalingResult",
    "_EXACT",
    "_q_matrix",
    "attention_experiment",
    "expansion_experiment",
    "loglog_slope",
    "q_experiment",
    "q_project_vec",
    "scaling_experiment",
]


# ============================================================== RC-SK and RC-SHIFT
@dataclass(frozen=True)
class ScalingConfig:
    """Uniqueness of the Sinkhorn scaling and shift invariance, converged to ``tol``."""

    n: int = 64
    trials: int = 1000
    score_scales: tuple[float, ...] = (0.5, 2.0)
    n_iter: int = 20000
    tol: float = 1e-13
    n_pot: int = 20
    seed: int = 3
    attn_n: int = 50
    attn_d_model: int = 128
    attn_d_qk: int = 32


@dataclass(frozen=True)
class ScalingResult:
    """Max-abs differences, per score scale (axis 0), of Sinkhorn limits that must coincide.

    Attributes
    ----------
    diff_scaled : Sinkhorn(S) vs Sinkhorn(S + log a 1^T + 1 log b^T) (= D_a Y D_b), (ns, R)
    diff_transpose : vs the column-first alternation Sinkhorn(S^T)^T, (ns, R)
    diff_pot : vs POT's ot.sinkhorn (log domain) on the first n_pot matrices, (ns, n_pot)
    form_residual : ||Q(log S - scores)||_F / ||Q(scores)||_F: log S - scores is a + b^T, (ns, R)
    marginal_err : final marginal error, (ns, R)
    diff_eq19 : Sinkhorn with biased queries/keys (RC Eq. 19) vs Sinkhorn(X W_QK X^T), (R,)
    softmax_col_shift : Softmax changes under a column shift (contrast), (R,)
    softmax_row_shift : Softmax under a row shift (invariant), (R,)
    """

    config: ScalingConfig
    diff_scaled: np.ndarray
    diff_transpose: np.ndarray
    diff_pot: np.ndarray
    form_residual: np.ndarray
    marginal_err: np.ndarray
    diff_eq19: np.ndarray
    softmax_col_shift: np.ndarray
    softmax_row_shift: np.ndarray


@disk_cached
def scaling_experiment(config: ScalingConfig = ScalingConfig()) -> ScalingResult:
    """Sinkhorn's theorem (RC App. A) and the shift invariance (RC Eq. 19), converged to ``tol``."""
    import ot

    rng = np.random.default_rng(config.seed)
    n, R = config.n, config.trials
    kw = dict(n_iter=config.n_iter, tol=config.tol, warn=False)
    ds, dt, dp, fr, me = [], [], [], [], []
    a_pot = np.full(n, 1.0 / n)
    for sc in config.score_scales:
        S = sc * rng.standard_normal((R, n, n))
        la = 3.0 * rng.standard_normal((R, n, 1))
        lb = 3.0 * rng.standard_normal((R, 1, n))
        M, info = sinkhorn(S, return_info=True, **kw)
        M2 = sinkhorn(S + la + lb, **kw)
        Mt = np.swapaxes(sinkhorn(np.swapaxes(S, -1, -2), **kw), -1, -2)
        ds.append(np.abs(M - M2).max(axis=(-2, -1)))
        dt.append(np.abs(M - Mt).max(axis=(-2, -1)))
        G = np.stack([  # an independent implementation, looped over a few matrices only
            n * ot.sinkhorn(a_pot, a_pot, -S[i], reg=1.0, method="sinkhorn_log",
                            numItermax=config.n_iter, stopThr=config.tol / n)
            for i in range(config.n_pot)
        ])
        dp.append(np.abs(M[: config.n_pot] - G).max(axis=(-2, -1)))
        fr.append(np.linalg.norm(q_project(np.log(M) - S), axis=(-2, -1)) / np.linalg.norm(q_project(S), axis=(-2, -1)))
        me.append(info.err)
    A, (X, WQ, WK, bQ, bK) = attention_scores(config.attn_n, config.attn_d_model, config.attn_d_qk, R, rng, bias=True)
    Ab = (X @ WQ + bQ) @ np.swapaxes(X @ WK + bK, -1, -2) / np.sqrt(config.attn_d_qk)
    d19 = np.abs(sinkhorn(Ab, **kw) - sinkhorn(A, **kw)).max(axis=(-2, -1))
    P = row_softmax(A)
    col = np.abs(row_softmax(A + 3.0 * rng.standard_normal((R, 1, config.attn_n))) - P).max(axis=(-2, -1))
    row = np.abs(row_softmax(A + 3.0 * rng.standard_normal((R, config.attn_n, 1))) - P).max(axis=(-2, -1))
    return ScalingResult(config, np.array(ds), np.array(dt), np.array(dp), np.array(fr), np.array(me), d19, col, row)


_EXACT = 1e-10  # "the same matrix" for limits computed to marginal error 1e-13


# ============================================================== RC-P2 and RC-P3
@dataclass(frozen=True)
class QConfig:
    """Properties of Q on random matrices of several ranks and kinds."""

    n: int = 64
    trials: int = 200
    ranks: tuple[int, ...] = (1, 2, 4, 16, 64)
    kinds: tuple[str, ...] = ("gaussian", "positive", "flat-tangent")
    n_explicit: int = 6
    seed: int = 5


@dataclass(frozen=True)
class QResult:
    """RC Props 2-3 measurements.

    Attributes
    ----------
    p2 : dict of float, the maximal errors of each property of Prop. 2
    ratio : (nkinds, nranks, trials) ||Q(Y)||_F / (sqrt(rank Y) ||Y||_2) -- the lambda needed
    spec_le_fro : (nkinds, nranks, trials) ||Q(Y)||_2 / ||Q(Y)||_F (<= 1)
    spec_ratio : (nkinds, nranks, trials) ||Q(Y)||_2 / ||Y||_2
    rank_ok : bool, the constructed ranks were the numerical ranks
    q_of_shift : ||Q(a 1^T + 1 b^T)||_F (zero: the edge case)
    """

    config: QConfig
    p2: dict = field(hash=False)
    ratio: np.ndarray = field(hash=False)
    spec_le_fro: np.ndarray = field(hash=False)
    spec_ratio: np.ndarray = field(hash=False)
    rank_ok: bool = True
    q_of_shift: float = 0.0


def _q_matrix(n: int) -> NDArray[np.float64]:
    """Q as an (n^2, n^2) matrix, built from Eq. 14 applied to the elementary matrices."""
    E = np.eye(n * n).reshape(n * n, n, n)
    J = np.ones((n, n))
    Q = E - J @ E / n - E @ J / n + J @ E @ J / n**2
    return Q.reshape(n * n, n * n).T


@disk_cached
def q_experiment(config: QConfig = QConfig()) -> QResult:
    """Check Prop. 2 to rounding and measure the smallest lambda of Prop. 3."""
    rng = np.random.default_rng(config.seed)
    n, R = config.n, config.trials
    Y, Z = rng.standard_normal((R, n, n)), rng.standard_normal((R, n, n))
    QY, QZ = q_project(Y), q_project(Z)
    one = np.ones((n, 1))
    J = one @ one.T
    U = np.eye(n) - J / n
    eq14 = Y - J @ Y / n - Y @ J / n + J @ Y @ J / n**2
    H = q_project(rng.standard_normal((R, n, n)))  # arbitrary points of T_DS
    scale = np.linalg.norm(Y, axis=(-2, -1))
    dist_q = np.linalg.norm(Y - QY, axis=(-2, -1)) ** 2
    dist_h = np.linalg.norm(Y - H, axis=(-2, -1)) ** 2
    Qm = _q_matrix(config.n_explicit)
    p2 = {
        "tangent (|Q(Y)1|, |1^T Q(Y)|)": float(max(np.abs(QY.sum(-1)).max(), np.abs(QY.sum(-2)).max()) / scale.max()),
        "idempotent |Q(Q(Y)) - Q(Y)|": float(np.abs(q_project(QY) - QY).max()),
        "self-adjoint |<Q(Y),Z> - <Y,Q(Z)>|": float(np.abs((QY * Z).sum((-2, -1)) - (Y * QZ).sum((-2, -1))).max()),
        "orthogonal |<Q(Y), Y - Q(Y)>|": float(np.abs((QY * (Y - QY)).sum((-2, -1))).max()),
        "UYU = Eq. 14": float(np.abs(U @ Y @ U - eq14).max()),
        "q_project = Eq. 14": float(np.abs(QY - eq14).max()),
        "Pythagoras |Y-H|^2 - |Y-Q(Y)|^2 - |Q(Y)-H|^2": float(
            np.abs(dist_h - dist_q - np.linalg.norm(QY - H, axis=(-2, -1)) ** 2).max() / dist_h.max()
        ),
        "closest point (min |Y-H|^2 - |Y-Q(Y)|^2, >= 0)": float((dist_h - dist_q).min()),
        "explicit Q symmetric": float(np.abs(Qm - Qm.T).max()),
        "explicit Q idempotent": float(np.abs(Qm @ Qm - Qm).max()),
        "explicit rank - (n-1)^2": float(np.linalg.matrix_rank(Qm) - (config.n_explicit - 1) ** 2),
    }
    ratio = np.empty((len(config.kinds), len(config.ranks), R))
    sf, sr = np.empty_like(ratio), np.empty_like(ratio)
    rank_ok = True
    for a, kind in enumerate(config.kinds):
        for b, r in enumerate(config.ranks):
            if kind == "gaussian":
                Yr = rng.standard_normal((R, n, r)) @ rng.standard_normal((R, r, n))
            elif kind == "positive":
                Yr = rng.random((R, n, r)) @ rng.random((R, r, n))
            elif kind == "flat-tangent":  # Y in T_DS with r equal singular values: the extreme case
                re = min(r, n - 1)  # T_DS has no matrix of rank n
                A = np.linalg.qr(q_project_vec(rng.standard_normal((R, n, re))))[0]
                B = np.linalg.qr(q_project_vec(rng.standard_normal((R, n, re))))[0]
                Yr = A @ np.swapaxes(B, -1, -2)
            else:
                raise ValueError(f"unknown kind {kind!r}")
            s = np.linalg.svd(Yr, compute_uv=False)
            rk = (s > s[:, :1] * n * np.finfo(float).eps).sum(axis=-1)
            rank_ok &= bool(np.all(rk == min(r, n - 1) if kind == "flat-tangent" else rk == r))
            Qr = q_project(Yr)
            fro = np.linalg.norm(Qr, axis=(-2, -1))
            spec = np.linalg.svd(Qr, compute_uv=False)[:, 0]
            ratio[a, b] = fro / (np.sqrt(rk) * s[:, 0])
            sf[a, b] = spec / fro
            sr[a, b] = spec / s[:, 0]
    a_, b_ = rng.standard_normal((n, 1)), rng.standard_normal((1, n))
    qs = float(np.linalg.norm(q_project(a_ @ np.ones((1, n)) + np.ones((n, 1)) @ b_)))
    return QResult(config, p2, ratio, sf, sr, rank_ok, qs)


def q_project_vec(V: NDArray[np.float64]) -> NDArray[np.float64]:
    """Centre the columns of ``V`` (shape (..., n, r)): project each onto V_perp."""
    return V - V.mean(axis=-2, keepdims=True)


# ============================================================== RC-L1
@dataclass(frozen=True)
class ExpansionConfig:
    """Sinkhorn(tY) - J/n as t -> 0, for several n."""

    ns: tuple[int, ...] = (8, 16, 64)
    ts: tuple[float, ...] = tuple(float(f"{t:.6g}") for t in np.logspace(-5, 0, 11))
    trials: int = 100
    n_iter: int = 10000
    tol: float = 1e-14
    seed: int = 7


@dataclass(frozen=True)
class ExpansionResult:
    r"""Relative residuals, shape (len(ns), len(ts), trials), normalised by ||Q(Y)||_F / n.

    Attributes
    ----------
    res_n : ||(Sinkhorn(tY) - J/n)/t - Q(Y)/n||
    res_n2 : ||(Sinkhorn(tY) - J/n)/t - Q(Y)/n^2||  (the paper's coefficient)
    res_one : ||(C_norm(R_norm(e^{tY})) - J/n)/t - Q(Y)/n|| (one iteration of Eq. 13)
    coef : (len(ns), trials) fitted c in Sinkhorn(tY) ~ J/n + c t Q(Y) at the smallest t, times n

    The composition of softmaxes of RC Prop. 4 is a different operator, judged on its own
    (RC-P4, :mod:`dsmlib.experiments.ch02.expansion`).
    """

    config: ExpansionConfig
    res_n: np.ndarray
    res_n2: np.ndarray
    res_one: np.ndarray
    coef: np.ndarray


@disk_cached
def expansion_experiment(config: ExpansionConfig = ExpansionConfig()) -> ExpansionResult:
    """Measure the coefficient of t in Sinkhorn(tY) at t -> 0 (RC Lemma 1)."""
    rng = np.random.default_rng(config.seed)
    rn, rn2, rone, coef = [], [], [], []
    for n in config.ns:
        Y = rng.standard_normal((config.trials, n, n))
        QY = q_project(Y)
        norm = np.linalg.norm(QY, axis=(-2, -1)) / n
        a, b, e = [], [], []
        for t in config.ts:
            D = (sinkhorn(t * Y, n_iter=config.n_iter, tol=config.tol, warn=False) - 1.0 / n) / t
            a.append(np.linalg.norm(D - QY / n, axis=(-2, -1)) / norm)
            b.append(np.linalg.norm(D - QY / n**2, axis=(-2, -1)) / norm)
            K = np.exp(t * Y)
            K = K / K.sum(-1, keepdims=True)
            K = K / K.sum(-2, keepdims=True)
            e.append(np.linalg.norm((K - 1.0 / n) / t - QY / n, axis=(-2, -1)) / norm)
        t0 = config.ts[0]
        D0 = (sinkhorn(t0 * Y, n_iter=config.n_iter, tol=config.tol, warn=False) - 1.0 / n) / t0
        coef.append(n * (D0 * QY).sum((-2, -1)) / (QY * QY).sum((-2, -1)))
        rn.append(a), rn2.append(b), rone.append(e)
    A = lambda x: np.array(x)  # noqa: E731
    return ExpansionResult(config, A(rn), A(rn2), A(rone), A(coef))


def loglog_slope(ts: ArrayLike, res: ArrayLike, t_max: float = 1e-2) -> float:
    """Least-squares slope of log(median residual) vs log t over t <= t_max."""
    ts, res = np.asarray(ts), np.asarray(res)
    m = ts <= t_max
    return float(np.polyfit(np.log(ts[m]), np.log(np.median(res, axis=-1)[m]), 1)[0])


# ============================================================== RC-F1 and RC-CONV
@dataclass(frozen=True)
class AttentionConfig:
    """Attention-like scores shaped like RC's MNIST ViT (50 tokens, d_model 128, 4 heads)."""

    n: int = 50
    d_model: int = 128
    d_qk: int = 32
    scales: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
    trials: int = 500
    n_iter_attention: int = 50  # RC App. F: 50 Sinkhorn iterations
    trace_iter: int = 200
    seed: int = 11


@dataclass(frozen=True)
class AttentionResult:
    """Per scale (axis 0) and draw (axis 1).

    Attributes
    ----------
    rowH_softmax, rowH_sinkhorn : mean row entropy (nats)
    max_softmax, max_sinkhorn : largest entry
    s2_softmax, s2_sinkhorn : sigma_2
    colsum_max_softmax : largest column sum of Softmax (Sinkhorn's are 1)
    trace : (nscales, trace_iter, trials) marginal error after k = 1..trace_iter iterations
    example_scores : (n, n) one score matrix (scale 1) for the side-by-side maps
    """

    config: AttentionConfig
    rowH_softmax: np.ndarray
    rowH_sinkhorn: np.ndarray
    max_softmax: np.ndarray
    max_sinkhorn: np.ndarray
    s2_softmax: np.ndarray
    s2_sinkhorn: np.ndarray
    colsum_max_softmax: np.ndarray
    trace: np.ndarray
    example_scores: np.ndarray


@disk_cached
def attention_experiment(config: AttentionConfig = AttentionConfig()) -> AttentionResult:
    """Softmax vs Sinkhorn on the same attention-like scores, and Sinkhorn's marginal error vs k."""
    rng = np.random.default_rng(config.seed)
    A, _ = attention_scores(config.n, config.d_model, config.d_qk, config.trials, rng)
    keys = ("hs", "hk", "ms", "mk", "ss", "sk", "cs", "tr")
    out = {k: [] for k in keys}
    for sc in config.scales:
        S = sc * A
        P = row_softmax(S)
        M = sinkhorn(S, n_iter=config.n_iter_attention, tol=0.0, warn=False)
        out["hs"].append(row_entropy(P))
        out["hk"].append(row_entropy(M))
        out["ms"].append(P.max(axis=(-2, -1)))
        out["mk"].append(M.max(axis=(-2, -1)))
        out["ss"].append(np.linalg.svd(P, compute_uv=False)[:, 1])
        out["sk"].append(np.linalg.svd(M, compute_uv=False)[:, 1])
        out["cs"].append(P.sum(axis=-2).max(axis=-1))
        out["tr"].append(marginal_error_trace(S, config.trace_iter))
    a = {k: np.array(v) for k, v in out.items()}
    return AttentionResult(config, a["hs"], a["hk"], a["ms"], a["mk"], a["ss"], a["sk"], a["cs"], a["tr"], A[0])


#: "effectively doubly stochastic": marginal error at most this after 50 iterations, in >= 99% of draws
CONV_TOLS = (1e-3, 1e-6)
