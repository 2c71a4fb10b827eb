r"""Chapter 4: residual stagnation, effective depth and skip paths (HT-P1, HT-DEEP, RC-SKIP).

Experiments of ``chapters/04_residual_stagnation.ipynb``:

* :func:`deep_experiment` -- deep networks :math:`x_{\ell+1}=\mathrm N(s x_\ell+\phi(M_\ell x_\ell))`
  with DSMs from HT Algorithm 1 over temperatures, four architectures (skip / no skip, with
  and without LayerNorm), :math:`\phi\in\{\mathrm{ReLU},\mathrm{id}\}`, inputs with and
  without a mean component (HT-P1, HT-DEEP);
* :func:`escape_experiment` -- the escape routes of HT's conclusion: a branch scale
  :math:`\alpha`, Gaussian or row-softmax mixing;
* :func:`path_experiment` -- RC Sec. 4.1: products of random Sinkhorn / Softmax matrices
  along paths with and without skipped layers (RC-SKIP).

**Pool of DSMs.** ``depth x trials`` independent 64 x 64 DSMs would be 64 x 1000 x 32 kB
= 2 GB per temperature. Each temperature therefore draws a pool of ``pool`` (default 2000)
DSMs with Algorithm 1 (one batched call), and every trial uses ``depth`` *distinct* pool
matrices (the first ``depth`` entries of its own random permutation of the pool). Within
a trial the layers are independent draws; across trials, matrices are shared (each is used
about ``depth * trials / pool`` = 32 times, at different layers and with different inputs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from .. import random_dsm, rank_one_residual, row_softmax, sigma2, sinkhorn
from ..cache import disk_cached
from ._format import sig as _sig
from ..claims import Verdict, register, verdict
from ..residual import forward, gaussian_mixing, path_products

__all__ = [
    "ARCHS",
    "DeepConfig",
    "DeepResult",
    "EscapeConfig",
    "EscapeResult",
    "PathConfig",
    "PathResult",
    "VARIANTS",
    "deep_experiment",
    "escape_experiment",
    "growth_ratio",
    "make_inputs",
    "path_experiment",
    "variant_index",
]

#: architectures: residual flag, post-LayerNorm flag, centring flag ('+C': re-centre after
#: each block, i.e. the mean-free stream of exact arithmetic)
ARCHS: dict[str, tuple[bool, bool, bool]] = {
    "skip": (True, False, False),
    "skip+C": (True, False, True),
    "skip+LN": (True, True, False),
    "noskip": (False, False, False),
    "noskip+LN": (False, True, False),
}
#: (architecture, phi, input) with input 'perp' (mean-free) or 'mean'
VARIANTS: tuple[tuple[str, str, str], ...] = (
    ("skip", "identity", "perp"),
    ("skip", "identity", "mean"),
    ("skip", "relu", "perp"),
    ("skip", "relu", "mean"),
    ("skip+C", "identity", "perp"),
    ("skip+LN", "identity", "perp"),
    ("skip+LN", "relu", "perp"),
    ("noskip", "identity", "mean"),
    ("noskip", "relu", "perp"),
    ("noskip+LN", "identity", "perp"),
)
#: variants whose second input (for the angle between two inputs) is run too
PAIRED: tuple[tuple[str, str, str], ...] = (
    ("skip", "relu", "perp"),
    ("skip+C", "identity", "perp"),
    ("skip+LN", "identity", "perp"),
    ("skip+LN", "relu", "perp"),
    ("noskip+LN", "identity", "perp"),
)
_Q = (25.0, 50.0, 75.0)
#: growth ratio separating "still growing" from "saturated" (sqrt(L) growth gives 0.41,
#: linear growth 1, a plateau 0)
SATURATION_THRESHOLD = 0.2


def _pct(x: float) -> str:
    """A fraction as a percentage with 3 significant digits."""
    return _sig(100 * float(x), 3)


def variant_index(arch: str, phi: str, inp: str) -> int:
    """Position of ``(arch, phi, inp)`` in :data:`VARIANTS`."""
    return VARIANTS.index((arch, phi, inp))


def make_inputs(
    n: int, trials: int, mean_level: float, pair_cos: float, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Pairs of inputs :math:`x_0 = \mu\mathbf 1 + g_\perp`, :math:`x_0' = \mu\mathbf 1 + g'_\perp`.

    :math:`g_\perp` is a centred Gaussian vector rescaled to norm :math:`\sqrt n`;
    :math:`g'_\perp = c\,g_\perp + \sqrt{1-c^2}\,h_\perp` with :math:`h_\perp \perp g_\perp`
    of the same norm, so :math:`\cos\angle(g_\perp, g'_\perp) = c` exactly.

    Returns
    -------
    x, x2 : ndarray, shape (trials, n)
    """
    if not (-1.0 <= pair_cos <= 1.0) or n < 3 or trials < 1:
        raise ValueError("need n >= 3, trials >= 1 and |pair_cos| <= 1")
    g = rng.standard_normal((trials, n))
    h = rng.standard_normal((trials, n))
    g -= g.mean(-1, keepdims=True)
    h -= h.mean(-1, keepdims=True)
    g *= np.sqrt(n) / np.linalg.norm(g, axis=-1, keepdims=True)
    h -= (h * g).sum(-1, keepdims=True) / n * g
    h *= np.sqrt(n) / np.linalg.norm(h, axis=-1, keepdims=True)
    g2 = pair_cos * g + np.sqrt(1 - pair_cos**2) * h
    return mean_level + g, mean_level + g2


