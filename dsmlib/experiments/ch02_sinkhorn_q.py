r"""Chapter 2: Sinkhorn, temperature, and the Q-projection (claims HT-ALG1 ... RC-SKA).

Experiments (config in, dataclass of arrays out, disk-cached) and the claim checks of
``chapters/02_sinkhorn_and_q.ipynb``. This module holds the first edition's experiments and
re-exports the rest of the chapter from the package :mod:`dsmlib.experiments.ch02`, so
``from dsmlib.experiments import ch02_sinkhorn_q as ch`` reaches everything:

* :func:`sweep_experiment` -- HT Algorithm 1 over a temperature grid (HT-E1);
* :func:`alg1_experiment` -- does Algorithm 1 return DSMs, over five seed blocks (HT-ALG1);
* :func:`agg_experiment`, :func:`grad_experiment` -- Sinkhorn vs Softmax on
  :math:`\mathcal V_\perp`, and the Jacobian of the projection (HT-AGG, HT-GRAD);
* :func:`spectral_experiment` -- effective depth, non-normality, powers on
  :math:`\mathcal V_\perp` (HT-T2, HT-R2);
* :func:`scaling_experiment` -- uniqueness of the Sinkhorn scaling and its shift
  invariance (RC-SK, RC-SHIFT);
* :func:`q_experiment` -- the projection Q and its norm bound (RC-P2, RC-P3);
* :func:`expansion_experiment` -- the first-order expansion of Sinkhorn at 0 (RC-L1);
* :func:`p4_experiment` -- RC Prop. 4's composition of softmaxes (RC-P4);
* :func:`ska_experiment` -- Sinkhorn-Knopp for non-negative matrices (RC-SKA);
* :func:`attention_experiment`, :func:`entropy_order_experiment` -- Softmax vs Sinkhorn on
  attention-like scores and the marginal error vs iterations: context for RC-F1 and
  RC-CONV, which chapter 6 judges on trained maps (no check registered here).

All random draws are seeded explicitly; nothing loops over trials in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from .. import entropy, q_project, row_softmax, sinkhorn
from .._validate import as_square_batch, check_n_iter
from ..cache import disk_cached
from ..verdicts import Verdict, severity, verdict
from ._format import sig as _sig
from ._format import small as fmt_small
from .ch02.benchmark import *  # noqa: F401,F403
from .ch02.benchmark import __all__ as _all_benchmark
from .ch02.common import TEMPERATURES, algorithm1_costs, column_softmax
from .ch02.common import row_entropy as _row_entropy
from .ch02.common import sig_range as _range
from .ch02.common import tex as _tex
from .ch02.convergence import *  # noqa: F401,F403
from .ch02.convergence import __all__ as _all_convergence
from .ch02.entropy_order import *  # noqa: F401,F403
from .ch02.entropy_order import __all__ as _all_entropy
from .ch02.expansion import *  # noqa: F401,F403
from .ch02.expansion import __all__ as _all_expansion
from .ch02.filtering import *  # noqa: F401,F403
from .ch02.filtering import __all__ as _all_filtering
from .ch02.nonnegative import *  # noqa: F401,F403
from .ch02.nonnegative import __all__ as _all_nonnegative

__all__ = [
    "TEMPERATURES",
    "AttentionConfig",
    "AttentionResult",
    "ExpansionConfig",
    "ExpansionResult",
    "QConfig",
    "QResult",
    "ScalingConfig",
    "ScalingResult",
    "SpectralConfig",
    "SpectralResult",
    "SweepConfig",
    "SweepResult",
    "algorithm1_costs",
    "attention_experiment",
    "attention_scores",
    "column_softmax",
    "fmt_small",
    "expansion_experiment",
    "marginal_error_trace",
    "q_experiment",
    "scaling_experiment",
    "spectral_experiment",
    "story_figure",
    "sweep_experiment",
]
__all__ += _all_benchmark + _all_convergence + _all_entropy + _all_expansion + _all_filtering + _all_nonnegative


def marginal_error_trace(scores: ArrayLike, n_iter: int) -> NDArray[np.float64]:
    r"""Maximal marginal error after each of ``n_iter`` Sinkhorn iterations, batched.

    One iteration is a row step then a column step (as in :func:`dsmlib.sinkhorn`), so the
    column sums are exact and the error is :math:`\max_i |(M_k\mathbf 1)_i - 1|`. Plain
    diagonal scaling of :math:`K = e^{S-\max S}`, valid while the score range of each
    matrix stays below 600 (no underflow of :math:`K` in float64).

    Parameters
    ----------
    scores : array_like, shape (..., n, n)
        Finite scores with ``max - min < 600`` per matrix.
    n_iter : int
        Number of iterations (``>= 1``).

    Returns
    -------
    ndarray, shape (n_iter, ...)
        ``trace[k-1]`` is the error after ``k`` iterations.
    """
    S = as_square_batch(scores, "scores")
    n_iter = check_n_iter(n_iter)
    span = S.max(axis=(-2, -1)) - S.min(axis=(-2, -1))
    if np.any(span >= 600):
        raise ValueError("scores: a matrix has score range >= 600; plain scaling would underflow")
    shape, n = S.shape[:-2], S.shape[-1]
    K = np.exp(S - S.max(axis=(-2, -1), keepdims=True)).reshape(-1, n, n)
    Kv = K.sum(axis=-1)  # K v with v = 1
    out = np.empty((n_iter, K.shape[0]))
    for k in range(n_iter):
        u = 1.0 / Kv  # row step
        v = 1.0 / np.einsum("bij,bi->bj", K, u)  # column step
        Kv = np.einsum("bij,bj->bi", K, v)  # reused by the next row step
        out[k] = np.abs(u * Kv - 1.0).max(axis=-1)
    return out.reshape((n_iter,) + shape)


def attention_scores(
    n: int, d_model: int, d_qk: int, trials: int, rng: np.random.Generator, *, bias: bool = False
):
    r"""Attention-like scores :math:`A = X W_Q (X W_K)^\top/\sqrt{d_{qk}}` from Gaussian draws.

    Tokens :math:`X_{ij}\sim\mathcal N(0,1)`, weights :math:`\sim\mathcal N(0, 1/d_{model})`,
    so every score has unit variance; multiply by a scale to sharpen.

    Returns
    -------
    A : ndarray, shape (trials, n, n)
    parts : tuple
        ``(X, WQ, WK, bQ, bK)`` (biases zero unless ``bias``), for RC Eq. 19.
    """
    if min(n, d_model, d_qk, trials) < 1:
        raise ValueError("n, d_model, d_qk and trials must be positive")
    X = rng.standard_normal((trials, n, d_model))
    WQ = rng.standard_normal((trials, d_model, d_qk)) / np.sqrt(d_model)
    WK = rng.standard_normal((trials, d_model, d_qk)) / np.sqrt(d_model)
    if bias:
        bQ = rng.standard_normal((trials, 1, d_qk))
        bK = rng.standard_normal((trials, 1, d_qk))
    else:
        bQ = bK = np.zeros((trials, 1, d_qk))
    A = (X @ WQ) @ np.swapaxes(X @ WK, -1, -2) / np.sqrt(d_qk)
    return A, (X, WQ, WK, bQ, bK)


# ============================================================== HT Algorithm 1 sweep
@dataclass(frozen=True)
class SweepConfig:
    """HT Exp. 1: Algorithm 1 at each temperature, R = len(seeds) * per_seed trials."""

    n: int = 64
    temperatures: tuple[float, ...] = TEMPERATURES
    seeds: tuple[int, ...] = tuple(range(10))
    per_seed: int = 100
    n_iter: int = 200
    tol: float = 1e-6


@dataclass(frozen=True)
class SweepResult:
    """Per temperature (axis 0) and trial (axis 1).

    Attributes
    ----------
    temperatures : (nT,)
    sigma1, sigma2, entropy, err : (nT, R) float
    n_iter : (nT, R) int
    converged : (nT, R) bool
    """

    config: SweepConfig
    temperatures: np.ndarray
    sigma1: np.ndarray
    sigma2: np.ndarray
    entropy: np.ndarray
    err: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray

    @property
    def n_converged(self) -> np.ndarray:
        """Number of converged runs per temperature, shape (nT,)."""
        return self.converged.sum(axis=1)


@disk_cached
def sweep_experiment(config: SweepConfig = SweepConfig()) -> SweepResult:
    """Run HT Algorithm 1 (R trials per temperature, same costs at every T)."""
    d = algorithm1_costs(config.n, config.seeds, config.per_seed)
    out = {k: [] for k in ("s1", "s2", "H", "err", "it", "conv")}
    for T in config.temperatures:
        M, info = sinkhorn(-d / T, n_iter=config.n_iter, tol=config.tol, return_info=True, warn=False)
        s = np.linalg.svd(M, compute_uv=False)
        out["s1"].append(s[:, 0])
        out["s2"].append(s[:, 1])
        out["H"].append(entropy(M))
        out["err"].append(info.err)
        out["it"].append(info.n_iter)
        out["conv"].append(info.converged)
    a = {k: np.array(v) for k, v in out.items()}
    return SweepResult(config, np.array(config.temperatures), a["s1"], a["s2"], a["H"], a["err"], a["it"], a["conv"])


def check_ht_e1(result: SweepResult) -> Verdict:
    """Monotone decrease of sigma_2 with T and with H(M): medians, per-trial, and a paired sign test."""
    s2, H, T = result.sigma2, result.entropy, result.temperatures
    med = np.median(s2, axis=1)
    med_dec = bool(np.all(np.diff(med) < 0))
    # paired (same costs at every T): each neighbouring pair, sign test of s2(T_k+1) < s2(T_k)
    dec = np.diff(s2, axis=0) < 0  # (nT-1, R)
    R = s2.shape[1]
    pvals = np.array([stats.binomtest(int(k), R, 0.5, alternative="greater").pvalue for k in dec.sum(axis=1)])
    per_trial = float(np.mean(np.all(dec, axis=0)))
    H_inc = float(np.mean(np.all(np.diff(H, axis=0) > 0, axis=0)))
    rho = float(stats.spearmanr(H.ravel(), s2.ravel())[0])
    ev = (
        f"median $\\sigma_2$ goes from {_sig(med[0], 3)} at $T = {_sig(T[0])}$ to {_sig(med[-1], 2)} at "
        f"$T = {_sig(T[-1])}$; medians strictly decreasing: {'yes' if med_dec else 'no'}; $\\sigma_2$ decreases "
        f"along the whole grid in {_sig(100 * per_trial, 3)}% of the paired trials (largest neighbour sign-test "
        f"$p = {_tex(_sig(pvals.max()))[1:-1]}$); $H(M)$ increases with $T$ in {_sig(100 * H_inc, 3)}% of trials; "
        f"Spearman $\\rho(H, \\sigma_2) = {rho:.3f}$."
    )
    if med_dec and pvals.max() < 1e-3 and rho < -0.95 and per_trial > 0.99:
        return verdict("HT-E1", "confirmed", ev)
    if med_dec and rho < -0.8:
        return verdict(
            "HT-E1", "qualified", ev,
            holds="the median $\\sigma_2$ decreases with $T$ and $H(M)$, but not in every trial or not "
            "significantly at every step.",
            severity=severity(conclusion_holds=True, conditional=True),
        )
    return verdict(
        "HT-E1", "refuted", ev, holds="$\\sigma_2$ is not monotone in $T$ on this grid.",
        severity=severity(conclusion_holds=False),
    )


# ============================================================== HT-T2 and HT-R2
_SPEC_T = tuple(TEMPERATURES[i] for i in (0, 3, 6, 10, 15))


@dataclass(frozen=True)
class SpectralConfig:
    """Effective depth, non-normality and powers on V_perp at a subset of the sweep's temperatures."""

    n: int = 64
    temperatures: tuple[float, ...] = _SPEC_T
    seeds: tuple[int, ...] = tuple(range(10))
    per_seed: int = 100
    n_iter: int = 200
    tol: float = 1e-6
    powers: tuple[int, ...] = (1, 2, 4, 8)  # powers of two (repeated squaring)
    eps: float = 1e-3
    max_depth: int = 2000
    x_seed: int = 20260
    product_seed: int = 20261


