"""Chapter 2, sigma_2 over temperature and entropy (HT-E1), effective depth and non-normality (HT-T2, HT-R2),
and the attention scores and marginal-error traces they use."""

from __future__ import annotations

from ...._validate import TemperatureChecked
from dataclasses import dataclass
import numpy as np
from numpy.typing import ArrayLike, NDArray
from .... import entropy, q_project, sinkhorn
from ...._validate import as_square_batch, check_n_iter
from ....cache import disk_cached

from .common import TEMPERATURES, algorithm1_costs

__all__ = [
    "SpectralConfig",
    "SpectralResult",
    "SweepConfig",
    "SweepResult",
    "_SPEC_T",
    "_depth_fixed",
    "_depth_product",
    "attention_scores",
    "marginal_error_trace",
    "spectral_experiment",
    "sweep_experiment",
]


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
class SweepConfig(TemperatureChecked):
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


# ============================================================== HT-T2 and HT-R2
_SPEC_T = tuple(TEMPERATURES[i] for i in (0, 3, 6, 10, 15))


@dataclass(frozen=True)
class SpectralConfig(TemperatureChecked):
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