def _pool_index(rng: np.random.Generator, trials: int, pool: int, depth: int) -> NDArray[np.int64]:
    """``depth`` distinct pool indices per trial (a random permutation prefix per trial)."""
    if depth > pool:
        raise ValueError(f"pool ({pool}) must be >= depth ({depth})")
    return np.argsort(rng.random((trials, pool)), axis=1)[:, :depth].astype(np.int64)


def growth_ratio(theta_half: NDArray[np.float64], theta_full: NDArray[np.float64]) -> float:
    r"""Saturation statistic :math:`g = (\tilde\theta_L - \tilde\theta_{L/2})/\tilde\theta_{L/2}` of medians.

    :math:`g\approx 1` for linear growth, :math:`\sqrt2-1\approx0.41` for
    :math:`\sqrt L` growth (a random walk), :math:`g\to 0` for a plateau.
    """
    h = float(np.median(theta_half))
    return (float(np.median(theta_full)) - h) / h if h > 0 else float("nan")


def _boot_growth(
    theta_half: NDArray[np.float64],
    theta_full: NDArray[np.float64],
    rng: np.random.Generator,
    n_boot: int = 400,
) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of :func:`growth_ratio` (resampling trials)."""
    R = theta_half.shape[-1]
    ib = rng.integers(0, R, size=(n_boot, R))
    h = np.median(theta_half[ib], axis=1)
    f = np.median(theta_full[ib], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = (f - h) / h
    lo, hi = np.nanpercentile(g, [2.5, 97.5])
    return float(lo), float(hi)


# ----------------------------------------------------------------------------- deep networks
@dataclass(frozen=True)
class DeepConfig:
    """Deep DSM networks (HT Sec. 4) at the paper's sizes."""

    n: int = 64
    trials: int = 1000
    depth: int = 64
    temperatures: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0)
    pool: int = 2000
    mean_level: float = 1.0
    pair_cos: float = 0.9
    n_iter: int = 200
    tol: float = 1e-6
    seed: int = 0


@dataclass(frozen=True)
class DeepResult:
    """Quartiles over trials (last axis 3 = 25/50/75 %) per temperature, variant and layer.

    Shapes: ``nT = len(temperatures)``, ``V = len(VARIANTS)``, ``L = depth``.
    """

    config: DeepConfig
    variants: tuple[tuple[str, str, str], ...]
    sigma2_q: NDArray[np.float64]  # (nT, 3) of the pool
    n_unconverged: NDArray[np.int64]  # (nT,) pool matrices missing tol
    angle0_q: NDArray[np.float64]  # (nT, V, L+1, 3) angle(x_l, x_0), radians
    pair_q: NDArray[np.float64]  # (nT, V, L+1, 3) angle(x_l, x_l'), radians (0 if not PAIRED)
    lognorm_q: NDArray[np.float64]  # (nT, V, L+1, 3) ln(||x_l|| / ||x_0||)
    meanfrac_q: NDArray[np.float64]  # (nT, V, L+1, 3) |mean| sqrt(n) / ||x_l||
    detail_q: NDArray[np.float64]  # (nT, V, L+1, 3) ||P x_l|| / ||P x_0||
    rel_update_q: NDArray[np.float64]  # (nT, V, L, 3) ||phi(M x_l)|| / ||x_l||
    bound_ratio_q: NDArray[np.float64]  # (nT, V, L, 3) ||phi(M x_l)|| / (sigma2(M_l) ||x_l||)
    violation: NDArray[np.float64]  # (nT, V, L) fraction of trials with ratio > 1 + 1e-9
    checkpoints: tuple[int, ...]  # depths with per-trial angles
    angle0_at: NDArray[np.float64]  # (nT, V, len(checkpoints), R)