@dataclass(frozen=True)
class SpectralResult:
    """Arrays of shape (nT, R) unless noted.

    Attributes
    ----------
    sigma2, lambda2 : sigma_2(M) and |lambda_2(M)| (spectral radius of M on V_perp)
    converged : bool, Sinkhorn reached tol (the exact identities below need a DSM)
    comm : ||M M^T - M^T M||_F / ||M||_F^2 (relative departure from normality)
    henrici : sqrt(||M||_F^2 - sum |lambda_i|^2) / ||M||_F (Henrici's relative departure)
    power_norms : (nT, R, len(powers)) ||M^k restricted to V_perp||_2
    full_power_norms : (nT, R, len(powers), 2) lower and upper bounds on ||M^k||_2 on the whole space,
        ||M^k 1||/||1|| and sqrt(||M^k||_1 ||M^k||_inf) (both 1 for a DSM)
    depth_fixed : first L with ||M^L x|| <= eps ||x||, x uniform on the sphere of V_perp
    depth_product : same for products M_L ... M_1 of DSMs drawn independently (i.i.d. indices) from
        the R matrices at the same T
    depth_sigma : ln(1/eps) / (-ln sigma_2)  (HT Theorem 2)
    depth_lambda : ln(1/eps) / (-ln |lambda_2|)
    depth_sigma_product : (nT,) ln(1/eps) / (-mean ln sigma_2) over the pool
    """

    config: SpectralConfig
    temperatures: np.ndarray
    sigma2: np.ndarray
    converged: np.ndarray
    lambda2: np.ndarray
    comm: np.ndarray
    henrici: np.ndarray
    power_norms: np.ndarray
    full_power_norms: np.ndarray
    depth_fixed: np.ndarray
    depth_product: np.ndarray
    depth_sigma: np.ndarray
    depth_lambda: np.ndarray
    depth_sigma_product: np.ndarray


