"""Chapter 3, the pre-registered equivalence test of Exp. 2 (HT-E2)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from scipy import stats
from .... import layer_norm, random_dsm, sigma2
from ....cache import disk_cached
from ....noise import gaussian_noise, snr

from .common import SEEDS, dsm_batch, unit_detail
from .proof import (
    E2_ALPHA,
    E2_DIST_MARGIN,
    E2_DIST_MARGIN_COHERENT,
    E2_DSMS,
    E2_MEAN_MARGIN,
    E2_PAIRS,
    E2_SD_MARGIN,
    E2_T_HIGH,
    E2_T_LOW,
)

__all__ = ["E2Config", "E2Result", "_cluster_mean", "_pairs", "e2_prereg_experiment", "e2_stats"]


@dataclass(frozen=True)
class E2Config:
    """Pre-registered Exp. 2 design (defaults are the registration)."""

    n: int = 64
    nu: float = 0.1
    input_cos: float = 0.95
    t_low: tuple[float, ...] = E2_T_LOW
    t_high: float = E2_T_HIGH
    seeds: tuple[int, ...] = SEEDS
    dsms_per_seed: int = E2_DSMS // len(SEEDS)
    pairs_per_dsm: int = E2_PAIRS
    high_per_seed: int = 100
    seed: int = 40


@dataclass(frozen=True)
class E2Result:
    r"""Output cosines, grouped by DSM.

    Attributes
    ----------
    cos_low, gamma_low : ndarray, shape (n_low, n_dsm, pairs)
        Output cosines and the exact :math:`\gamma = \|s\|/\mathbb E\|\mathcal P_\perp\xi\|`.
    cos_high, gamma_high : ndarray, shape (n_dsm_high, pairs)
    sigma2_low : ndarray, shape (n_low, n_dsm)
        :math:`\sigma_2` of each DSM: Eq. 4's computable :math:`\gamma \approx \sigma_2\lVert x_\perp\rVert/\nu`
        is ``sigma2_low / nu`` (unit :math:`x_\perp`).
    """

    config: E2Config
    cos_low: NDArray[np.float64]
    gamma_low: NDArray[np.float64]
    cos_high: NDArray[np.float64]
    gamma_high: NDArray[np.float64]
    sigma2_low: NDArray[np.float64]


def _pairs(M: NDArray, c: E2Config, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    """``pairs_per_dsm`` independent input pairs for every DSM of M (R, n, n) -> cosines, gammas (R, pairs).

    The construction of :func:`collapse_pairs` (unit x_perp, x'_perp at cosine ``input_cos``,
    noise, LN), batched over the pairs of each DSM without copying M.
    """
    R, n = M.shape[0], M.shape[-1]
    shape = (R, c.pairs_per_dsm)
    x = unit_detail(rng, shape, n)
    z = unit_detail(rng, shape, n)
    z -= np.einsum("rpi,rpi->rp", z, x)[..., None] * x
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    x2 = c.input_cos * x + np.sqrt(1 - c.input_cos**2) * z
    s, s2 = np.einsum("rij,rpj->rpi", M, x), np.einsum("rij,rpj->rpi", M, x2)
    y = layer_norm(s + gaussian_noise(n, c.nu, size=shape, rng=rng))
    y2 = layer_norm(s2 + gaussian_noise(n, c.nu, size=shape, rng=rng))
    return np.einsum("rpi,rpi->rp", y, y2) / n, snr(s, c.nu)


@disk_cached
def e2_prereg_experiment(config: E2Config = E2Config()) -> E2Result:
    """Fresh DSMs per seed block (generated and discarded block by block), ``pairs_per_dsm`` pairs each."""
    c = config
    if c.pairs_per_dsm < 1 or c.dsms_per_seed < 2 or not c.t_low:
        raise ValueError(f"need pairs_per_dsm >= 1, dsms_per_seed >= 2 and some t_low, got {c}")
    rng = np.random.default_rng(c.seed)
    D = len(c.seeds) * c.dsms_per_seed
    cos = np.empty((len(c.t_low), D, c.pairs_per_dsm))
    gam = np.empty_like(cos)
    s2 = np.empty((len(c.t_low), D))
    for i, T in enumerate(c.t_low):
        for j, s in enumerate(c.seeds):  # one seed block (dsms_per_seed DSMs) in memory at a time
            M = random_dsm(c.n, T, size=c.dsms_per_seed, rng=np.random.default_rng([s, 1000 + i]), warn=False)
            sl = slice(j * c.dsms_per_seed, (j + 1) * c.dsms_per_seed)
            cos[i, sl], gam[i, sl] = _pairs(M, c, rng)
            s2[i, sl] = sigma2(M)
    ch, gh = _pairs(dsm_batch(c.n, c.t_high, c.seeds, c.high_per_seed), c, rng)
    return E2Result(c, cos, gam, ch, gh, s2)


def _cluster_mean(x: NDArray) -> tuple[float, float, float]:
    """Mean of x (n_cluster, per_cluster), its cluster-robust standard error and the design effect."""
    G, P = x.shape
    m = float(x.mean())
    tot = x.sum(axis=1) - P * m
    se = float(np.sqrt(np.sum(tot**2) * G / (G - 1)) / x.size)
    se_iid = float(x.std(ddof=1) / np.sqrt(x.size))
    return m, se, (se / se_iid) ** 2 if se_iid > 0 else 1.0


def e2_stats(cos: NDArray, n: int, alpha: float = E2_ALPHA, *, dist_margin: float = E2_DIST_MARGIN,
             band_at: str = "deff") -> dict[str, float]:
    """The equivalence statistics of one setting; ``cos`` has shape (n_dsm, pairs).

    Parameters
    ----------
    cos : ndarray, shape (n_dsm, pairs)
    n : int
    alpha : float
    dist_margin : float
        Kolmogorov-distance margin (first edition :data:`E2_DIST_MARGIN`; second edition
        :data:`E2_DIST_MARGIN_COHERENT`, the distance the mean margin allows).
    band_at : {'deff', 'dsms'}
        Effective sample size of the DKW band: ``R / deff`` (first edition) or the number of
        DSMs (second edition: conservative, pairs of one DSM share it).

    Returns
    -------
    dict with the mean and its ``1 - 2 alpha`` interval (``mean_lo``, ``mean_hi``), the
    sd ratio and its interval, ``deff`` (design effect), ``d_beta``, ``d_gauss`` (Kolmogorov
    distances), ``band`` (DKW half-width), ``d_mean`` (the distance a pure mean shift of the
    Gaussian would give), ``d_beta_gauss`` (distance between the two reference laws), KS and
    D'Agostino p-values, ``kurt`` and its SE, and the four booleans ``eq_mean``, ``eq_sd``,
    ``eq_beta``, ``eq_gauss``.
    """
    if band_at not in ("deff", "dsms"):
        raise ValueError(f"band_at must be 'deff' or 'dsms', got {band_at!r}")
    x = np.asarray(cos, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"cos must have shape (n_dsm >= 2, pairs), got {x.shape}")
    s0 = 1 / np.sqrt(n - 1)
    z = stats.norm.ppf(1 - alpha)
    m, se, deff = _cluster_mean(x)
    v, vse, _ = _cluster_mean((x - m) ** 2)
    R = x.size
    flat = x.ravel()
    a = (n - 2) / 2
    beta = stats.beta(a, a, loc=-1, scale=2)
    gauss = stats.norm(0.0, s0)
    ks_b, ks_g = stats.kstest(flat, beta.cdf), stats.kstest(flat, gauss.cdf)
    r_eff = R / max(deff, 1.0) if band_at == "deff" else float(x.shape[0])
    band = float(np.sqrt(np.log(2 / alpha) / (2 * r_eff)))
    t = np.linspace(-1, 1, 20001)
    d_bg = float(np.max(np.abs(beta.cdf(t) - gauss.cdf(t))))
    sd_lo = np.sqrt(max(v - z * vse, 0.0)) / s0
    sd_hi = np.sqrt(v + z * vse) / s0
    mm = E2_MEAN_MARGIN * s0
    return {
        "R": float(R), "mean": m, "mean_lo": m - z * se, "mean_hi": m + z * se, "mean_margin": mm,
        "sd_ratio": float(np.sqrt(v) / s0), "sd_lo": float(sd_lo), "sd_hi": float(sd_hi), "deff": deff,
        "d_beta": float(ks_b.statistic), "d_gauss": float(ks_g.statistic), "band": band, "d_beta_gauss": d_bg,
        "d_mean": float(2 * stats.norm.cdf(abs(m) / (2 * s0)) - 1), "dist_margin": float(dist_margin),
        "p_ks_beta": float(ks_b.pvalue), "p_ks_gauss": float(ks_g.pvalue), "p_normal": float(stats.normaltest(flat).pvalue),
        "kurt": float(stats.kurtosis(flat)), "kurt_se": float(np.sqrt(24 / R)), "kurt_beta": -6 / (n + 1),
        "eq_mean": bool(-mm < m - z * se and m + z * se < mm),
        "eq_sd": bool(1 - E2_SD_MARGIN < sd_lo and sd_hi < 1 + E2_SD_MARGIN),
        "eq_beta": bool(ks_b.statistic + band < dist_margin),
        "eq_gauss": bool(ks_g.statistic + band < dist_margin),
    }
