"""Chapter 4, attention paths with and without skips, and the path-length mixture (RC-SKIP)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from scipy import stats
from .... import rank_one_residual, row_softmax, sinkhorn
from ....cache import disk_cached
from ....attention import prefix_products, random_attention_scores
from ...ch05_rank_decay.experiments import RandomProductsConfig

__all__ = [
    "MIXTURE_FACTOR",
    "PathConfig",
    "PathResult",
    "RESIDUAL_FLOOR",
    "_C5",
    "decay_rates",
    "mixture_prediction",
    "mixture_rates",
    "mixture_table",
    "path_experiment",
    "skip_tests",
]


#: chapter 5's random attention-like products (sizes and score scales), shared with RC-SKIP
_C5 = RandomProductsConfig()


# ----------------------------------------------------------------------------- RC paths
@dataclass(frozen=True)
class PathConfig:
    """RC Sec. 4.1 / App. G path products of chapter 5's random attention-like matrices.

    Scores :func:`dsmlib.attention.random_attention_scores` with chapter 5's sizes
    (``n = 64``, ``d_model = 128``, ``d_qk = 32``) and its larger score scale.
    """

    n: int = _C5.n
    d_model: int = _C5.d_model
    d_qk: int = _C5.d_qk
    depths: tuple[int, ...] = (1, 2, 4, 6, 8, 12, 16, 20)
    paths: int = 100
    scale: float = max(_C5.scales)
    seed: int = 3


@dataclass(frozen=True)
class PathResult:
    config: PathConfig
    methods: tuple[str, ...]
    noskip: NDArray[np.float64]  # (nM, nD, paths) sigma2/sigma1 of the full product
    skip: NDArray[np.float64]  # (nM, nD, paths) same factors, each skipped w.p. 1/2
    lazy: NDArray[np.float64]  # (nM, nD, paths) prod (I + P_l)/2, the whole skip network
    lengths: NDArray[np.int64]  # (nM, nD, paths) number of kept factors
    noskip_all: NDArray[np.float64]  # (nM, max(depths), paths) no-skip residual at every t = 1..max
    same_all: NDArray[np.float64]  # (nM, max(depths), paths) residual of P^t, P the path's first factor
    same_lazy: NDArray[np.float64]  # (nM, nD, paths) residual of ((I + P)/2)^t, one factor repeated


@disk_cached
def path_experiment(config: PathConfig = PathConfig()) -> PathResult:
    """Rank-one residual of path products with and without skipped layers, and of the skip network.

    Each of the ``paths`` chains draws ``max(depths)`` independent score matrices and skip
    flags once; the path of depth ``t`` is its first ``t`` factors (so the 100 paths of
    one depth are independent, while depths share prefixes). Sinkhorn and Softmax use the
    same scores. A control with *identical* factors repeats each path's first factor at every
    layer (``same_all``, ``same_lazy``); it draws nothing new, so the other arrays do not move.
    """
    c = config
    rng = np.random.default_rng(c.seed)
    methods = ("sinkhorn", "softmax")
    nD = len(c.depths)
    out = {k: np.empty((2, nD, c.paths)) for k in ("noskip", "skip", "lazy")}
    lengths = np.empty((2, nD, c.paths), dtype=np.int64)
    tmax = max(c.depths)
    S = random_attention_scores(c.n, d_model=c.d_model, d_qk=c.d_qk, scale=c.scale,
                                size=(c.paths, tmax), rng=rng)
    keep = rng.random((c.paths, tmax)) < 0.5
    eye = np.eye(c.n)
    di = np.asarray(c.depths) - 1
    allr = np.empty((2, tmax, c.paths))
    same_all = np.empty((2, tmax, c.paths))
    same_lazy = np.empty((2, nD, c.paths))
    for m, meth in enumerate(methods):
        A = sinkhorn(S, warn=False) if meth == "sinkhorn" else row_softmax(S)
        allr[m] = rank_one_residual(prefix_products(A)).T
        out["noskip"][m] = allr[m, di]
        out["skip"][m] = rank_one_residual(prefix_products(np.where(keep[:, :, None, None], A, eye))[:, di]).T
        out["lazy"][m] = rank_one_residual(prefix_products((A + eye) / 2)[:, di]).T
        lengths[m] = np.cumsum(keep, axis=1)[:, di].T
        A1 = np.repeat(A[:, :1], tmax, axis=1)  # one factor per path, repeated
        same_all[m] = rank_one_residual(prefix_products(A1)).T
        same_lazy[m] = rank_one_residual(prefix_products((A1 + eye) / 2)[:, di]).T
    return PathResult(c, methods, out["noskip"], out["skip"], out["lazy"], lengths, allr, same_all, same_lazy)


def mixture_prediction(result: PathResult, method: str = "sinkhorn", identical: bool = False) -> NDArray[np.float64]:
    r"""Path-shortening prediction for the skip network :math:`\prod_{\ell\le t}(I+P_\ell)/2`.

    The expansion :math:`\prod_{\ell=1}^t (I+P_\ell)/2 = 2^{-t}\sum_{S\subseteq[t]}\prod_{\ell\in S}P_\ell`
    weights the paths of length :math:`k` by :math:`\binom tk 2^{-t}`; averaging the
    measured no-skip curve :math:`\bar r(k)` (mean over paths, :math:`\bar r(0) = 1` for
    the identity) gives :math:`\hat r(t) = \sum_k \binom tk 2^{-t}\,\bar r(k)`. For doubly
    stochastic factors every path product has :math:`\sigma_1 = 1`, so
    :math:`\sigma_2` of the sum is at most this average (triangle inequality on
    :math:`\mathcal V_\perp`): the prediction is also an upper bound. With ``identical`` the
    same for the control with one factor repeated (:math:`\bar r(k)` of the powers :math:`P^k`).

    Returns
    -------
    ndarray, shape (len(depths),)
        :math:`\hat r(t)` at the configured depths.
    """
    from scipy.stats import binom

    m = result.methods.index(method)
    curve = result.same_all if identical else result.noskip_all
    rbar = np.concatenate([[1.0], curve[m].mean(axis=-1)])
    return np.array([binom.pmf(np.arange(t + 1), t, 0.5) @ rbar[: t + 1] for t in result.config.depths])


#: RC-SKIP pre-registration: path shortening "explains" the skip network if the measured mean
#: residual of prod (I + P)/2 is within this factor of the mixture prediction at every depth t >= 2
MIXTURE_FACTOR = 1.5


def mixture_table(result: PathResult, method: str = "sinkhorn", identical: bool = False) -> list[dict]:
    """Measured mean residual of the skip network vs :func:`mixture_prediction`, per depth
    (``identical``: the control with one factor repeated)."""
    m = result.methods.index(method)
    pred = mixture_prediction(result, method, identical)
    lazy = result.same_lazy if identical else result.lazy
    rows = []
    for j, t in enumerate(result.config.depths):
        meas = float(lazy[m, j].mean())
        rows.append(dict(t=t, measured=meas, predicted=float(pred[j]), ratio=meas / float(pred[j]),
                         bernoulli=float(result.skip[m, j].mean()), noskip=float(result.noskip[m, j].mean()),
                         tested=bool(t >= 2 and pred[j] > RESIDUAL_FLOOR and meas > RESIDUAL_FLOOR)))
    return rows


def mixture_rates(result: PathResult, method: str = "sinkhorn", identical: bool = False) -> tuple[float, float]:
    """Slopes of ln(mean residual) vs t of the skip network (measured, predicted), t >= 2."""
    rows = [r for r in mixture_table(result, method, identical) if r["tested"]]
    t = np.array([r["t"] for r in rows], dtype=float)
    a = float(np.polyfit(t, np.log([r["measured"] for r in rows]), 1)[0])
    b = float(np.polyfit(t, np.log([r["predicted"] for r in rows]), 1)[0])
    return a, b


#: residuals below this are at the float64 floor and not compared
RESIDUAL_FLOOR = 1e-12


def skip_tests(result: PathResult, method: str = "sinkhorn", arm: str = "skip") -> list[dict]:
    """One-sided Mann-Whitney (``arm`` > no skip) per depth, Bonferroni over testable depths.

    ``arm``: ``'skip'`` (paths with each factor skipped w.p. 1/2) or ``'lazy'`` (the whole
    skip network, prod (I + P)/2).
    """
    if arm not in ("skip", "lazy"):
        raise ValueError(f"arm must be 'skip' or 'lazy', got {arm!r}")
    m = result.methods.index(method)
    rows = []
    for j, t in enumerate(result.config.depths):
        a, b = getattr(result, arm)[m, j], result.noskip[m, j]
        testable = bool(np.median(b) > RESIDUAL_FLOOR and t >= 2)
        p = float(stats.mannwhitneyu(a, b, alternative="greater").pvalue) if testable else float("nan")
        p2 = float(stats.mannwhitneyu(a, b, alternative="less").pvalue) if testable else float("nan")
        rows.append(dict(t=t, med_skip=float(np.median(a)), med_noskip=float(np.median(b)),
                         mean_len=float(result.lengths[m, j].mean()), p=p, p_less=p2, testable=testable))
    k = max(1, sum(r["testable"] for r in rows))
    for r in rows:
        r["p_bonf"] = min(1.0, r["p"] * k) if r["testable"] else float("nan")
        r["p_less_bonf"] = min(1.0, r["p_less"] * k) if r["testable"] else float("nan")
    return rows


def decay_rates(result: PathResult, method: str = "sinkhorn") -> tuple[float, float]:
    """Least-squares slopes of ln(median residual) vs depth t (no skip, skip), above the floor."""
    m = result.methods.index(method)
    t = np.asarray(result.config.depths, dtype=float)
    out = []
    for arr in (result.noskip[m], result.skip[m]):
        med = np.median(arr, axis=1)
        ok = (med > RESIDUAL_FLOOR) & (t >= 1)
        out.append(float(np.polyfit(t[ok], np.log(med[ok]), 1)[0]))
    return out[0], out[1]