def _depth_fixed(M, x, eps, max_depth):
    """First L with ||M^L x|| <= eps (||x|| = 1), batched; max_depth + 1 if never."""
    depth = np.full(M.shape[0], max_depth + 1)
    active = np.arange(M.shape[0])
    Ma, xa = M, x
    for L in range(1, max_depth + 1):
        xa = np.einsum("bij,bj->bi", Ma, xa)
        xa -= xa.mean(axis=-1, keepdims=True)  # stay in V_perp (removes rounding drift only)
        done = np.linalg.norm(xa, axis=-1) <= eps
        if done.any():
            depth[active[done]] = L
            active, Ma, xa = active[~done], Ma[~done], xa[~done]
            if not active.size:
                break
    return depth


def _depth_product(pool, x, eps, max_depth, rng):
    """As _depth_fixed for M_L ... M_1 with each M_l drawn independently from ``pool``."""
    R = x.shape[0]
    depth = np.full(R, max_depth + 1)
    active = np.arange(R)
    xa = x
    for L in range(1, max_depth + 1):
        idx = rng.integers(0, pool.shape[0], size=R)[active]
        xa = np.einsum("bij,bj->bi", pool[idx], xa)
        xa -= xa.mean(axis=-1, keepdims=True)
        done = np.linalg.norm(xa, axis=-1) <= eps
        if done.any():
            depth[active[done]] = L
            active, xa = active[~done], xa[~done]
            if not active.size:
                break
    return depth