@disk_cached
def deep_experiment(config: DeepConfig = DeepConfig()) -> DeepResult:
    """Run every variant of :data:`VARIANTS` at every temperature (see module docstring)."""
    c = config
    rng = np.random.default_rng(c.seed)
    x, x2 = make_inputs(c.n, c.trials, 1.0, c.pair_cos, rng)
    V = len(VARIANTS)
    cols, partner, phis, skip, ln, cen = [], [], [], [], [], []
    pair_cols = []
    for v, (arch, phi, inp) in enumerate(VARIANTS):
        mu = 0.0 if inp == "perp" else c.mean_level
        cols.append(x - 1.0 + mu)
        partner.append(v)
        phis.append(phi)
        skip.append(ARCHS[arch][0])
        ln.append(ARCHS[arch][1])
        cen.append(ARCHS[arch][2])
        if (arch, phi, inp) in PAIRED:
            pair_cols.append((v, x2 - 1.0 + mu))
    for v, col in pair_cols:
        partner[v] = len(cols)
        partner.append(v)
        cols.append(col)
        phis.append(phis[v])
        skip.append(skip[v])
        ln.append(ln[v])
        cen.append(cen[v])
    X0 = np.stack(cols, axis=-1)  # (R, n, 2V)
    ck = tuple(sorted({c.depth // 4, c.depth // 2, c.depth}))
    nT, L = len(c.temperatures), c.depth
    out = {k: np.empty((nT, V, L + 1, 3)) for k in ("angle0", "pair", "lognorm", "meanfrac", "detail")}
    rel_update_q = np.empty((nT, V, L, 3))
    bound_q = np.empty((nT, V, L, 3))
    viol = np.empty((nT, V, L))
    s2q = np.empty((nT, 3))
    n_unc = np.empty(nT, dtype=np.int64)
    angle0_at = np.empty((nT, V, len(ck), c.trials))
    for t, T in enumerate(c.temperatures):
        pool, info = random_dsm(
            c.n, T, size=c.pool, rng=rng, n_iter=c.n_iter, tol=c.tol, return_info=True, warn=False
        )
        s2 = sigma2(pool)
        s2q[t] = np.percentile(s2, _Q)
        n_unc[t] = info.n_failed
        idx = _pool_index(rng, c.trials, c.pool, L)
        tr = forward(pool, idx, X0, phi=tuple(phis), skip=np.array(skip), layer_norm=np.array(ln),
                     center=np.array(cen), partner=np.array(partner))
        p = slice(0, V)  # primary columns
        ang0 = np.arccos(tr.cos0[:, :, p])  # (L+1, R, V)
        angp = np.arccos(tr.cos_pair[:, :, p])
        norm = tr.norm[:, :, p]
        q = lambda a: np.moveaxis(np.percentile(a, _Q, axis=1), 0, -1).transpose(1, 0, 2)  # noqa: E731
        out["angle0"][t] = q(ang0)
        out["pair"][t] = q(angp)
        out["lognorm"][t] = q(np.log(norm / norm[0]))
        out["meanfrac"][t] = q(tr.mean[:, :, p] / norm)
        det = tr.detail[:, :, p]
        out["detail"][t] = q(det / det[0])
        rel = tr.update[:, :, p] / norm[:-1]
        ratio = rel / s2[idx].T[:, :, None]
        rel_update_q[t] = q(rel)
        bound_q[t] = q(ratio)
        viol[t] = (ratio > 1 + 1e-9).mean(axis=1).T
        angle0_at[t] = ang0[list(ck)].transpose(2, 0, 1)
    return DeepResult(
        c, VARIANTS, s2q, n_unc, out["angle0"], out["pair"], out["lognorm"], out["meanfrac"],
        out["detail"], rel_update_q, bound_q, viol, ck, angle0_at,
    )


def effective_depth(sigma2_value: float | NDArray[np.float64], eps: float = 0.01) -> NDArray[np.float64]:
    r"""HT Theorem 2: :math:`D_{\mathrm{eff}}(\epsilon) = \ln(1/\epsilon)/(-\ln\sigma_2)`."""
    s = np.asarray(sigma2_value, dtype=np.float64)
    if np.any((s <= 0) | (s >= 1)) or not (0 < eps < 1):
        raise ValueError("need 0 < sigma2 < 1 and 0 < eps < 1")
    return np.log(1 / eps) / -np.log(s)


def measured_depth(detail_median: NDArray[np.float64], eps: float = 0.01) -> float:
    """First layer at which the median detail ratio is below ``eps`` (inf if never)."""
    below = np.flatnonzero(np.asarray(detail_median) < eps)
    return float(below[0]) if below.size else float("inf")


def saturation_table(result: DeepResult, variants=None, seed: int = 1) -> list[dict]:
    """Growth ratio, its bootstrap CI, the final median angle and a state for every (T, variant).

    State: ``decorrelated`` if the median angle at ``L`` exceeds 80 degrees (the features
    have turned as far as random directions), else ``growing`` / ``plateau`` if the 95% CI
    of the growth ratio lies above / below :data:`SATURATION_THRESHOLD`, else ``undecided``.
    """
    rng = np.random.default_rng(seed)
    ck = result.checkpoints
    ih, iL = ck.index(result.config.depth // 2), ck.index(result.config.depth)
    rows = []
    for t, T in enumerate(result.config.temperatures):
        for v, (arch, phi, inp) in enumerate(result.variants):
            if variants is not None and (arch, phi, inp) not in variants:
                continue
            th, tf = result.angle0_at[t, v, ih], result.angle0_at[t, v, iL]
            g = growth_ratio(th, tf)
            lo, hi = _boot_growth(th, tf, rng)
            theta_L = float(np.median(tf))
            if theta_L > np.radians(80):
                state = "decorrelated"
            elif lo > SATURATION_THRESHOLD:
                state = "growing"
            elif hi < SATURATION_THRESHOLD:
                state = "plateau"
            else:
                state = "undecided"
            rows.append(dict(T=T, sigma2=float(result.sigma2_q[t, 1]), arch=arch, phi=phi, input=inp,
                             growth=g, lo=lo, hi=hi, state=state,
                             theta_half=float(np.median(th)), theta_L=theta_L))
    return rows


#: high-entropy regime of the claims: median sigma_2 of the pool at most this
HIGH_ENTROPY_SIGMA2 = 0.5
#: skip networks whose stream stays in V_perp (where the proof step of Prop. 1 applies)
PERP_SKIP = (("skip+C", "identity", "perp"), ("skip+LN", "identity", "perp"), ("skip+LN", "relu", "perp"))


def _hi(result: DeepResult) -> NDArray[np.bool_]:
    return result.sigma2_q[:, 1] <= HIGH_ENTROPY_SIGMA2


@register("HT-P1", experiment=deep_experiment)
def check_ht_p1(result: DeepResult) -> Verdict:
    """Is ||phi(M x)|| <= sigma2 ||x|| true for the inputs the block sees, and does the stream stagnate?"""
    c = result.config
    vs = result.variants
    viol = result.violation
    hi = _hi(result)
    perp = [k for k, v in enumerate(vs) if v[2] == "perp"]
    stream = [vs.index(v) for v in (("skip+C", "identity", "perp"), ("skip+LN", "identity", "perp"),
                                     ("skip+LN", "relu", "perp"), ("noskip+LN", "identity", "perp"))]
    v_first = float(viol[:, perp, 0].max())  # the step on mean-free inputs
    v_stream = float(viol[:, stream].max())  # ... along streams kept in V_perp
    mean_cases = [k for k, v in enumerate(vs) if v[2] == "mean"]
    v_mean = float(viol[np.ix_(hi, mean_cases, [0])].min())
    r = vs.index(("skip", "relu", "perp"))
    mf1 = float(result.meanfrac_q[hi, r, 1, 1].min())
    v_relu_deep = float(viol[hi, r, -1].min())
    m = vs.index(("skip", "identity", "mean"))
    rel_mean = float(result.rel_update_q[hi, m, -1, 1].min())
    growth_mean = float(np.exp(result.lognorm_q[hi, m, -1, 1].min() / c.depth))
    u = vs.index(("skip", "identity", "perp"))
    n_round = int((result.meanfrac_q[:, u, -1, 1] > 0.1).sum())
    rel_perp = float(result.rel_update_q[hi, vs.index(("skip+C", "identity", "perp")), :, 1].max())
    rows = saturation_table(result, variants=(("skip+C", "identity", "perp"),))
    rows = [row for row in rows if row["sigma2"] <= HIGH_ENTROPY_SIGMA2]
    turning = [row for row in rows if row["state"] in ("growing", "decorrelated")]
    ev = (
        f"The bound is violated in {_pct(v_first)}% of trials at layer 1 for mean-free inputs and in "
        f"{_pct(v_stream)}% of (trial, layer) pairs along streams kept mean-free (re-centred or LN); "
        f"for inputs with a mean (sigma2 <= {HIGH_ENTROPY_SIGMA2}) in {_pct(v_mean)}% (minimum) at layer 1. "
        f"ReLU without LN gives a mean-free input a mean fraction >= {_sig(mf1)} after one layer and violates "
        f"the bound at layer {c.depth} in {_pct(v_relu_deep)}% (minimum) of trials. With a mean, identity+skip "
        f"has relative update {_sig(rel_mean)} at layer {c.depth} and norm x{_sig(growth_mean, 3)} per layer; "
        f"without re-centring even the rounding-level mean of a mean-free input takes over (mean fraction "
        f"> 0.1 at L = {c.depth} at {n_round}/{len(c.temperatures)} temperatures). "
        f"Mean-free stream: relative update <= {_sig(rel_perp)} per layer, yet angle(x_L, x_0) "
        f"keeps turning at {len(turning)}/{len(rows)} high-entropy temperatures "
        f"(growth ratios {', '.join(_sig(row['growth']) for row in rows)})."
    )
    holds = (
        "||phi(Mx)|| <= sigma2(M)||x|| holds only for x in V_perp (1^T x = 0) and phi 1-Lipschitz with "
        "phi(0) = 0; a mean component passes M untouched (||Mx|| >= |mean| sqrt(n)) and a skip block doubles "
        "it. The stream stays in V_perp for odd phi (identity, in exact arithmetic) or with centring/LayerNorm "
        "after every block, not for ReLU alone. Where the step holds it makes each update small (<= sigma2), "
        "but small updates accumulate: angle(x_L, x_0) keeps growing with L, so conditions 1-3 are compatible."
    )
    if v_first > 0 or v_stream > 0:
        return verdict("HT-P1", "refuted", ev,
                       "The step ||phi(Mx)|| <= sigma2||x|| fails even on mean-free inputs.")
    if turning:
        return verdict("HT-P1", "refuted", ev, holds)
    if v_mean > 0.99 or (mf1 > 1e-3 and v_relu_deep > 0.5):
        return verdict("HT-P1", "qualified", ev, holds.split(" Where the step")[0]
                       + " There each update is <= sigma2 and the angle to x_0 stops growing.")
    return verdict("HT-P1", "confirmed", ev)


@register("HT-DEEP", experiment=deep_experiment)
def check_ht_deep(result: DeepResult) -> Verdict:
    """Does angle(x_L, x_0) stop growing with depth in high-entropy skip networks?"""
    rows = [row for row in saturation_table(result, variants=PERP_SKIP) if row["sigma2"] <= HIGH_ENTROPY_SIGMA2]
    n = len(rows)
    k = result.variants.index(("skip+C", "identity", "perp"))
    L = result.config.depth
    u = result.rel_update_q[:, k, :, 1].mean(axis=1)  # typical per-layer relative update
    walk = result.angle0_q[:, k, L, 1] / (u * np.sqrt(L))
    strong = result.sigma2_q[:, 1] <= 0.25
    count = {k: sum(r["state"] == k for r in rows) for k in ("growing", "decorrelated", "plateau", "undecided")}
    g = [r["growth"] for r in rows]
    th = [np.degrees(r["theta_L"]) for r in rows]
    ev = (
        f"Skip networks with a mean-free stream (identity re-centred; identity/ReLU with LN), {n} cases at "
        f"sigma2 <= {HIGH_ENTROPY_SIGMA2}: growth ratio (theta_L - theta_L/2)/theta_L/2 of the median "
        f"angle(x_L, x_0) {_sig(min(g))}..{_sig(max(g))} (sqrt(L) growth: 0.41; plateau: 0; threshold "
        f"{SATURATION_THRESHOLD} with 95% bootstrap CI over trials). Still growing: {count['growing']}, "
        f"decorrelated (> 80 deg): {count['decorrelated']}, plateau: {count['plateau']}, undecided: "
        f"{count['undecided']}; median angle at L = {L}: {_sig(min(th))}..{_sig(max(th))} deg. Random-walk "
        f"check (identity, sigma2 <= 0.25): theta_L / (u sqrt(L)) = {', '.join(_sig(w) for w in walk[strong])} "
        f"with u = median relative update = "
        f"{', '.join(_sig(x) for x in (u / result.sigma2_q[:, 1])[strong])} sigma2."
    )
    if count["plateau"] == n:
        return verdict("HT-DEEP", "confirmed", ev)
    turning = count["growing"] + count["decorrelated"]
    if count["plateau"] == 0 and turning >= n - count["undecided"] and count["growing"] > 0:
        return verdict(
            "HT-DEEP", "refuted", ev,
            "Per-layer updates are small (<= sigma2), but the angular change keeps growing, close to a random "
            "walk theta_L ~ u sqrt(L) with u ~ sigma2/2 the per-layer relative update, until the features are "
            "decorrelated from the input: depth is not wasted, but reaching an angle theta takes ~ (theta/u)^2 "
            "layers.",
        )
    plateaus = [r for r in rows if r["state"] == "plateau"]
    return verdict("HT-DEEP", "qualified", ev,
                   "Angular change stops growing only in: "
                   + (", ".join(f"{r['arch']}/{r['phi']} at T = {r['T']:g}" for r in plateaus)
                      or "none of the cases")
                   + "; elsewhere it keeps growing.")


# ----------------------------------------------------------------------------- escape routes
@dataclass(frozen=True)
class EscapeConfig:
    """Escape routes of HT Sec. 6 at one high-entropy temperature."""

    n: int = 64
    trials: int = 1000
    depth: int = 64
    temperature: float = 0.3
    pool: int = 2000
    seed: int = 2


MIXINGS = ("DSM", "DSM, alpha=1/sigma2", "Gaussian", "row-softmax")
#: (phi, normalisation) of the escape networks: both keep the stream mean-free
ESC_COLS = (("identity", "C"), ("relu", "LN"))


@dataclass(frozen=True)
class EscapeResult:
    config: EscapeConfig
    mixings: tuple[str, ...]
    cols: tuple[tuple[str, str], ...]
    alpha: float
    angle0_q: NDArray[np.float64]  # (nMix, nCol, L+1, 3)
    lognorm_q: NDArray[np.float64]  # (nMix, nCol, L+1, 3)


@disk_cached
def escape_experiment(config: EscapeConfig = EscapeConfig()) -> EscapeResult:
    """Skip networks x + alpha phi(M x) with DSM, scaled DSM, Gaussian and row-softmax mixing."""
    c = config
    rng = np.random.default_rng(c.seed)
    x, _ = make_inputs(c.n, c.trials, 0.0, 0.9, rng)
    d = rng.random((c.pool, c.n, c.n))  # Algorithm 1 costs, shared by DSM and row-softmax
    dsm = sinkhorn(-d / c.temperature, warn=False)
    alpha = float(1.0 / np.median(sigma2(dsm)))
    pools = {"Gaussian": gaussian_mixing(c.n, c.pool, rng), "row-softmax": row_softmax(-d / c.temperature)}
    nc = len(ESC_COLS)
    idx = _pool_index(rng, c.trials, c.pool, c.depth)
    L = c.depth
    ang = np.empty((len(MIXINGS), nc, L + 1, 3))
    lnn = np.empty_like(ang)
    phis = tuple(p for p, _ in ESC_COLS)
    lnf = np.array([k == "LN" for _, k in ESC_COLS])
    runs = [(("DSM", "DSM, alpha=1/sigma2"), dsm, (1.0, alpha)), (("Gaussian",), pools["Gaussian"], (1.0,)),
            (("row-softmax",), pools["row-softmax"], (1.0,))]
    for names, pool, alphas in runs:  # mixings sharing a pool share one forward pass
        m = len(names)
        X0 = np.repeat(x[:, :, None], nc * m, axis=2)
        tr = forward(pool, idx, X0, phi=phis * m, skip=True, layer_norm=np.tile(lnf, m),
                     center=np.tile(~lnf, m), alpha=np.repeat(alphas, nc))
        a = np.arccos(tr.cos0)
        g = np.log(tr.norm / tr.norm[0])
        qa = np.percentile(a, _Q, axis=1).transpose(2, 1, 0)  # (m * nc, L+1, 3)
        qg = np.percentile(g, _Q, axis=1).transpose(2, 1, 0)
        for j, name in enumerate(names):
            k = MIXINGS.index(name)
            ang[k] = qa[j * nc:(j + 1) * nc]
            lnn[k] = qg[j * nc:(j + 1) * nc]
    return EscapeResult(c, MIXINGS, ESC_COLS, alpha, ang, lnn)


# ----------------------------------------------------------------------------- RC paths
@dataclass(frozen=True)
class PathConfig:
    """RC Sec. 4.1 / App. G path products of random stochastic matrices."""

    n: int = 64
    depths: tuple[int, ...] = (1, 2, 4, 6, 8, 12, 16, 20)
    paths: int = 100
    scale: float = 2.0  # std of the Gaussian scores (inverse temperature)
    seed: int = 3


@dataclass(frozen=True)
class PathResult:
    config: PathConfig
    methods: tuple[str, ...]
    noskip: NDArray[np.float64]  # (nM, nD, paths) sigma2/sigma1 of the full product
    skip: NDArray[np.float64]  # (nM, nD, paths) same factors, each skipped w.p. 1/2
    lazy: NDArray[np.float64]  # (nM, nD, paths) prod (I + P_l)/2, the whole skip network
    lengths: NDArray[np.int64]  # (nM, nD, paths) number of kept factors


@disk_cached
def path_experiment(config: PathConfig = PathConfig()) -> PathResult:
    """Rank-one residual of path products with and without skipped layers.

    Each of the ``paths`` chains draws ``max(depths)`` independent score matrices and skip
    flags once; the path of depth ``t`` is its first ``t`` factors (so the 100 paths of
    one depth are independent, while depths share prefixes). Sinkhorn and Softmax use the
    same scores.
    """
    c = config
    rng = np.random.default_rng(c.seed)
    methods = ("sinkhorn", "softmax")
    nD = len(c.depths)
    out = {k: np.empty((2, nD, c.paths)) for k in ("noskip", "skip", "lazy")}
    lengths = np.empty((2, nD, c.paths), dtype=np.int64)
    tmax = max(c.depths)
    S = c.scale * rng.standard_normal((c.paths, tmax, c.n, c.n))
    keep = rng.random((c.paths, tmax)) < 0.5
    for m, meth in enumerate(methods):
        A = sinkhorn(S, warn=False) if meth == "sinkhorn" else row_softmax(S)
        for j, t in enumerate(c.depths):
            k = keep[:, :t]
            out["noskip"][m, j] = rank_one_residual(path_products(A[:, :t], np.ones_like(k)))
            out["skip"][m, j] = rank_one_residual(path_products(A[:, :t], k))
            out["lazy"][m, j] = rank_one_residual(path_products((A[:, :t] + np.eye(c.n)) / 2, np.ones_like(k)))
            lengths[m, j] = k.sum(axis=1)
    return PathResult(c, methods, out["noskip"], out["skip"], out["lazy"], lengths)


#: residuals below this are at the float64 floor and not compared
RESIDUAL_FLOOR = 1e-12


def skip_tests(result: PathResult, method: str = "sinkhorn") -> list[dict]:
    """One-sided Mann-Whitney (skip > no skip) per depth, Bonferroni over testable depths."""
    m = result.methods.index(method)
    rows = []
    for j, t in enumerate(result.config.depths):
        a, b = result.skip[m, j], result.noskip[m, j]
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


@register("RC-SKIP", experiment=path_experiment)
def check_rc_skip(result: PathResult) -> Verdict:
    """Skips shorten paths (Binomial(t, 1/2)) and slow rank decay (Mann-Whitney per depth)."""
    rows = skip_tests(result, "sinkhorn")
    test = [r for r in rows if r["testable"]]
    sig = [r for r in test if r["p_bonf"] < 0.01]
    rev = [r for r in test if r["p_less_bonf"] < 0.01]
    m = result.methods.index("sinkhorn")
    t = np.asarray(result.config.depths, dtype=float)
    mean_len = result.lengths[m].mean(axis=1)
    se = np.sqrt(t / 4 / result.config.paths)
    len_ok = bool(np.all(np.abs(mean_len - t / 2) <= 4 * se + 1e-12))
    r_no, r_sk = decay_rates(result, "sinkhorn")
    ev = (
        f"Sinkhorn, {result.config.paths} paths per depth: skip residual > no-skip residual (one-sided "
        f"Mann-Whitney, Bonferroni, p < 0.01) at {len(sig)}/{len(test)} testable depths "
        f"(t = {test[0]['t']}..{test[-1]['t']}), reversed at {len(rev)}; mean path length / t = "
        f"{_sig(mean_len.sum() / t.sum())} (Binomial(t, 1/2): 0.5); decay rate of ln median residual "
        f"{_sig(r_no)} per layer without, {_sig(r_sk)} with skips (ratio {_sig(r_sk / r_no)})."
    )
    if len(sig) == len(test) and len_ok:
        return verdict("RC-SKIP", "confirmed", ev)
    if rev:
        return verdict("RC-SKIP", "refuted", ev,
                       "With skips the path products are closer to rank one at some depths.")
    return verdict("RC-SKIP", "qualified", ev,
                   "Skips slow rank decay only at some depths or path lengths are not Binomial(t, 1/2).")


# ----------------------------------------------------------------------------- figures
_LABELS = {
    ("skip", "identity", "perp"): "skip, id, mean-free",
    ("skip", "identity", "mean"): "skip, id, with mean",
    ("skip", "relu", "perp"): "skip, ReLU, mean-free",
    ("skip", "relu", "mean"): "skip, ReLU, with mean",
    ("skip+C", "identity", "perp"): "skip+centring, id",
    ("skip+LN", "identity", "perp"): "skip+LN, id",
    ("skip+LN", "relu", "perp"): "skip+LN, ReLU",
    ("noskip", "identity", "mean"): "no skip, id, with mean",
    ("noskip", "relu", "perp"): "no skip, ReLU, mean-free",
    ("noskip+LN", "identity", "perp"): "no skip+LN, id",
}


def proof_step_figure(result: DeepResult, t: int):
    """Bound ratio, mean fraction and norm growth per layer at temperature index ``t``."""
    import matplotlib.pyplot as plt

    from ..plotting import band

    show = [("skip+LN", "relu", "perp"), ("skip+C", "identity", "perp"), ("skip", "relu", "perp"),
            ("skip", "identity", "perp"), ("skip", "identity", "mean")]
    colors = plt.get_cmap("tab10").colors
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    L = result.config.depth
    for j, v in enumerate(show):
        k = result.variants.index(v)
        kw = dict(color=colors[j], label=_LABELS[v])
        ax[0].plot(np.arange(L), result.bound_ratio_q[t, k, :, 1], **kw)
        ax[0].fill_between(np.arange(L), result.bound_ratio_q[t, k, :, 0], result.bound_ratio_q[t, k, :, 2],
                           color=colors[j], alpha=0.2, lw=0)
        ax[1].plot(np.arange(L + 1), np.maximum(result.meanfrac_q[t, k, :, 1], 1e-17), **kw)
        ax[2].plot(np.arange(L + 1), result.lognorm_q[t, k, :, 1] / np.log(10), **kw)
    ax[0].axhline(1, color="k", lw=1, ls="--")
    ax[0].set(yscale="log", xlabel=r"layer $\ell$",
              ylabel=r"$\|\phi(M_\ell x_\ell)\| / (\sigma_2(M_\ell)\|x_\ell\|)$",
              title="proof step: bound holds below the dashed line")
    ax[1].set(yscale="log", xlabel=r"layer $\ell$", ylabel=r"$|\bar x_\ell|\sqrt{n} / \|x_\ell\|$",
              title="mean fraction")
    ax[2].set(xlabel=r"layer $\ell$", ylabel=r"$\log_{10}\|x_\ell\|/\|x_0\|$", title="norm growth")
    ax[0].legend(fontsize=7)
    del band
    return fig


def angle_figure(result: DeepResult, phi: str = "identity"):
    """Median angle(x_l, x_0) and angle between two inputs vs depth, every temperature."""
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("viridis")
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    L = result.config.depth
    ls = np.arange(L + 1)
    arch = "skip+C" if phi == "identity" else "skip+LN"
    k = result.variants.index((arch, phi, "perp"))
    kn = result.variants.index(("noskip+LN", "identity", "perp"))
    nT = len(result.config.temperatures)
    for t, T in enumerate(result.config.temperatures):
        col = cmap(t / max(1, nT - 1))
        lab = rf"$T={T:g}$, $\tilde\sigma_2={result.sigma2_q[t, 1]:.2f}$"
        ax[0].plot(ls, np.degrees(result.angle0_q[t, k, :, 1]), color=col, label=lab)
        ax[0].fill_between(ls, np.degrees(result.angle0_q[t, k, :, 0]), np.degrees(result.angle0_q[t, k, :, 2]),
                           color=col, alpha=0.2, lw=0)
        u = result.rel_update_q[t, k, :, 1].mean()
        ax[0].plot(ls, np.degrees(np.minimum(u * np.sqrt(ls), np.pi / 2)), color=col, ls=":", lw=1)
        ax[1].plot(ls, np.degrees(result.pair_q[t, k, :, 1]), color=col, label=lab)
    ax[0].plot(ls, np.degrees(result.angle0_q[0, kn, :, 1]), color="k", ls="--", lw=1, label="no skip + LN, id")
    for t in range(nT):
        ax[1].plot(ls, np.degrees(result.pair_q[t, kn, :, 1]), color=cmap(t / max(1, nT - 1)), ls="--", lw=1)
    ax[0].set(xlabel=r"depth $L$", ylabel=r"$\angle(x_L, x_0)$ [deg]", ylim=(0, 95),
              title=f"{_LABELS[(arch, phi, 'perp')]}: dotted = random walk $u\\sqrt{{L}}$")
    ax[1].set(xlabel=r"depth $L$", ylabel=r"$\angle(x_L, x_L')$ [deg]", ylim=(0, 95),
              title="two inputs (25.8 deg at L = 0); dashed: no skip + LN, id")
    ax[0].legend(fontsize=7, loc="lower right")
    return fig


def escape_figure(result: EscapeResult):
    """Angle to the input (ReLU + LN) and norm growth (identity, centred) for each mixing."""
    import matplotlib.pyplot as plt

    colors = plt.get_cmap("tab10").colors
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    L = result.config.depth
    ls = np.arange(L + 1)
    for k, name in enumerate(result.mixings):
        lab = name.replace("alpha=1/sigma2", rf"$\alpha=1/\tilde\sigma_2={result.alpha:.1f}$")
        ax[0].plot(ls, np.degrees(result.angle0_q[k, 1, :, 1]), color=colors[k], label=lab)
        ax[1].plot(ls, result.lognorm_q[k, 0, :, 1] / np.log(10), color=colors[k], label=lab)
    ax[0].set(xlabel=r"depth $L$", ylabel=r"$\angle(x_L, x_0)$ [deg]", title="ReLU + LN: angular change")
    ax[1].set(xlabel=r"depth $L$", ylabel=r"$\log_{10}\|x_L\|/\|x_0\|$", title="identity, centred: norm growth")
    ax[0].legend(fontsize=8)
    return fig


def path_figure(result: PathResult):
    """Rank-one residual of path products vs depth (log boxplots) and path-length histogram."""
    import matplotlib.pyplot as plt

    from ..plotting import COLORS, log_boxplot

    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    t = np.asarray(result.config.depths)
    for m, meth in enumerate(result.methods):
        a = ax[m]
        log_boxplot(a, t, list(result.noskip[m]), color=COLORS["noskip"], label="no skip (all t factors)",
                    offset=-0.3, width=0.5)
        log_boxplot(a, t, list(result.skip[m]), color=COLORS["skip"], label="skip (each factor w.p. 1/2)",
                    offset=0.3, width=0.5)
        a.plot(t, np.median(result.lazy[m], axis=1), color=COLORS["theory"], marker="o", ms=3,
               label=r"$\prod (I+P_\ell)/2$ (median)")
        a.axhline(RESIDUAL_FLOOR, color="k", lw=0.8, ls=":")
        a.set(yscale="log", xlabel="path depth t", ylabel=r"$\sigma_2(P_t)/\sigma_1(P_t)$", title=meth)
        a.set_xticks(t)
        a.set_xticklabels([str(x) for x in t])
    ax[0].legend(fontsize=7, loc="lower left")
    j = len(t) - 1
    k = result.lengths[0, j]
    ax[2].hist(k, bins=np.arange(t[j] + 2) - 0.5, density=True, color=COLORS["skip"], alpha=0.6, label="sampled")
    from scipy.stats import binom

    kk = np.arange(t[j] + 1)
    ax[2].plot(kk, binom.pmf(kk, t[j], 0.5), "k.-", label=f"Binomial({t[j]}, 1/2)")
    ax[2].set(xlabel="kept factors (path length)", ylabel="frequency", title=f"path lengths at t = {t[j]}")
    ax[2].legend(fontsize=8)
    return fig


def explore_network(T: float = 0.3, depth: int = 64, skip: bool = True, phi: str = "identity",
                    norm: str = "LN", trials: int = 200, seed: int = 0):
    """Small live version of :func:`deep_experiment` for the explorer: angle and norm vs depth."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    n = 64
    x, _ = make_inputs(n, trials, 0.0 if norm != "mean" else 1.0, 0.9, rng)
    pool = random_dsm(n, T, size=max(2 * depth, 128), rng=rng, warn=False)
    idx = _pool_index(rng, trials, pool.shape[0], depth)
    tr = forward(pool, idx, x[:, :, None], phi=phi, skip=skip, layer_norm=norm == "LN", center=norm == "centre")
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.6))
    ls = np.arange(depth + 1)
    a = np.degrees(np.arccos(tr.cos0[:, :, 0]))
    ax[0].plot(ls, np.median(a, axis=1))
    ax[0].fill_between(ls, *np.percentile(a, [25, 75], axis=1), alpha=0.25, lw=0)
    ax[0].set(xlabel="depth L", ylabel="angle(x_L, x_0) [deg]", ylim=(0, 95),
              title=f"T={T:g}, median sigma2={np.median(sigma2(pool)):.2f}")
    ax[1].plot(ls, np.median(np.log10(tr.norm[:, :, 0] / tr.norm[0, :, 0]), axis=1))
    ax[1].set(xlabel="depth L", ylabel="log10 ||x_L||/||x_0||",
              title=f"{'skip' if skip else 'no skip'}, {phi}, {norm}")
    return fig
