"""Chapter 4, the deep residual networks of HT Prop. 1 (HT-P1) and the escape routes (other mixings)."""

from __future__ import annotations

from ...._validate import TemperatureChecked
from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from .... import row_softmax, sigma2, sinkhorn
from ....cache import disk_cached
from ....residual import forward, gaussian_mixing

from .common import (
    ARCHS,
    PAIRED,
    SATURATION_THRESHOLD,
    VARIANTS,
    _Q,
    _boot_growth,
    _pool_index,
    growth_ratio,
    make_inputs,
)
from ....algorithm1 import algorithm1_batch

__all__ = [
    "DeepConfig",
    "DeepResult",
    "ESC_COLS",
    "EscapeConfig",
    "EscapeResult",
    "HIGH_ENTROPY_SIGMA2",
    "MIXINGS",
    "PERP_SKIP",
    "deep_experiment",
    "effective_depth",
    "escape_experiment",
    "measured_depth",
    "saturation_table",
]


# ----------------------------------------------------------------------------- deep networks
@dataclass(frozen=True)
class DeepConfig(TemperatureChecked):
    """Deep DSM networks (HT Sec. 4) at the paper's sizes."""

    n: int = 64
    trials: int = 1000
    depth: int = 64
    temperatures: tuple[float, ...] = (0.1, 0.3, 1.0)
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
        pool, n_unc[t] = algorithm1_batch(c.n, T, c.pool, rng, n_iter=c.n_iter, tol=c.tol)
        s2 = sigma2(pool)
        s2q[t] = np.percentile(s2, _Q)
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


# ----------------------------------------------------------------------------- escape routes
@dataclass(frozen=True)
class EscapeConfig(TemperatureChecked):
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