@disk_cached
def spectral_experiment(config: SpectralConfig = SpectralConfig()) -> SpectralResult:
    """HT Theorem 2 / Remark 2 measurements on Algorithm-1 DSMs (same costs as the sweep)."""
    d = algorithm1_costs(config.n, config.seeds, config.per_seed)
    R, n = d.shape[0], config.n
    xrng = np.random.default_rng(config.x_seed)
    x = xrng.standard_normal((R, n))
    x -= x.mean(axis=-1, keepdims=True)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    prng = np.random.default_rng(config.product_seed)
    keys = ("s2", "conv", "l2", "comm", "hen", "pn", "fpn", "df", "dp", "dps")
    out = {k: [] for k in keys}
    for T in config.temperatures:
        M, info = sinkhorn(-d / T, n_iter=config.n_iter, tol=config.tol, return_info=True, warn=False)
        s = np.linalg.svd(M, compute_uv=False)
        B = q_project(M)  # U M U: M restricted to V_perp (1^T M = 1^T exactly)
        ev_b = np.abs(np.linalg.eigvals(B))
        lam = ev_b.max(axis=-1)
        # eig(M) = eig(B) with the eigenvalue 0 (direction 1) replaced by 1 (exact for a DSM)
        fro2 = (M * M).sum(axis=(-2, -1))
        Mt = np.swapaxes(M, -1, -2)
        comm = np.linalg.norm(M @ Mt - Mt @ M, axis=(-2, -1)) / fro2
        hen = np.sqrt(np.maximum(fro2 - 1.0 - (ev_b**2).sum(axis=-1), 0.0) / fro2)
        pn, fpn = [], []
        Bk, Mk, k_have = B.copy(), M.copy(), 1
        for k in config.powers:
            if k & (k - 1):
                raise ValueError(f"powers must be powers of two, got {k}")
            while k_have < k:  # repeated squaring
                Bk, Mk, k_have = Bk @ Bk, Mk @ Mk, 2 * k_have
            if k == 1:  # ||U M U||_2 = sigma_2(M) for a DSM (HT Lemma 2); SVD only where not converged
                nb = s[:, 1].copy()
                bad = ~info.converged
                if bad.any():
                    nb[bad] = np.linalg.svd(Bk[bad], compute_uv=False)[:, 0]
                pn.append(nb)
            else:
                pn.append(np.linalg.svd(Bk, compute_uv=False)[:, 0])
            # ||M^k 1|| / ||1|| <= ||M^k||_2 <= sqrt(||M^k||_1 ||M^k||_inf): both 1 for a DSM
            lo = np.linalg.norm(Mk.sum(axis=-1), axis=-1) / np.sqrt(M.shape[-1])
            hi = np.sqrt(np.abs(Mk).sum(axis=-1).max(axis=-1) * np.abs(Mk).sum(axis=-2).max(axis=-1))
            fpn.append(np.stack([lo, hi], axis=-1))
        pool, pool_s2 = M, s[:, 1]  # layers are drawn i.i.d. from the R matrices at this T
        out["s2"].append(s[:, 1])
        out["conv"].append(info.converged)
        out["l2"].append(lam)
        out["comm"].append(comm)
        out["hen"].append(hen)
        out["pn"].append(np.stack(pn, axis=-1))
        out["fpn"].append(np.stack(fpn, axis=1))
        out["df"].append(_depth_fixed(M, x, config.eps, config.max_depth))
        out["dp"].append(_depth_product(pool, x, config.eps, config.max_depth, prng))
        out["dps"].append(np.log(1 / config.eps) / -np.mean(np.log(pool_s2)))
    a = {k: np.array(v) for k, v in out.items()}
    L = np.log(1 / config.eps)
    return SpectralResult(
        config, np.array(config.temperatures), a["s2"], a["conv"], a["l2"], a["comm"], a["hen"], a["pn"], a["fpn"],
        a["df"], a["dp"], L / -np.log(a["s2"]), L / -np.log(a["l2"]), a["dps"],
    )


