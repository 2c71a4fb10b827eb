"""Chapter 5, products of random attention matrices (RC App. G, Fig. 5), their decay rates and the
exponential vs doubly exponential fits, and path sampling on a random network (RC Sec. 4.1)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats
from ....attention import (
    SANWeights,
    chained_product,
    prefix_products,
    pure_san,
    random_attention_scores,
    random_san_weights,
    sample_paths,
)
from ....cache import disk_cached
from ....sinkhorn import row_softmax, sinkhorn
from ....spectra import rank_one_residual

__all__ = [
    "AIC_MARGIN",
    "FLOOR",
    "LawFit",
    "METHODS",
    "PathConfig",
    "PathResult",
    "RATE_TOL",
    "RandomProductsConfig",
    "RandomProductsResult",
    "RateComparison",
    "SANSize",
    "_normalise",
    "_t",
    "compare_rates",
    "decay_rates",
    "fit_laws",
    "path_sampling_experiment",
    "random_products_experiment",
    "rate_ratios",
    "spec_norm",
]


METHODS = ("softmax", "sinkhorn")
#: residuals below this are at the float64 floor and excluded from every fit
FLOOR = 1e-13
#: RC-G: "essentially the same" decay rate = median rates within this relative tolerance
RATE_TOL = 0.15
#: RC-EXP / doubly exponential: AIC margin for "decisively better"
AIC_MARGIN = 10.0


def _t(x: float, spec: str = ".2g") -> str:
    r"""``x`` formatted with ``spec`` (same digits as before) and written for ``$...$`` maths:
    ``-1.18e+03`` becomes ``-1.18\times10^{3}``, ``1e-13`` becomes ``10^{-13}``."""
    s = format(float(x), spec)
    if "e" not in s or not np.isfinite(float(x)):
        return s
    mant, exp = s.split("e")
    return f"10^{{{int(exp)}}}" if mant in ("1", "1.0") else rf"{mant}\times10^{{{int(exp)}}}"


def spec_norm(M: NDArray[np.float64]) -> NDArray[np.float64]:
    """Spectral norm over the last two axes, via the smaller Gram matrix (fast, batched)."""
    n, d = M.shape[-2:]
    G = M @ np.swapaxes(M, -1, -2) if n <= d else np.swapaxes(M, -1, -2) @ M
    return np.sqrt(np.maximum(np.linalg.eigvalsh(G)[..., -1], 0.0))


def _normalise(S: NDArray[np.float64], method: str, **kw) -> NDArray[np.float64]:
    if method == "softmax":
        return row_softmax(S)
    return sinkhorn(S, warn=False, **kw)


# ---------------------------------------------------------------------------------------
# Random products (RC App. G, Fig. 5)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RandomProductsConfig:
    """Random attention-like products: ``n_products`` sequences of ``depth`` independent factors."""

    n: int = 64
    d_model: int = 128
    d_qk: int = 32
    depth: int = 24
    n_products: int = 100
    scales: tuple[float, ...] = (1.0, 3.0)
    seed: int = 0


@dataclass(frozen=True)
class RandomProductsResult:
    """``residual[s, m, k, i, t]``: scale ``s``, method ``m`` (softmax, sinkhorn), skip ``k``
    (0 = no skip, 1 = half the factors replaced by I), product ``i``, depth ``t + 1``."""

    config: RandomProductsConfig
    depths: NDArray[np.int64]
    residual: NDArray[np.float64]
    sinkhorn_unconverged: int


@disk_cached
def random_products_experiment(config: RandomProductsConfig = RandomProductsConfig()) -> RandomProductsResult:
    """Normalised rank-one residual (RC Eq. 11) of random products at every depth 1..T.

    Product ``i`` at depth ``t`` is the prefix :math:`F_1 \\cdots F_t` of one sequence of
    ``T`` independent factors (so each depth's 100 products have exactly the distribution
    of 100 independently sampled products). Softmax and Sinkhorn normalise the *same*
    scores (paired). With skips, exactly half of the ``T`` positions of each sequence
    (chosen at random) hold the identity instead.
    """
    c = config
    rng = np.random.default_rng(c.seed)
    T, m, n = c.depth, c.n_products, c.n
    out = np.empty((len(c.scales), 2, 2, m, T))
    skip_mask = np.argsort(rng.random((m, T)), axis=-1) < T // 2  # True = identity
    unconverged = 0
    eye = np.eye(n)
    for s, scale in enumerate(c.scales):
        S = random_attention_scores(n, d_model=c.d_model, d_qk=c.d_qk, scale=scale, size=(m, T), rng=rng)
        for k, method in enumerate(METHODS):
            if method == "sinkhorn":
                F, info = sinkhorn(S, return_info=True, warn=False)
                unconverged += info.n_failed
            else:
                F = row_softmax(S)
            out[s, k, 0] = rank_one_residual(prefix_products(F))
            Fs = np.where(skip_mask[:, :, None, None], eye, F)
            out[s, k, 1] = rank_one_residual(prefix_products(Fs))
    return RandomProductsResult(c, np.arange(1, T + 1), out, unconverged)


def decay_rates(residual: NDArray[np.float64], depths: NDArray, floor: float = FLOOR) -> NDArray[np.float64]:
    """Per-sample decay rate :math:`-b` of the least-squares fit ``log r = a + b t``.

    Parameters
    ----------
    residual : ndarray, shape (..., T)
    depths : ndarray, shape (T,)
    floor : float
        Points with ``r <= floor`` are excluded.

    Returns
    -------
    ndarray, shape (...)
        Rate in nats per factor; NaN where fewer than 3 points remain.
    """
    w = (residual > floor) & np.isfinite(residual)
    y = np.log(np.where(w, residual, 1.0))
    t = np.broadcast_to(np.asarray(depths, float), residual.shape)
    nw = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tm = (w * t).sum(-1) / nw
        ym = (w * y).sum(-1) / nw
        cov = (w * (t - tm[..., None]) * (y - ym[..., None])).sum(-1)
        var = (w * (t - tm[..., None]) ** 2).sum(-1)
        b = cov / var
    return np.where(nw >= 3, -b, np.nan)


def rate_ratios(residual: NDArray[np.float64], depths: NDArray, floor: float = FLOOR) -> NDArray[np.float64]:
    """Late over early decay rate of each sequence: the resolvable depths (``floor < r < 1``)
    are split in two halves and :func:`decay_rates` is fitted on each.

    A fixed exponential rate gives 1; a doubly exponential decay (``log r ~ -3^t``) gives a
    ratio far above 1 (about ``3^(T/2)``).

    Parameters
    ----------
    residual : ndarray, shape (..., T)
    depths : ndarray, shape (T,)
    floor : float

    Returns
    -------
    ndarray, shape (...)
        NaN where a half has fewer than 3 points.
    """
    r = np.asarray(residual, dtype=np.float64)
    d = np.asarray(depths, dtype=np.float64)
    if d.shape != r.shape[-1:]:
        raise ValueError(f"depths must have shape ({r.shape[-1]},), got {d.shape}")
    ok = (r > floor) & (r < 1) & np.isfinite(r)
    rank = np.cumsum(ok, axis=-1)  # 1-based position among the resolvable depths
    half = (ok.sum(-1, keepdims=True) + 1) // 2
    early = np.where(ok & (rank <= half), r, 0.0)
    late = np.where(ok & (rank > half), r, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return decay_rates(late, d, floor) / decay_rates(early, d, floor)


@dataclass(frozen=True)
class RateComparison:
    """Softmax vs Sinkhorn decay rates at one (scale, skip) setting."""

    scale: float
    skip: bool
    median_softmax: float
    median_sinkhorn: float
    ratio: float  #: median Sinkhorn rate / median Softmax rate
    ci: tuple[float, float]  #: 95% bootstrap CI of ``ratio``
    p_wilcoxon: float  #: paired Wilcoxon signed-rank test of equal rates

    @property
    def equivalent(self) -> bool:
        """The whole CI lies within ``[1/(1+RATE_TOL), 1+RATE_TOL]``."""
        return self.ci[0] >= 1 / (1 + RATE_TOL) and self.ci[1] <= 1 + RATE_TOL


def compare_rates(result: RandomProductsResult, *, n_boot: int = 2000, seed: int = 1) -> list[RateComparison]:
    """Paired comparison of per-product decay rates, Softmax vs Sinkhorn, per scale and skip."""
    rng = np.random.default_rng(seed)
    out = []
    for s, scale in enumerate(result.config.scales):
        for k in (0, 1):
            r_sm = decay_rates(result.residual[s, 0, k], result.depths)
            r_sk = decay_rates(result.residual[s, 1, k], result.depths)
            ok = np.isfinite(r_sm) & np.isfinite(r_sk)
            a, b = r_sm[ok], r_sk[ok]
            idx = rng.integers(0, a.size, size=(n_boot, a.size))
            boot = np.median(b[idx], axis=1) / np.median(a[idx], axis=1)
            lo, hi = np.percentile(boot, [2.5, 97.5])
            p = float(stats.wilcoxon(b, a).pvalue) if np.any(a != b) else 1.0
            out.append(RateComparison(float(scale), bool(k), float(np.median(a)), float(np.median(b)),
                                      float(np.median(b) / np.median(a)), (float(lo), float(hi)), p))
    return out


# ---------------------------------------------------------------------------------------
# Exponential vs doubly exponential
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LawFit:
    """Least-squares fits of ``y = log r`` against depth ``t``: exponential ``y = a + b t``
    and doubly exponential ``y = -exp(c + g t)`` (``log(-log r)`` linear in ``t``)."""

    n_points: int
    exp_params: tuple[float, float]
    dexp_params: tuple[float, float]
    rss_exp: float
    rss_dexp: float
    r2_exp: float
    r2_dexp: float

    @property
    def aic_exp(self) -> float:
        return self.n_points * np.log(self.rss_exp / self.n_points) + 4

    @property
    def aic_dexp(self) -> float:
        return self.n_points * np.log(self.rss_dexp / self.n_points) + 4

    @property
    def preferred(self) -> str:
        """'exponential', 'doubly exponential' or 'undecided' (AIC difference < AIC_MARGIN)."""
        d = self.aic_dexp - self.aic_exp
        return "exponential" if d > AIC_MARGIN else "doubly exponential" if d < -AIC_MARGIN else "undecided"


def fit_laws(t: NDArray, r: NDArray, floor: float = FLOOR) -> LawFit:
    """Fit both laws to pooled points ``(t, r)`` with ``floor < r < 1`` (in ``log r``)."""
    t = np.asarray(t, float).ravel()
    r = np.asarray(r, float).ravel()
    ok = np.isfinite(r) & (r > floor) & (r < 1)
    t, y = t[ok], np.log(r[ok])
    A = np.stack([np.ones_like(t), t], 1)
    pe, *_ = np.linalg.lstsq(A, y, rcond=None)
    rss_e = float(np.sum((y - A @ pe) ** 2))
    p0, *_ = np.linalg.lstsq(A, np.log(-y), rcond=None)
    try:
        pd, _ = optimize.curve_fit(lambda tt, c, g: -np.exp(c + g * tt), t, y, p0=p0, maxfev=20000)
    except RuntimeError:  # pragma: no cover - fall back on the log-space fit
        pd = p0
    rss_d = float(np.sum((y + np.exp(pd[0] + pd[1] * t)) ** 2))
    tss = float(np.sum((y - y.mean()) ** 2))
    return LawFit(int(t.size), (float(pe[0]), float(pe[1])), (float(pd[0]), float(pd[1])),
                  rss_e, rss_d, 1 - rss_e / tss, 1 - rss_d / tss)


# ---------------------------------------------------------------------------------------
# Path sampling (RC Sec. 4.1) on a random network
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SANSize:
    """Sizes of a random pure SAN: ``n`` tokens, ``d_model``, ``d_qk``, ``n_heads``, ``n_layers``."""

    n: int = 64
    d_model: int = 128
    d_qk: int = 32
    n_heads: int = 4
    n_layers: int = 8
    seed: int = 0


@dataclass(frozen=True)
class DepthResidual:
    """A residual measured by depth on random pure SANs: ``residual[..., t]`` at ``depths[t]``."""

    config: SANSize
    depths: NDArray[np.int64]
    residual: NDArray[np.float64]

    @property
    def layers(self) -> NDArray[np.int64]:
        """The depths, when they count layers."""
        return self.depths


def random_san(c: SANSize, batch: int, rng: np.random.Generator, *, per_input: bool) -> tuple[SANWeights, NDArray[np.float64]]:
    """Gaussian SAN weights (one network, or one per input with ``per_input``) and ``batch`` Gaussian inputs.

    Returns
    -------
    W : SANWeights
        Arrays ``(L, H, d, d_qk)``, or ``(batch, L, H, d, d_qk)`` with ``per_input``.
    X : ndarray, shape (batch, n, d_model)
    """
    W = random_san_weights(c.n_layers, c.n_heads, c.d_model, c.d_qk, size=batch if per_input else (), rng=rng)
    return W, rng.normal(size=(batch, c.n, c.d_model))


@dataclass(frozen=True)
class PathConfig(SANSize):
    """RC Sec. 4.1 path sampling: ``n_paths`` paths per depth on ``batch`` inputs."""

    n_layers: int = 24
    batch: int = 8
    n_paths: int = 100


@dataclass(frozen=True)
class PathResult(DepthResidual):
    """``residual[m, k, t - 1, i]``: method ``m``, network ``k`` (0 pure SAN, 1 with skips), depth ``t``."""


@disk_cached
def path_sampling_experiment(config: PathConfig = PathConfig()) -> PathResult:
    """RC Sec. 4.1 on one random network (same weights and inputs for both normalisations)."""
    c = config
    rng = np.random.default_rng(c.seed)
    W, X = random_san(c, c.batch, rng, per_input=False)
    paths = [sample_paths(c.n_layers, c.n_heads, c.batch, t, c.n_paths, rng=rng) for t in range(1, c.n_layers + 1)]
    out = np.empty((2, 2, c.n_layers, c.n_paths))
    for m, method in enumerate(METHODS):
        for k, skip in enumerate((False, True)):
            P = pure_san(X, W, method=method, skip=skip, warn=False).attention  # (L, H, B, n, n)
            for t, (ly, hd, bi) in enumerate(paths):
                out[m, k, t] = rank_one_residual(chained_product(P, ly, hd, bi))
    return PathResult(c, np.arange(1, c.n_layers + 1), out)