def check_ht_t2(result: SpectralResult) -> Verdict:
    """Measured depth vs ceil(ln(1/eps)/(-ln sigma_2)): an estimate (within +-25 %) or only a bound?"""
    T = result.temperatures
    pred = np.ceil(result.depth_sigma - 1e-9)  # depths are integers
    ratio_f = result.depth_fixed / pred  # (nT, R)
    ratio_p = result.depth_product / np.ceil(result.depth_sigma_product - 1e-9)[:, None]
    med_f, med_p = np.median(ratio_f, axis=1), np.median(ratio_p, axis=1)
    lam_ratio = np.median(result.depth_fixed / np.ceil(result.depth_lambda - 1e-9), axis=1)
    # ||M^L x|| <= sigma_2^L ||x|| gives depth <= ceil(ln(1/eps)/(-ln sigma_2)) for a fixed DSM M
    c = result.converged
    viol = float(np.mean(result.depth_fixed[c] > pred[c]))
    ev = (
        f"$\\epsilon = {_tex(f'{result.config.eps:g}')[1:-1]}$; median measured depth / "
        f"$\\lceil\\ln(1/\\epsilon)/(-\\ln\\sigma_2)\\rceil$ for a fixed $M$: "
        f"{', '.join(_sig(x) for x in med_f)} at $T =$ {', '.join(_sig(t) for t in T)}; for products of "
        f"independent DSMs (predicted with the mean $\\ln\\sigma_2$): {', '.join(_sig(x) for x in med_p)}; "
        f"measured / $\\lceil\\ln(1/\\epsilon)/(-\\ln|\\lambda_2|)\\rceil$: "
        f"{_sig(lam_ratio.min())}–{_sig(lam_ratio.max())}; fixed-$M$ depth above the $\\sigma_2$ bound in "
        f"{_sig(100 * viol)}% of converged trials."
    )
    if viol > 0.001:
        return verdict(
            "HT-T2", "refuted", ev, holds="the measured depth exceeds $\\ln(1/\\epsilon)/(-\\ln\\sigma_2)$.",
            severity=severity(conclusion_holds=False),
        )
    tight = (med_f > 0.8) & (med_f < 1.25) & (med_p > 0.8) & (med_p < 1.25)
    if tight.all():
        return verdict("HT-T2", "confirmed", ev)
    return verdict(
        "HT-T2", "qualified", ev,
        holds=r"$\ln(1/\epsilon)/(-\ln\sigma_2)$ is an upper bound on the depth at which a detail signal "
        r"falls below $\epsilon$ ($\|M^L x_\perp\| \le \sigma_2^L \|x_\perp\|$); it is close only at high "
        r"$T$ (depth 1–2). At low $T$ a fixed $M$ contracts at the rate $|\lambda_2| < \sigma_2$ (and so do "
        r"products of independent DSMs), so the signal dies several times sooner than the formula says.",
        # the formula over-predicts the depth by a factor (worst median measured / predicted)
        severity=severity(conclusion_holds=True, factor=float(min(med_f.min(), med_p.min()))),
    )


def check_ht_r2(result: SpectralResult) -> Verdict:
    """Non-normality; ||M^k on V_perp|| <= sigma_2^k; full-space ||M^k|| = 1; transient growth vs |lambda_2|^k."""
    k = np.array(result.config.powers)
    c = result.converged  # the identities below are for doubly stochastic M
    bound_ratio = (result.power_norms / result.sigma2[..., None] ** k)[c]  # must be <= 1
    max_bound = float(bound_ratio.max())
    full_dev = float(np.abs(result.full_power_norms[c] - 1).max())
    # the literal full-space form ||M^k||_2 <= sigma_2^k, with the lower bound on ||M^k||_2
    literal = float((result.full_power_norms[..., 0] / result.sigma2[..., None] ** k)[c].min())
    nonnormal = float(np.mean(result.henrici[c] > 1e-8))
    growth = (result.power_norms / result.lambda2[..., None] ** k).max(axis=-1)  # (nT, R)
    med_growth = np.median(growth, axis=1)
    abs_growth = float((result.power_norms / result.power_norms[..., :1]).max())
    T = result.temperatures
    ev = (
        f"{int(c.sum())} converged DSMs at $T \\in [{_sig(T.min())}, {_sig(T.max())}]$: Henrici departure "
        f"from normality $> 10^{{-8}}$ in {_sig(100 * nonnormal, 3)}% (median "
        f"{_sig(np.median(result.henrici[c]))} of $\\|M\\|_F$); max over trials and "
        f"$k \\in \\{{{', '.join(str(int(x)) for x in k)}\\}}$ of "
        f"$\\|M^kP_\\perp\\|_2/\\sigma_2^k = {_sig(max_bound, 6)}$; on the whole space $\\|M^k\\|_2 = 1$ "
        f"to within {_tex(_sig(full_dev, 1))}, so $\\|M^k\\|_2/\\sigma_2^k \\ge {_sig(literal, 3)}$; median "
        f"$|\\lambda_2|/\\sigma_2 = {_sig(np.median(result.lambda2[c] / result.sigma2[c]))}$; median "
        f"$\\max_k \\|M^kP_\\perp\\|_2/|\\lambda_2|^k$ from {_sig(med_growth.min())} to "
        f"{_sig(med_growth.max())} across $T$; $\\max_k \\|M^kP_\\perp\\|_2/\\|MP_\\perp\\|_2 = "
        f"{_sig(abs_growth, 3)}$ (no absolute growth)."
    )
    if max_bound > 1 + 1e-9 or nonnormal < 0.5:
        return verdict(
            "HT-R2", "refuted", ev,
            holds=r"the $\sigma_2^k$ bound on $\mathcal V_\perp$ fails, or the matrices are normal.",
            severity=severity(conclusion_holds=False),
        )
    if literal <= 1 + 1e-9:  # the literal full-space form would hold
        return verdict("HT-R2", "confirmed", ev)
    return verdict(
        "HT-R2", "qualified", ev,
        holds=r"$\|M^k P_\perp\|_2 \le \sigma_2^k$ holds (submultiplicativity: $M$ maps "
        r"$\mathcal V_\perp$ to itself), but not $\|M^k\|_2 \le \sigma_2^k$: on the whole space "
        r"$\|M^k\|_2 = 1$, so the recommended check $\max_k \|M^k\|_2$ always returns 1. On "
        r"$\mathcal V_\perp$ there is no transient growth in absolute terms ($\|M^k P_\perp\|$ decreases "
        r"in $k$); non-normality shows only relative to the spectral radius, "
        r"$\|M^k P_\perp\| > |\lambda_2|^k$.",
        # true only restricted to V_perp, a condition the recommended check max_k ||M^k||_2 drops
        severity=severity(conclusion_holds=True, conditional=True),
    )


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


def check_rc_sk(result: ScalingResult) -> Verdict:
    """Same DSM from different scalings, orders and implementations; D1 Y D2 form recovered."""
    worst = max(result.diff_scaled.max(), result.diff_transpose.max(), result.diff_pot.max())
    form = float(result.form_residual.max())
    conv = float(result.marginal_err.max())
    ev = (
        f"{result.diff_scaled.size} positive matrices ($n = {result.config.n}$) converged to marginal error "
        f"{_tex(fmt_small(conv, 1e-10))}: largest entrywise difference between the DSMs from $D_aYD_b$, from "
        f"the column-first alternation and (first {result.config.n_pot} per scale) from POT's log-domain "
        f"solver: {_tex(fmt_small(worst))}; $\\log M - \\log Y$ is of the form $a\\mathbf 1^\\top + "
        f"\\mathbf 1 b^\\top$ (relative $\\|Q(\\cdot)\\|_F$ {_tex(fmt_small(form))})."
    )
    if worst <= _EXACT and form <= 1e-9 and conv <= 1e-10:
        return verdict("RC-SK", "confirmed", ev)
    return verdict(
        "RC-SK", "refuted", ev, holds="different scalings gave different doubly stochastic matrices.",
        severity=severity(conclusion_holds=False),
    )


def check_rc_shift(result: ScalingResult) -> Verdict:
    """Sinkhorn(S + a1^T + 1b^T) = Sinkhorn(S), and RC Eq. 19 with biased queries and keys."""
    worst = float(max(result.diff_scaled.max(), result.diff_eq19.max()))
    ev = (
        f"$\\max|\\mathrm{{Sinkhorn}}(S + a\\mathbf 1^\\top + \\mathbf 1 b^\\top) - "
        f"\\mathrm{{Sinkhorn}}(S)|$ {_tex(fmt_small(result.diff_scaled.max()))} over "
        f"{result.diff_scaled.size} matrices; Eq. 19 (biased queries and keys against $XW_{{QK}}X^\\top$): "
        f"{_tex(fmt_small(result.diff_eq19.max()))} over {result.diff_eq19.size}; for contrast Softmax moves by "
        f"up to {_sig(result.softmax_col_shift.max())} under a column shift (row shift: "
        f"{_tex(fmt_small(result.softmax_row_shift.max()))})."
    )
    if worst <= _EXACT:
        return verdict("RC-SHIFT", "confirmed", ev)
    return verdict(
        "RC-SHIFT", "refuted", ev, holds="Sinkhorn changed under a row/column-constant shift.",
        severity=severity(conclusion_holds=False),
    )


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


def check_rc_p2(result: QResult) -> Verdict:
    """Every property of an orthogonal projection onto T_DS, to rounding."""
    p = dict(result.p2)
    closest = p.pop("closest point (min |Y-H|^2 - |Y-Q(Y)|^2, >= 0)")
    rank_err = p.pop("explicit rank - (n-1)^2")
    worst_key = max(p, key=lambda k: p[k])
    ge = r"\ge" if closest >= 0 else "<"
    ev = (
        f"over {result.config.trials} random $64\\times 64$ $Y$: largest error among {len(p)} identities "
        f"({worst_key.split(' |')[0].split(' (')[0]}) {_tex(fmt_small(p[worst_key]))}; $Q(Y)$ is the closest point of $T_{{DS}}$ to $Y$ "
        f"($\\|Y-H\\|_F^2 - \\|Y-Q(Y)\\|_F^2 {ge} 0$ for every random $H$ in "
        f"$T_{{DS}}$); the explicit ${result.config.n_explicit ** 2}\\times {result.config.n_explicit ** 2}$ "
        f"matrix of $Q$ is symmetric, idempotent, of rank $(n-1)^2$ (difference {int(rank_err)})."
    )
    if p[worst_key] <= 1e-12 and closest >= 0 and rank_err == 0:
        return verdict("RC-P2", "confirmed", ev)
    return verdict(
        "RC-P2", "refuted", ev, holds="$Q$ fails one of the projection identities.",
        severity=severity(conclusion_holds=False),
    )


def check_rc_p3(result: QResult) -> Verdict:
    """||Q(Y)||_2 <= ||Q(Y)||_F <= lambda sqrt(rank) ||Y||_2 with lambda <= 1; best lambda observed."""
    lam = float(result.ratio.max())
    by_kind = result.ratio.max(axis=(1, 2))
    sf = float(result.spec_le_fro.max())
    sr = float(result.spec_ratio.max())
    kinds = ", ".join(f"{k}: {_sig(v, 3)}" for k, v in zip(result.config.kinds, by_kind))
    ev = (
        f"largest $\\|Q(Y)\\|_F/(\\sqrt{{\\operatorname{{rank}} Y}}\\,\\|Y\\|_2)$ observed (the "
        f"$\\lambda$ needed) $= {_sig(lam, 4)}$ ({kinds}; ranks {', '.join(str(r) for r in result.config.ranks)}); "
        f"$\\|Q(Y)\\|_2/\\|Q(Y)\\|_F \\le {_sig(sf, 3)}$; $\\|Q(Y)\\|_2/\\|Y\\|_2 \\le {_sig(sr, 3)}$; "
        f"$Q(a\\mathbf 1^\\top + \\mathbf 1 b^\\top) = 0$ (norm {_tex(fmt_small(result.q_of_shift))})."
    )
    if sf > 1 + 1e-12:
        return verdict(
            "RC-P3", "refuted", ev, holds=r"$\|Q(Y)\|_2 > \|Q(Y)\|_F$: $Q(Y)$ is not what the paper says.",
            severity=severity(conclusion_holds=False),
        )
    if lam > 1 + 1e-9:  # the shape of the bound survives with a larger constant
        return verdict(
            "RC-P3", "refuted", ev, holds=f"the bound needs $\\lambda = {_sig(lam, 4)} > 1$.",
            severity=severity(conclusion_holds=True, factor=lam),
        )
    return verdict(
        "RC-P3", "confirmed", ev,
        holds=r"true with $\lambda = 1$, which is attained ($Y \in T_{DS}$ with equal singular values), so "
        r"no uniform $\lambda < 1$ exists; the sharper $\|Q(Y)\|_2 = \|UYU\|_2 \le \|Y\|_2$ also holds.",
    )


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


def check_rc_l1(result: ExpansionResult) -> Verdict:
    """Which coefficient c makes (Sinkhorn(tY) - J/n)/t - c Q(Y) vanish as t -> 0?"""
    ts, ns = np.array(result.config.ts), result.config.ns
    slope_n = [loglog_slope(ts, r) for r in result.res_n]
    slope_n2 = [loglog_slope(ts, r) for r in result.res_n2]
    small_n2 = np.median(result.res_n2[:, 0], axis=-1)  # at the smallest t
    small_n = np.median(result.res_n[:, 0], axis=-1)
    coef = np.median(result.coef, axis=-1)
    ev = (
        f"fitted $nc$ at $t = {_tex(_sig(ts[0]))[1:-1]}$: {', '.join(_sig(c, 4) for c in coef)} for "
        f"$n = {', '.join(str(n) for n in ns)}$; relative residual with $c = 1/n$: {_tex(_sig(small_n.max()))} "
        f"(log-log slope {_range(slope_n)}); with the paper's $c = 1/n^2$: {_sig(small_n2.min(), 3)}–"
        f"{_sig(small_n2.max(), 3)} (slope {_tex(_sig(min(slope_n2), 2))}), i.e. it does not vanish. Sinkhorn "
        f"converged to marginal error {_tex(f'{result.config.tol:g}')}; the composition of softmaxes of RC "
        f"Prop. 4 is judged separately (RC-P4)."
    )
    paper_ok = bool(np.all(small_n2 < 1e-2) and min(slope_n2) > 0.8)
    ours_ok = bool(np.all(np.abs(coef - 1) < 1e-2) and np.all(small_n < 1e-2) and min(slope_n) > 0.8)
    if paper_ok:
        return verdict("RC-L1", "confirmed", ev)
    if ours_ok:
        return verdict(
            "RC-L1", "refuted", ev,
            holds=r"$\mathrm{Sinkhorn}(tY) = J/n + (t/n)\,Q(Y) + O(t^2)$: the coefficient is $1/n$, not "
            r"$1/n^2$. (The proof of App. C composes row and column softmaxes, not the column normalisation "
            r"of Eq. 13.)",
            # measured coefficient / paper's = (coef / n) / (1 / n^2) = n * coef, at the largest n
            severity=severity(conclusion_holds=True, factor=float(ns[-1] * coef[-1])),
        )
    return verdict(
        "RC-L1", "refuted", ev, holds="neither $1/n$ nor $1/n^2$ fits the measured first-order term.",
        severity=severity(conclusion_holds=False),
    )


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
        out["hs"].append(_row_entropy(P))
        out["hk"].append(_row_entropy(M))
        out["ms"].append(P.max(axis=(-2, -1)))
        out["mk"].append(M.max(axis=(-2, -1)))
        out["ss"].append(np.linalg.svd(P, compute_uv=False)[:, 1])
        out["sk"].append(np.linalg.svd(M, compute_uv=False)[:, 1])
        out["cs"].append(P.sum(axis=-2).max(axis=-1))
        out["tr"].append(marginal_error_trace(S, config.trace_iter))
    a = {k: np.array(v) for k, v in out.items()}
    return AttentionResult(config, a["hs"], a["hk"], a["ms"], a["mk"], a["ss"], a["sk"], a["cs"], a["tr"], A[0])


def check_rc_f1(result: AttentionResult) -> Verdict:
    """Paired sign test: is Sinkhorn's mean row entropy higher than Softmax's on the same scores?"""
    R = result.rowH_softmax.shape[1]
    wins = (result.rowH_sinkhorn > result.rowH_softmax).sum(axis=1)
    p = np.array([stats.binomtest(int(w), R, 0.5).pvalue for w in wins])
    more = (wins > R / 2) & (p < 1e-3)
    less = (wins < R / 2) & (p < 1e-3)
    sc = result.config.scales
    ev = (
        f"random attention-like scores (n = {result.config.n}, d_qk = {result.config.d_qk}, score std = scale), "
        f"{R} paired draws per scale, Sinkhorn with {result.config.n_iter_attention} iterations: Sinkhorn's mean row "
        f"entropy exceeds Softmax's in {', '.join(f'{100 * w / R:.0f}%' for w in wins)} of draws at scales {sc} "
        f"(sign test, largest p = {_sig(p.max())}); median max entry Softmax/Sinkhorn "
        f"{', '.join(_sig(x) for x in np.median(result.max_softmax, 1))} / "
        f"{', '.join(_sig(x) for x in np.median(result.max_sinkhorn, 1))}. Not tested on a trained ViT (RC's Fig. 1)."
    )
    if more.all():
        return verdict(
            "RC-F1", "confirmed", ev,
            holds="on random attention-like scores at every scale tried; trained-model maps not reproduced.",
        )
    if more.any():
        return verdict(
            "RC-F1", "qualified", ev,
            holds="Sinkhorn spreads weight more only at scales " + ", ".join(_sig(s) for s, m in zip(sc, more) if m) + ".",
            severity=severity(conclusion_holds=True, conditional=True),
        )
    if less.any():
        return verdict(
            "RC-F1", "refuted", ev, holds="Softmax has the higher row entropy on these scores.",
            severity=severity(conclusion_holds=False),
        )
    return verdict(
        "RC-F1", "qualified", ev, holds="no significant difference in row entropy.",
        severity=severity(conclusion_holds=False),
    )


#: "effectively doubly stochastic": marginal error at most this after 50 iterations, in >= 99% of draws
CONV_TOLS = (1e-3, 1e-6)


def check_rc_conv(result: AttentionResult) -> Verdict:
    """Fraction of draws with marginal error <= 1e-3 / 1e-6 after 50 iterations, per score scale."""
    k = 50
    err50 = result.trace[:, k - 1, :]  # (nscales, R)
    frac = {tol: (err50 <= tol).mean(axis=1) for tol in CONV_TOLS}
    sc = result.config.scales
    ok = frac[CONV_TOLS[0]] >= 0.99
    ev = (
        f"after {k} iterations, share of {err50.shape[1]} draws with marginal error <= 1e-3: "
        f"{', '.join(f'{100 * f:.0f}%' for f in frac[1e-3])}; <= 1e-6: {', '.join(f'{100 * f:.0f}%' for f in frac[1e-6])} "
        f"at score scales {sc}; median error at k = {k}: {', '.join(fmt_small(x) for x in np.median(err50, 1))}."
    )
    if ok.all():
        return verdict("RC-CONV", "confirmed", ev)
    if ok.any():
        good = [s for s, o in zip(sc, ok) if o]
        return verdict(
            "RC-CONV", "qualified", ev,
            holds=f"50 iterations reach marginal error 1e-3 only for score scales <= {_sig(max(good))} "
            "(score std); sharper scores need many more iterations.",
            severity=severity(conclusion_holds=True, conditional=True),
        )
    return verdict(
        "RC-CONV", "refuted", ev, holds="50 iterations are not enough at any scale tried.",
        severity=severity(conclusion_holds=False),
    )


# ============================================================== the book's story figure
def story_figure(result: SweepResult | None = None):
    r"""The book's story in one figure: :math:`\sigma_2` vs temperature with its IQR band.

    Parameters
    ----------
    result : SweepResult, optional
        Defaults to the (disk-cached) :func:`sweep_experiment` at the papers' sizes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from ..plotting import COLORS, band

    r = sweep_experiment() if result is None else result
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    band(ax, r.temperatures, r.sigma2, color=COLORS["sinkhorn"], label=r"median $\sigma_2(M)$, IQR band")
    ax.set_xscale("log")
    ax.set_xlabel("Sinkhorn temperature $T$")
    ax.set_ylabel(r"$\sigma_2(M)$")
    ax.set_ylim(0, 1.02)
    ax.set_title(rf"The homogeneity trap: $n={r.config.n}$, {r.sigma2.shape[1]} DSMs per $T$")
    ax.legend(loc="upper right")
    return fig


#: chapter 2's claim checks: claim id -> (experiment, check)
CHECKS = {
    "HT-E1": (sweep_experiment, check_ht_e1),
    "HT-T2": (spectral_experiment, check_ht_t2),
    "HT-R2": (spectral_experiment, check_ht_r2),
    "RC-SK": (scaling_experiment, check_rc_sk),
    "RC-SHIFT": (scaling_experiment, check_rc_shift),
    "RC-P2": (q_experiment, check_rc_p2),
    "RC-P3": (q_experiment, check_rc_p3),
    "RC-L1": (expansion_experiment, check_rc_l1),
}
from .ch02 import convergence as _conv, expansion as _exp, filtering as _filt, nonnegative as _nonneg  # noqa: E402

for _m in (_conv, _exp, _filt, _nonneg):
    CHECKS.update(_m.CHECKS)
